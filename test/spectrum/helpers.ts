/** Seeded matrix generators shared by the spectrum tests (not a test file itself). */
import type { Rng } from '../../src/random.js';
import { normalArray } from '../../src/random.js';

/** Random symmetric n×n matrix (G + Gᵀ)/2 with standard normal G. */
export function randomSymmetric(rng: Rng, n: number): Float64Array {
  const g = normalArray(rng, n * n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (g[i * n + j] + g[j * n + i]);
  return a;
}

/**
 * Haar-distributed orthogonal n×n matrix: Gram–Schmidt (twice) on the columns of a Gaussian matrix,
 * which is the QR factor with a positive diagonal of R. Returned with columns stored as ROWS (row j = q_j).
 */
export function haarRows(rng: Rng, n: number): Float64Array {
  const q = normalArray(rng, n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const ri = i * n;
        let d = 0;
        for (let t = 0; t < n; t++) d += q[ri + t] * q[rj + t];
        for (let t = 0; t < n; t++) q[rj + t] -= d * q[ri + t];
      }
    }
    let s = 0;
    for (let t = 0; t < n; t++) s += q[rj + t] * q[rj + t];
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < n; t++) q[rj + t] *= inv;
  }
  return q;
}

/** K = Q diag(λ) Qᵀ = Σ_j λ_j q_j q_jᵀ with q_j the rows of `qRows`; exactly symmetric. */
export function prescribedGram(qRows: Float64Array, lambda: ArrayLike<number>, n: number): Float64Array {
  const k = new Float64Array(n * n);
  const scaled = new Float64Array(n);
  for (let j = 0; j < lambda.length; j++) {
    const rj = j * n;
    for (let t = 0; t < n; t++) scaled[t] = lambda[j] * qRows[rj + t];
    for (let a = 0; a < n; a++) {
      const qa = qRows[rj + a];
      const ra = a * n;
      for (let b = 0; b <= a; b++) k[ra + b] += qa * scaled[b];
    }
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) k[b * n + a] = k[a * n + b];
  return k;
}

/** Two-layer ReLU NTK without the ½ (docs/science.md C2/C3): κ(u) = [2u(π − arccos u) + √(1 − u²)]/π. */
export function reluNtk(u: number): number {
  const c = Math.min(1, Math.max(-1, u));
  const theta = Math.acos(c);
  return (2 * c * (Math.PI - theta) + Math.sin(theta)) / Math.PI;
}

/** Gram matrix of reluNtk on the rows of x (n points in R^d, unit norm). */
export function ntkGram(x: Float64Array, n: number, d: number): Float64Array {
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let u = 0;
      for (let t = 0; t < d; t++) u += x[i * d + t] * x[j * d + t];
      const v = reluNtk(u);
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  return k;
}

/** ‖A‖_F of a flat array. */
export function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** max_j ‖A v_j − λ_j v_j‖ and max |VᵀV − I| for vectors in columns (n×m row-major). */
export function pairErrors(
  a: Float64Array,
  n: number,
  values: ArrayLike<number>,
  vectors: Float64Array,
  m: number,
): { residual: number; orthogonality: number } {
  let residual = 0;
  const v = new Float64Array(n);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < n; i++) v[i] = vectors[i * m + j];
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += a[i * n + t] * v[t];
      r2 += (s - values[j] * v[i]) ** 2;
    }
    residual = Math.max(residual, Math.sqrt(r2));
  }
  // VᵀV accumulated row by row (rows of V are contiguous).
  const g = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    const r = i * m;
    for (let p = 0; p < m; p++) {
      const vp = vectors[r + p];
      for (let q = 0; q < m; q++) g[p * m + q] += vp * vectors[r + q];
    }
  }
  let orthogonality = 0;
  for (let p = 0; p < m; p++) for (let q = 0; q < m; q++) orthogonality = Math.max(orthogonality, Math.abs(g[p * m + q] - (p === q ? 1 : 0)));
  return { residual, orthogonality };
}
