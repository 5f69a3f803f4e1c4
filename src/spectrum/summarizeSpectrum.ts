/**
 * One call per kernel snapshot: spectrum, tolerance, rank, conditioning, decay, ESD and effective ranks
 * (docs/science.md A0–A4).
 *
 * Exact path (size ≤ exactMax): every quantity is computed from the full spectrum.
 * Lanczos path (size > exactMax, partial spectrum of the top `topK` pairs):
 * - exact regardless: trace, ‖K‖_F, tracePerOutput, λ_max, stable rank tr/λ_max, participation ratio
 *   tr²/‖K‖_F² (these need no eigendecomposition);
 * - approximate: the entropy effective rank and the ESD fit use only the computed top-k values; the decay
 *   window is capped at k (i_hi ≤ k);
 * - numerical rank, rank deficiency, κ₊ and κ_δ are known only if some computed value falls below tol
 *   (then λ_{r_num} is among the computed pairs and λ_N clips to 0); otherwise they are NaN.
 */
import { Code, snapshotError } from '../errors.js';
import type { Rng } from '../random.js';
import { mulberry32 } from '../random.js';
import { eighSymmetric } from './eigh.js';
import { entropyRank, participationRatioFromMatrix, stableRank } from './effectiveRank.js';
import { lanczosTopK } from './lanczos.js';
import { defaultDecayWindow, fitDecay, fitEsdPowerLaw } from './powerLaw.js';

export interface SpectrumOptions {
  /** n, number of probe samples: operator-normalised eigenvalues are λ/n (docs/science.md A1). */
  samples: number;
  /** C, outputs per sample, for the decay window i_lo = max(C + 1, 2) (use 1 for a traced kernel). */
  outputs: number;
  /** ε_src of docs/science.md A0: 0 for float64 Grams (default), 1e-6 float32, 1e-3 bf16/TF32. */
  epsSrc?: number;
  /** Exact solver up to this order, Lanczos beyond (default 2048). */
  exactMax?: number;
  /** Lanczos k (default 64). */
  topK?: number;
  /** Keep eigenvectors (default false). */
  vectors?: boolean;
  /**
   * With `vectors`, on the exact path: keep only the eigenvectors of this many largest eigenvalues (default all;
   * all eigenvalues are computed either way). The Lanczos path keeps its topK vectors.
   */
  vectorPairs?: number;
  /** Start-vector randomness for Lanczos (default mulberry32(0)). */
  rng?: Rng;
}

export interface SpectrumSummary {
  size: number;
  solver: 'exact' | 'lanczos';
  computedPairs: number;
  trace: number;
  /** tr K / N (docs/science.md A2). */
  tracePerOutput: number;
  frobenius: number;
  lambdaMax: number;
  /** All computed values, descending, clipped at tol (A0). */
  eigenvalues: Float64Array;
  /** eigenvalues / samples: the operator normalisation of A1. */
  operatorEigenvalues: Float64Array;
  /** size × vectorPairs row-major, column j ↔ eigenvalues[j]. */
  vectors?: Float64Array;
  /** Columns of `vectors` (≤ computedPairs; the top ones); present with `vectors`. */
  vectorPairs?: number;
  tolerance: number;
  numericalRank: number;
  rankDeficiency: number;
  conditionPos: number;
  conditionReg: number;
  decay: { exponent: number; r2: number; lo: number; hi: number; maxAbsResidual: number; points: number };
  esd: { alpha: number; ks: number; xmin: number };
  effectiveRank: { entropy: number; participation: number; stable: number };
  /** max ‖Kv − λv‖/λ_1: Lanczos over all computed pairs; exact solver over the top ≤ 10 pairs when vectors
   *  were requested (a cheap guard), else 0 (not computed). */
  maxResidual: number;
  /** Lanczos bookkeeping (absent for the exact solver). */
  lanczos?: { converged: boolean; matvecs: number; restarts: number };
}

const EPS = 2 ** -52;
/** Largest order solved exactly by default; beyond it, Lanczos for the top pairs. */
export const DEFAULT_EXACT_MAX = 2048;

/** Exact-path residual guard: this many top pairs (n² flops each). */
const EXACT_RESIDUAL_PAIRS = 10;

export function summarizeSpectrum(k: Float64Array, size: number, opts: SpectrumOptions): SpectrumSummary {
  validate(k, size, opts);
  const epsSrc = opts.epsSrc ?? 0;
  const exactMax = opts.exactMax ?? DEFAULT_EXACT_MAX;
  const wantVectors = opts.vectors === true;

  // Exact matrix invariants (A2/A4); also rejects non-finite entries with their position.
  let trace = 0;
  let frob2 = 0;
  for (let i = 0; i < size; i++) {
    const r = i * size;
    for (let j = 0; j < size; j++) {
      const v = k[r + j];
      if (!Number.isFinite(v)) throw snapshotError(Code.INVALID_ARGUMENT, `kernel entry (${i}, ${j}) is ${v}`);
      frob2 += v * v;
    }
    trace += k[r + i];
  }
  const frobenius = Math.sqrt(frob2);

  let raw: Float64Array;
  let vectors: Float64Array | undefined;
  let solver: 'exact' | 'lanczos';
  let maxResidualAbs = 0;
  let lanczosInfo: SpectrumSummary['lanczos'];
  if (size <= exactMax) {
    solver = 'exact';
    const eig = eighSymmetric(k, size, { vectors: wantVectors, vectorCount: Math.min(opts.vectorPairs ?? size, size) });
    raw = eig.values;
    vectors = eig.vectors;
    if (vectors) {
      const cols = vectors.length / size;
      maxResidualAbs = topResiduals(k, size, raw, vectors, cols, Math.min(EXACT_RESIDUAL_PAIRS, cols));
    }
  } else {
    solver = 'lanczos';
    // Block size ≥ C when possible: the full kernel of a C-output model has near C-fold eigenvalue
    // clusters (K ≈ K̄ ⊗ I_C, docs/science.md A1), which a block of that size resolves in one Krylov space.
    const topK = Math.min(opts.topK ?? 64, size);
    const blockSize = Math.min(16, Math.max(4, opts.outputs), topK);
    const res = lanczosTopK(k, size, { k: topK, blockSize, rng: opts.rng ?? mulberry32(0) });
    raw = res.values;
    if (wantVectors) vectors = res.vectors;
    for (let j = 0; j < res.residuals.length; j++) maxResidualAbs = Math.max(maxResidualAbs, res.residuals[j]);
    lanczosInfo = { converged: res.converged, matvecs: res.matvecs, restarts: res.restarts };
  }
  const pairs = raw.length;

  // A0 tolerance and clipping.
  const lambda1 = Math.max(raw[0], 0);
  const tolerance = lambda1 * Math.max(size * EPS, epsSrc);
  const eigenvalues = new Float64Array(pairs);
  let rNum = 0;
  for (let j = 0; j < pairs; j++) {
    const v = raw[j] < tolerance ? 0 : raw[j];
    eigenvalues[j] = v;
    if (v > tolerance) rNum++;
  }
  // Rank is determined when the computed list reaches a numerically-zero value (always for exact).
  const rankKnown = solver === 'exact' || rNum < pairs;
  const numericalRank = rankKnown ? rNum : NaN;
  const rankDeficiency = rankKnown ? size - rNum : NaN;
  const conditionPos = rankKnown && rNum > 0 ? eigenvalues[0] / eigenvalues[rNum - 1] : NaN;
  // A2: κ_δ = (λ_1 + δ)/(λ_N + δ), δ = 1e-6·tr/N; λ_N is the clipped smallest value.
  const delta = (1e-6 * trace) / size;
  const lambdaN = eigenvalues[pairs - 1];
  const conditionReg = rankKnown && delta > 0 ? (eigenvalues[0] + delta) / (lambdaN + delta) : NaN;

  // A3 decay on the default window; for a partial spectrum the window is capped at the computed pairs.
  const windowRank = rankKnown ? rNum : 2 * pairs;
  const win = defaultDecayWindow(eigenvalues, opts.outputs, windowRank, tolerance);
  const fit = win.hi >= win.lo ? fitDecay(eigenvalues, win.lo, win.hi) : undefined;
  const decay = fit
    ? { exponent: fit.exponent, r2: fit.r2, lo: fit.lo, hi: fit.hi, maxAbsResidual: fit.maxAbsResidual, points: fit.points }
    : { exponent: NaN, r2: NaN, lo: win.lo, hi: win.hi, maxAbsResidual: NaN, points: 0 };
  const esdFit = fitEsdPowerLaw(eigenvalues);

  const operatorEigenvalues = new Float64Array(pairs);
  for (let j = 0; j < pairs; j++) operatorEigenvalues[j] = eigenvalues[j] / opts.samples;

  const summary: SpectrumSummary = {
    size,
    solver,
    computedPairs: pairs,
    trace,
    tracePerOutput: trace / size,
    frobenius,
    lambdaMax: eigenvalues[0],
    eigenvalues,
    operatorEigenvalues,
    tolerance,
    numericalRank,
    rankDeficiency,
    conditionPos,
    conditionReg,
    decay,
    esd: { alpha: esdFit.alpha, ks: esdFit.ks, xmin: esdFit.xmin },
    effectiveRank: {
      entropy: eigenvalues[0] > 0 ? entropyRank(eigenvalues) : NaN,
      participation: participationRatioFromMatrix(trace, frobenius),
      stable: stableRank(trace, eigenvalues[0]),
    },
    maxResidual: lambda1 > 0 ? maxResidualAbs / lambda1 : 0,
  };
  if (vectors) {
    summary.vectors = vectors;
    summary.vectorPairs = vectors.length / size;
  }
  if (lanczosInfo) summary.lanczos = lanczosInfo;
  return summary;
}

function validate(k: Float64Array, size: number, opts: SpectrumOptions): void {
  const bad = (msg: string) => snapshotError(Code.INVALID_ARGUMENT, `summarizeSpectrum: ${msg}`);
  if (!Number.isInteger(size) || size < 1) throw bad(`size must be a positive integer, got ${size}`);
  if (k.length !== size * size) throw bad(`kernel has ${k.length} entries, expected size² = ${size * size} for size ${size}`);
  if (!Number.isInteger(opts.samples) || opts.samples < 1) throw bad(`samples must be a positive integer, got ${opts.samples}`);
  if (!Number.isInteger(opts.outputs) || opts.outputs < 1) throw bad(`outputs must be a positive integer, got ${opts.outputs}`);
  const eps = opts.epsSrc ?? 0;
  if (!(eps >= 0 && eps < 1)) throw bad(`epsSrc must be in [0, 1), got ${eps}`);
  const em = opts.exactMax ?? DEFAULT_EXACT_MAX;
  if (!Number.isInteger(em) || em < 0) throw bad(`exactMax must be a non-negative integer, got ${em}`);
  if (opts.vectorPairs !== undefined && !(Number.isInteger(opts.vectorPairs) && opts.vectorPairs >= 0)) {
    throw bad(`vectorPairs must be a non-negative integer, got ${opts.vectorPairs}`);
  }
  const tk = opts.topK ?? 64;
  if (!Number.isInteger(tk) || tk < 1) throw bad(`topK must be a positive integer, got ${tk}`);
}

/** max_j ‖K v_j − λ_j v_j‖ over the first `count` pairs (vectors in columns of a size×cols array). */
function topResiduals(k: Float64Array, size: number, values: Float64Array, vectors: Float64Array, cols: number, count: number): number {
  const v = new Float64Array(size);
  let worst = 0;
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < size; i++) v[i] = vectors[i * cols + j];
    let r2 = 0;
    for (let i = 0; i < size; i++) {
      const row = i * size;
      let s = 0;
      for (let t = 0; t < size; t++) s += k[row + t] * v[t];
      const d = s - values[j] * v[i];
      r2 += d * d;
    }
    worst = Math.max(worst, Math.sqrt(r2));
  }
  return worst;
}
