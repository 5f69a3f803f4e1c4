/**
 * Function-space residual and its projection onto kernel eigenvectors (docs/science.md A8): residuals for MSE and
 * CE, modal coefficients, top-k energy fractions E_k, the residual Rayleigh quotient κ_r, learned-mode count,
 * and the linearization gap between snapshots. Vectors are length N = n·C, sample-major (row i·C + c).
 */
import { Code, snapshotError } from '../errors.js';
import type { ResidualDiagnostics } from './types.js';

/** MSE residual r = vec(Z − Y) (docs/science.md A8). */
export function residualMse(logits: Float64Array, targets: Float64Array): Float64Array {
  if (logits.length !== targets.length) throw bad(`residual of ${logits.length} outputs against ${targets.length} targets`);
  const r = new Float64Array(logits.length);
  for (let i = 0; i < r.length; i++) r[i] = logits[i] - targets[i];
  return r;
}

/**
 * CE residual r_CE = vec(P − Y), P = softmax of each sample's logits (max-shifted, so large logits are safe),
 * docs/science.md A8. The function-space gradient of the mean CE is r_CE/n. Each row sums to Σ_c p − Σ_c y (0 for
 * one-hot or any probability targets).
 */
export function residualCe(logits: Float64Array, targets: Float64Array, samples: number, outputs: number): Float64Array {
  const N = samples * outputs;
  if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(outputs) || outputs < 1) {
    throw bad(`CE residual needs positive integer samples and outputs, got n = ${samples}, C = ${outputs}`);
  }
  if (logits.length !== N || targets.length !== N) {
    throw bad(`CE residual: logits ${logits.length} and targets ${targets.length} values, expected n·C = ${samples}·${outputs} = ${N}`);
  }
  const r = new Float64Array(N);
  for (let i = 0; i < samples; i++) {
    const o = i * outputs;
    let zmax = -Infinity;
    for (let c = 0; c < outputs; c++) {
      const z = logits[o + c];
      if (!Number.isFinite(z)) throw bad(`logit (${i}, ${c}) is ${z}`);
      if (z > zmax) zmax = z;
    }
    let sum = 0;
    for (let c = 0; c < outputs; c++) {
      const e = Math.exp(logits[o + c] - zmax);
      r[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < outputs; c++) r[o + c] = r[o + c] / sum - targets[o + c];
  }
  return r;
}

/** c = Uᵀ r (docs/science.md A8), U size×pairs row-major with eigenvector j in column j. */
export function modalCoefficients(vectors: Float64Array, pairs: number, size: number, r: Float64Array): Float64Array {
  checkPairs(vectors, pairs, size);
  if (r.length !== size) throw bad(`residual holds ${r.length} values, expected ${size}`);
  const c = new Float64Array(pairs);
  for (let t = 0; t < size; t++) {
    const x = r[t];
    if (x === 0) continue;
    const row = t * pairs;
    for (let j = 0; j < pairs; j++) c[j] += vectors[row + j] * x;
  }
  return c;
}

export interface ResidualInput {
  /** Eigenvalues of the full kernel, descending (at least `pairs` of them). */
  lambda: Float64Array;
  /** size×pairs row-major, eigenvector j in column j. */
  vectors: Float64Array;
  pairs: number;
  /** N = n·C. */
  size: number;
  /** Residual, length N. */
  r: Float64Array;
  /** C, for the E_C point. */
  outputs: number;
  /** E_k points (default {1, 5, C, ⌈0.1·N⌉}); deduplicated, those > pairs left out. */
  ks?: ArrayLike<number>;
  /** The kernel itself (size×size). With it κ_r = rᵀKr/‖r‖² is exact even for a partial set of pairs. */
  kernel?: Float64Array;
}

/**
 * A8 exports: topk E_k = Σ_{i≤k} c_i²/‖r‖², κ_r = rᵀKr/‖r‖² and ‖r‖ (docs/science.md A8). κ_r is computed from
 * `kernel` when given, else as Σ e_i λ_i, which needs every pair (pairs = size; NaN otherwise: the energy
 * outside the computed pairs has unknown eigenvalues). For r = 0, fractions and κ_r are NaN.
 * learnedModes and linearizationGap are left to learnedModes()/linearizationGap().
 */
export function residualDiagnostics(input: ResidualInput): ResidualDiagnostics {
  const { lambda, vectors, pairs, size, r, outputs } = input;
  checkPairs(vectors, pairs, size);
  if (lambda.length < pairs) throw bad(`${lambda.length} eigenvalues for ${pairs} eigenvector pairs`);
  if (r.length !== size) throw bad(`residual holds ${r.length} values, expected ${size}`);
  let rr = 0;
  for (let i = 0; i < size; i++) rr += r[i] * r[i];
  const coef = modalCoefficients(vectors, pairs, size, r);

  const ks = input.ks ?? [1, 5, outputs, Math.ceil(0.1 * size)];
  const wanted = [...new Set(Array.from(ks))].filter((k) => {
    if (!Number.isInteger(k) || k < 1) throw bad(`E_k point k must be a positive integer, got ${k}`);
    return k <= pairs;
  });
  wanted.sort((a, b) => a - b);
  const topk: Array<{ k: number; fraction: number }> = [];
  let acc = 0;
  let j = 0;
  for (const k of wanted) {
    for (; j < k; j++) acc += coef[j] * coef[j];
    topk.push({ k, fraction: rr > 0 ? acc / rr : NaN });
  }

  let rayleigh: number;
  if (!(rr > 0)) {
    rayleigh = NaN;
  } else if (input.kernel !== undefined) {
    const k = input.kernel;
    if (k.length !== size * size) throw bad(`kernel holds ${k.length} values, expected ${size}² = ${size * size}`);
    let q = 0;
    for (let i = 0; i < size; i++) {
      const row = i * size;
      let s = 0;
      for (let t = 0; t < size; t++) s += k[row + t] * r[t];
      q += r[i] * s;
    }
    rayleigh = q / rr;
  } else if (pairs === size) {
    let q = 0;
    for (let i = 0; i < pairs; i++) q += coef[i] * coef[i] * lambda[i];
    rayleigh = q / rr;
  } else {
    rayleigh = NaN;
  }
  return { topk, rayleigh, residualNorm: Math.sqrt(rr) };
}

/** n_learned = #{i : 2c_L η λ_i · steps ≥ 1} (docs/science.md A8, MSE); η is the effective rate (E2). */
export function learnedModes(lambda: ArrayLike<number>, cL: number, etaEff: number, steps: number): number {
  if (!(Number.isFinite(cL) && cL > 0)) throw bad(`learned modes need the loss scale c_L > 0, got ${cL}`);
  if (!(Number.isFinite(etaEff) && etaEff >= 0)) throw bad(`effective learning rate must be finite and ≥ 0, got ${etaEff}`);
  if (!(Number.isFinite(steps) && steps >= 0)) throw bad(`steps must be finite and ≥ 0, got ${steps}`);
  let count = 0;
  for (let i = 0; i < lambda.length; i++) if (2 * cL * etaEff * lambda[i] * steps >= 1) count++;
  return count;
}

export type KernelGdForm = 'discrete' | 'continuous';

export interface ResidualPredictionInput {
  /** Eigenpairs of K_{t−1}: values descending, vectors size×pairs (column j). */
  lambda: Float64Array;
  vectors: Float64Array;
  pairs: number;
  size: number;
  /** r_{t−1}. */
  rPrev: Float64Array;
  /** c_L (MSE), > 0. */
  cL: number;
  /** Effective learning rate (η/(1−β) for heavy-ball, docs/science.md E2). */
  etaEff: number;
  /** Δs = s_t − s_{t−1} (network steps). */
  steps: number;
  /** 'auto' (default): discrete when 2c_Lηλ_1 > 0.1, else continuous (docs/science.md A8). */
  form?: KernelGdForm | 'auto';
}

/** The form 'auto' picks: discrete (1 − 2c_Lηλ)^Δs when 2c_Lηλ_1 > 0.1, else continuous exp(−2c_Lηλ Δs). */
export function kernelGdForm(lambdaMax: number, cL: number, etaEff: number): KernelGdForm {
  return 2 * cL * etaEff * lambdaMax > 0.1 ? 'discrete' : 'continuous';
}

/**
 * Kernel-regime prediction of the MSE residual after Δs steps (docs/science.md A8):
 * r_pred = r_⊥ + Σ_i u_i c_i g_i, c = Uᵀ r_{t−1}, g_i = (1 − 2c_Lηλ_i)^Δs or exp(−2c_Lηλ_iΔs); r_⊥ (the part
 * outside the computed pairs) is left unchanged.
 */
export function predictResidual(input: ResidualPredictionInput): { predicted: Float64Array; form: KernelGdForm } {
  const { lambda, vectors, pairs, size, rPrev, cL, etaEff, steps } = input;
  checkPairs(vectors, pairs, size);
  if (lambda.length < pairs) throw bad(`${lambda.length} eigenvalues for ${pairs} eigenvector pairs`);
  if (rPrev.length !== size) throw bad(`previous residual holds ${rPrev.length} values, expected ${size}`);
  if (!(Number.isFinite(cL) && cL > 0)) throw bad(`residual prediction needs the loss scale c_L > 0, got ${cL}`);
  if (!(Number.isFinite(etaEff) && etaEff >= 0)) throw bad(`effective learning rate must be finite and ≥ 0, got ${etaEff}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw bad(`step gap Δs must be a non-negative integer, got ${steps}`);
  const requested = input.form ?? 'auto';
  const form = requested === 'auto' ? kernelGdForm(pairs > 0 ? lambda[0] : 0, cL, etaEff) : requested;

  const coef = modalCoefficients(vectors, pairs, size, rPrev);
  // Each mode's coefficient changes by (g_i − 1)·c_i; add that change along u_i to r_{t−1}.
  const delta = new Float64Array(pairs);
  for (let j = 0; j < pairs; j++) {
    const rate = 2 * cL * etaEff * lambda[j];
    const g = form === 'discrete' ? Math.pow(1 - rate, steps) : Math.exp(-rate * steps);
    delta[j] = (g - 1) * coef[j];
  }
  const predicted = Float64Array.from(rPrev);
  for (let t = 0; t < size; t++) {
    const row = t * pairs;
    let s = 0;
    for (let j = 0; j < pairs; j++) s += vectors[row + j] * delta[j];
    predicted[t] += s;
  }
  return { predicted, form };
}

export interface LinearizationGapInput extends ResidualPredictionInput {
  /** r_obs(s_t). */
  rObs: Float64Array;
}

/**
 * g_lin(t) = ‖r_obs(s_t) − r_pred(s_t | K_{t−1}, r_{t−1})‖ / max(‖r_obs(s_t) − r_{t−1}‖, 1e-12)
 * (docs/science.md A8, MSE). ≤ 0.1 lazy, 0.1–0.3 mild, > 0.3 the kernel model is not valid over the interval.
 */
export function linearizationGap(input: LinearizationGapInput): { gap: number; form: KernelGdForm } {
  const { rObs, rPrev, size } = input;
  if (rObs.length !== size) throw bad(`observed residual holds ${rObs.length} values, expected ${size}`);
  const { predicted, form } = predictResidual(input);
  let num = 0;
  let den = 0;
  for (let t = 0; t < size; t++) {
    num += (rObs[t] - predicted[t]) ** 2;
    den += (rObs[t] - rPrev[t]) ** 2;
  }
  return { gap: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12), form };
}

function checkPairs(vectors: Float64Array, pairs: number, size: number): void {
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(pairs) || pairs < 0 || pairs > size) {
    throw bad(`eigenpairs: need integers 0 ≤ pairs ≤ size, size ≥ 1, got pairs = ${pairs}, size = ${size}`);
  }
  if (vectors.length !== size * pairs) {
    throw bad(`eigenvectors hold ${vectors.length} values, expected size·pairs = ${size}·${pairs} = ${size * pairs}`);
  }
}

function bad(message: string): Error {
  return snapshotError(Code.INVALID_ARGUMENT, message);
}
