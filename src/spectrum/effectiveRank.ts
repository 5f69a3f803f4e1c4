/**
 * Effective-rank variants of a PSD spectrum (docs/science.md A4). All are scale-invariant and take eigenvalues
 * that are already clipped at the numerical tolerance (A0); negative entries are rejected because they
 * would make p_i = λ_i/Σλ meaningless.
 *
 * Ordering for a PSD matrix: 1 ≤ srank ≤ PR ≤ erank ≤ r_num.
 */

function checkValues(fn: string, values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${fn}: eigenvalue ${i} is ${v}; expected finite and ≥ 0 (clip at tol first)`);
    sum += v;
  }
  return sum;
}

/** Roy–Vetterli entropy effective rank exp(−Σ p_i ln p_i), p_i = λ_i/Σλ. NaN for an all-zero spectrum. */
export function entropyRank(values: ArrayLike<number>): number {
  const total = checkValues('entropyRank', values);
  if (total === 0) return NaN;
  let h = 0;
  for (let i = 0; i < values.length; i++) {
    const p = values[i] / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Participation ratio (Σλ)²/Σλ² from eigenvalues. */
export function participationRatio(values: ArrayLike<number>): number {
  checkValues('participationRatio', values);
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i];
    s2 += values[i] * values[i];
  }
  return s2 > 0 ? (s * s) / s2 : NaN;
}

/** Participation ratio from the matrix alone: (tr K)²/‖K‖_F² (no eigendecomposition; docs/science.md A4). */
export function participationRatioFromMatrix(trace: number, frobenius: number): number {
  return frobenius > 0 ? (trace * trace) / (frobenius * frobenius) : NaN;
}

/** Stable rank Σλ/λ_1 = tr K/λ_max. */
export function stableRank(trace: number, lambdaMax: number): number {
  return lambdaMax > 0 ? trace / lambdaMax : NaN;
}

/**
 * Ridge degrees of freedom d_δ = Σ λ_i/(λ_i + δ). Default δ = (Σλ/N)·1e-3 with N = values.length
 * (pass `size` when `values` is only part of the spectrum so that tr/N uses the full order).
 */
export function ridgeDof(values: ArrayLike<number>, delta?: number, size: number = values.length): number {
  const total = checkValues('ridgeDof', values);
  const d = delta ?? (total / size) * 1e-3;
  if (!(d > 0)) return NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] / (values[i] + d);
  return s;
}

/**
 * Bartlett-style tail ranks for a cut k (0 ≤ k < length): r_k = Σ_{i>k} λ_i / λ_{k+1},
 * R_k = (Σ_{i>k} λ_i)² / Σ_{i>k} λ_i² (1-based i; `values` descending). NaN where the tail is zero.
 */
export function tailRanks(values: ArrayLike<number>, k: number): { r: number; R: number } {
  checkValues('tailRanks', values);
  if (!Number.isInteger(k) || k < 0 || k >= values.length) {
    throw new RangeError(`tailRanks: k must be an integer in [0, ${values.length - 1}], got ${k}`);
  }
  let s = 0;
  let s2 = 0;
  for (let i = k; i < values.length; i++) {
    s += values[i];
    s2 += values[i] * values[i];
  }
  const head = values[k];
  return { r: head > 0 ? s / head : NaN, R: s2 > 0 ? (s * s) / s2 : NaN };
}
