/**
 * Gauss–Newton sharpness, optimizer stability thresholds and the edge-of-stability ratio (docs/science.md A5).
 * The sidecar computes the GN part of the loss Hessian only, from the kernel (and the logits for CE), as an
 * N×N problem: λ_max(G) = λ_max(𝓗^{1/2} K 𝓗^{1/2}).
 */
import { Code, snapshotError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { eighSymmetric } from '../spectrum/eigh.js';
import { denseMatVec, lanczosTopK } from '../spectrum/lanczos.js';
import type { MatVec } from '../spectrum/lanczos.js';
import type { OptimizerKind } from './types.js';

export interface ThresholdInput {
  kind: OptimizerKind;
  /** Learning rate η (> 0). */
  lr: number;
  /** Heavy-ball β (PyTorch convention), used when kind = 'momentum'. */
  momentum?: number;
  /** Adam β1, used when kind = 'adam'. */
  beta1?: number;
}

/**
 * θ_opt of docs/science.md A5 (quadratic stability bound of the deterministic optimizer):
 * GD/SGD 2/η; heavy-ball (2 + 2β)/η; Adam (2 + 2β1)/((1 − β1)η), which applies to the preconditioned
 * sharpness (kernel K_P) only.
 */
export function stabilityThreshold(opt: ThresholdInput): number {
  const { kind, lr } = opt;
  if (!(Number.isFinite(lr) && lr > 0)) throw bad(`stability threshold needs a finite learning rate > 0, got ${lr}`);
  switch (kind) {
    case 'sgd':
      return 2 / lr;
    case 'momentum': {
      const beta = opt.momentum ?? 0;
      checkUnit('momentum', beta);
      return (2 + 2 * beta) / lr;
    }
    case 'adam': {
      const b1 = opt.beta1 ?? 0.9;
      checkUnit('beta1', b1);
      return (2 + 2 * b1) / ((1 - b1) * lr);
    }
    default:
      throw bad(`unknown optimizer kind ${String(kind)}`);
  }
}

/**
 * MSE GN sharpness S_GN = 2c_L·λ_max(K) (+ weight decay), docs/science.md A5 (𝓗 = 2c_L·I). c_L must be known
 * (docs/science.md E4: absolute quantities are refused without the loss convention).
 */
export function gnSharpnessMse(lambdaMax: number, cL: number, weightDecay = 0): number {
  if (!(Number.isFinite(cL) && cL > 0)) throw bad(`MSE GN sharpness needs the loss scale c_L > 0, got ${cL}`);
  if (!Number.isFinite(lambdaMax) || lambdaMax < 0) throw bad(`λ_max must be finite and ≥ 0, got ${lambdaMax}`);
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw bad(`weight decay must be finite and ≥ 0, got ${weightDecay}`);
  return 2 * cL * lambdaMax + weightDecay;
}

/** Krylov cycle length for the CE sharpness solve (thick-restarted when it does not converge in one). */
const CE_LANCZOS_BASIS = 24;

export interface CeSharpnessOptions {
  /** Softmax temperature T: p = softmax(z/T) and 𝓗 is scaled by 1/T² (default 1). */
  temperature?: number;
  /** Seed of the Krylov start vector (default 0). */
  seed?: number;
  /** Residual tolerance relative to the eigenvalue (default 1e-10). */
  tol?: number;
  /** Mat-vec cap (default: the Lanczos default, ≥ 2000). The estimate is returned even if it is reached. */
  maxMatvecs?: number;
}

/**
 * Cross-entropy GN sharpness (mean CE over samples), docs/science.md A5:
 * S_GN = λ_max(H^{1/2} K H^{1/2}) / n, H = blockdiag_i(diag(p_i) − p_i p_iᵀ), p_i = softmax(z_i/T) (·1/T²).
 * H^{1/2} is built blockwise from the eigendecomposition of each C×C block; λ_max of the symmetric operator
 * comes from seeded Lanczos (a Krylov refinement of power iteration that stays fast when the top of the
 * spectrum is clustered, as it is for class-symmetric logits). Labels do not enter. Bound: ≤ λ_max(K)/(2n).
 * `k` is the full kernel, N×N with N = samples·outputs, rows sample-major; `logits` is n×C sample-major.
 */
export function gnSharpnessCe(
  k: Float64Array,
  logits: Float64Array,
  samples: number,
  outputs: number,
  opts: CeSharpnessOptions = {},
): number {
  const n = samples;
  const C = outputs;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(C) || C < 1) {
    throw bad(`CE GN sharpness needs positive integer samples and outputs, got n = ${n}, C = ${C}`);
  }
  const N = n * C;
  if (k.length !== N * N) throw bad(`kernel holds ${k.length} values, expected (n·C)² = (${n}·${C})² = ${N * N}`);
  if (logits.length !== N) throw bad(`logits hold ${logits.length} values, expected n·C = ${n}·${C} = ${N}`);
  const T = opts.temperature ?? 1;
  if (!(Number.isFinite(T) && T > 0)) throw bad(`temperature must be finite and > 0, got ${T}`);

  const halves = sqrtHessianBlocks(logits, n, C, T);
  if (halves === undefined) return 0; // every block is 0 (saturated softmax or C = 1): G = 0

  const tmp = new Float64Array(N);
  const kx = new Float64Array(N);
  const kMul = denseMatVec(k, N);
  const apply: MatVec = (x, y) => {
    applyBlocks(halves, n, C, x, tmp);
    kMul(tmp, kx);
    applyBlocks(halves, n, C, kx, y);
  };
  const res = lanczosTopK(apply, N, {
    k: 1,
    rng: mulberry32(opts.seed ?? 0),
    tol: opts.tol ?? 1e-10,
    // A short cycle checks convergence often: a separated λ_max converges in ~20 mat-vecs, so the default
    // 65-vector cycle would spend most of its N² products after convergence.
    maxBasis: CE_LANCZOS_BASIS,
    ...(opts.maxMatvecs !== undefined ? { maxMatvecs: opts.maxMatvecs } : {}),
  });
  return Math.max(res.values[0], 0) / n;
}

/** R_EoS = S_GN / θ_opt (docs/science.md A5). */
export function eosRatio(sharpness: number, threshold: number): number {
  if (!(threshold > 0)) throw bad(`EoS ratio needs a threshold > 0, got ${threshold}`);
  return sharpness / threshold;
}

export type EosBand = 'stable' | 'approaching' | 'edge' | 'unstable';

/** docs/science.md A5 bands: < 0.5 stable, < 0.9 approaching, ≤ 1.1 edge of stability, above that unstable. */
export function eosBand(ratio: number): EosBand {
  if (Number.isNaN(ratio)) throw bad('EoS band of a NaN ratio');
  if (ratio < 0.5) return 'stable';
  if (ratio < 0.9) return 'approaching';
  if (ratio <= 1.1) return 'edge';
  return 'unstable';
}

/**
 * Per-sample symmetric square roots of H_i/T² (n blocks of C×C, row-major), or undefined when every block
 * is zero. Softmax is shifted by the row max so large logits do not overflow.
 */
function sqrtHessianBlocks(logits: Float64Array, n: number, C: number, T: number): Float64Array | undefined {
  const out = new Float64Array(n * C * C);
  const p = new Float64Array(C);
  const h = new Float64Array(C * C);
  const invT2 = 1 / (T * T);
  let any = false;
  for (let i = 0; i < n; i++) {
    let zmax = -Infinity;
    for (let c = 0; c < C; c++) {
      const z = logits[i * C + c];
      if (!Number.isFinite(z)) throw bad(`logit (${i}, ${c}) is ${z}`);
      if (z / T > zmax) zmax = z / T;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) {
      p[c] = Math.exp(logits[i * C + c] / T - zmax);
      sum += p[c];
    }
    for (let c = 0; c < C; c++) p[c] /= sum;
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) h[a * C + b] = ((a === b ? p[a] : 0) - p[a] * p[b]) * invT2;
    }
    const eig = eighSymmetric(h, C, { vectors: true });
    const v = eig.vectors!;
    const base = i * C * C;
    for (let j = 0; j < C; j++) {
      const mu = eig.values[j];
      if (!(mu > 0)) continue; // H_i is PSD; rounding can leave tiny negatives
      any = true;
      const root = Math.sqrt(mu);
      for (let a = 0; a < C; a++) {
        const va = v[a * C + j] * root;
        if (va === 0) continue;
        for (let b = 0; b < C; b++) out[base + a * C + b] += va * v[b * C + j];
      }
    }
  }
  return any ? out : undefined;
}

/** y = blockdiag(S_i) x. */
function applyBlocks(blocks: Float64Array, n: number, C: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const base = i * C * C;
    const o = i * C;
    for (let a = 0; a < C; a++) {
      let s = 0;
      const r = base + a * C;
      for (let b = 0; b < C; b++) s += blocks[r + b] * x[o + b];
      y[o + a] = s;
    }
  }
}

function checkUnit(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0 && v < 1)) throw bad(`${name} must lie in [0, 1), got ${v}`);
}

function bad(message: string): Error {
  return snapshotError(Code.INVALID_ARGUMENT, message);
}
