/**
 * Kernel drift between snapshots (docs/science.md A6): Fort et al.'s kernel distance, velocity per 1000 steps,
 * distance and relative change from init, trace ratio, top-k subspace overlap, and the independent-sketch
 * noise floor (docs/science.md A6 pitfalls, E7).
 */
import { Code, snapshotError } from '../errors.js';
import type { DriftDiagnostics } from './types.js';

/** One kernel snapshot as the drift measures need it. */
export interface KernelState {
  step: number;
  /** size×size row-major, symmetric. */
  kernel: Float64Array;
  size: number;
  /** size×pairs row-major, eigenvector j in column j, eigenvalues descending (for the subspace overlap). */
  vectors?: Float64Array;
  pairs: number;
  trace: number;
  /** Participation ratio tr²/‖K‖_F² (docs/science.md A4), for the sketch floor. */
  participation: number;
  source: 'jacobian' | 'sketch' | 'gram';
  /** Sketch dimension m and Ω seed; required to compare sketches (E7). */
  sketch?: { dim: number; seed: number };
}

/** Subspace overlap dimension k of docs/science.md A6. */
export const OVERLAP_K = 10;

/**
 * S(A, B) = 1 − ⟨A,B⟩_F / (‖A‖_F‖B‖_F), docs/science.md A6 (Fort et al. 2020). In [0, 1] for PSD inputs, 0 for
 * B = cA (c > 0), and exactly 0 for bitwise-identical inputs. NaN when either norm is 0.
 */
export function kernelDistance(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw bad(`kernel distance of kernels with ${a.length} and ${b.length} entries`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (!(aa > 0 && bb > 0)) return NaN;
  // sqrt(aa·bb) rather than sqrt(aa)·sqrt(bb): for A = B it equals aa exactly, so S(K, K) = 0 bitwise.
  const prod = aa * bb;
  const denom = Number.isFinite(prod) && prod > 0 ? Math.sqrt(prod) : Math.sqrt(aa) * Math.sqrt(bb);
  const cos = Math.min(ab / denom, 1); // Cauchy–Schwarz: > 1 only by rounding
  return 1 - cos;
}

/** ‖K − K₀‖_F / ‖K₀‖_F (docs/science.md A6; not scale-invariant). NaN when ‖K₀‖_F = 0. */
export function relativeChange(k: Float64Array, k0: Float64Array): number {
  if (k.length !== k0.length) throw bad(`relative change of kernels with ${k.length} and ${k0.length} entries`);
  let d2 = 0;
  let n2 = 0;
  for (let i = 0; i < k.length; i++) {
    const d = k[i] - k0[i];
    d2 += d * d;
    n2 += k0[i] * k0[i];
  }
  return n2 > 0 ? Math.sqrt(d2 / n2) : NaN;
}

/** tr K of a size×size row-major kernel. */
export function traceOf(k: Float64Array, size: number): number {
  checkSquare(k, size, 'trace');
  let s = 0;
  for (let i = 0; i < size; i++) s += k[i * size + i];
  return s;
}

/**
 * O_k = ‖U_k(a)ᵀ U_k(b)‖_F² / k (docs/science.md A6), U_k the top-k eigenvector columns of each size×pairs
 * matrix; k is clipped to the pairs both sides have. In [0, 1]; 1 iff the two top-k subspaces coincide.
 */
export function subspaceOverlap(
  ua: Float64Array,
  pa: number,
  ub: Float64Array,
  pb: number,
  size: number,
  k: number = OVERLAP_K,
): number {
  if (ua.length !== size * pa) throw bad(`first eigenvector block holds ${ua.length} values, expected ${size}·${pa}`);
  if (ub.length !== size * pb) throw bad(`second eigenvector block holds ${ub.length} values, expected ${size}·${pb}`);
  const kk = Math.min(k, pa, pb);
  if (!(kk >= 1)) throw bad(`subspace overlap needs k ≥ 1 pairs on both sides, got k = ${k}, pairs ${pa} and ${pb}`);
  const m = new Float64Array(kk * kk); // m[i*kk + j] = u_a,iᵀ u_b,j
  for (let t = 0; t < size; t++) {
    const ra = t * pa;
    const rb = t * pb;
    for (let i = 0; i < kk; i++) {
      const x = ua[ra + i];
      if (x === 0) continue;
      for (let j = 0; j < kk; j++) m[i * kk + j] += x * ub[rb + j];
    }
  }
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i] * m[i];
  return s / kk;
}

/** Expected kernel distance between two independent sketches of the same J: (PR + 1)/m (docs/science.md A6, C12). */
export function sketchNoiseFloor(participation: number, m: number): number {
  if (!(Number.isFinite(participation) && participation >= 0)) throw bad(`participation ratio must be finite and ≥ 0, got ${participation}`);
  if (!(Number.isInteger(m) && m >= 1)) throw bad(`sketch dimension m must be a positive integer, got ${m}`);
  return (participation + 1) / m;
}

/**
 * Whether two snapshots may be compared (docs/science.md A6 pitfalls, E7): same size and kernel source, and for
 * sketches the same sketch dimension and Ω seed (independent Ω adds a (PR+1)/m floor and is refused).
 */
export function comparableStates(a: KernelState, b: KernelState): boolean {
  if (a.size !== b.size || a.source !== b.source) return false;
  if (a.source !== 'sketch') return true;
  if (a.sketch === undefined || b.sketch === undefined) return false;
  return a.sketch.dim === b.sketch.dim && a.sketch.seed === b.sketch.seed;
}

/**
 * A6 drift of `cur` against the previous snapshot and the run's first one (docs/science.md A6):
 * - distancePrev, velocityPerKstep (S/Δs·1000; absent when Δs ≤ 0), traceRatio and subspaceOverlap (O_10,
 *   when both sides carry vectors) against `prev`;
 * - distanceInit and relativeChangeInit against `init`;
 * - sketchFloor (PR_cur + 1)/m when sketches are compared.
 * Each pair's fields are present only when that pair is comparable (comparableStates). `comparable` is the
 * verdict for `prev` (the interval the velocity and the "kernel moving" guard use), or for `init` when there
 * is no `prev`, and true when there is nothing to compare.
 */
export function driftDiagnostics(
  prev: KernelState | undefined,
  init: KernelState | undefined,
  cur: KernelState,
): DriftDiagnostics {
  checkState(cur, 'current');
  if (prev !== undefined) checkState(prev, 'previous');
  if (init !== undefined) checkState(init, 'initial');
  const prevOk = prev !== undefined && comparableStates(prev, cur);
  const initOk = init !== undefined && comparableStates(init, cur);
  const out: DriftDiagnostics = {
    comparable: prev !== undefined ? prevOk : init !== undefined ? initOk : true,
  };
  if (prevOk) {
    const d = kernelDistance(prev.kernel, cur.kernel);
    out.distancePrev = d;
    const ds = cur.step - prev.step;
    if (ds > 0) out.velocityPerKstep = (d / ds) * 1000;
    if (prev.trace !== 0) out.traceRatio = cur.trace / prev.trace;
    if (prev.vectors !== undefined && cur.vectors !== undefined && prev.pairs >= 1 && cur.pairs >= 1) {
      out.subspaceOverlap = subspaceOverlap(prev.vectors, prev.pairs, cur.vectors, cur.pairs, cur.size, OVERLAP_K);
    }
  }
  if (initOk) {
    out.distanceInit = kernelDistance(init.kernel, cur.kernel);
    out.relativeChangeInit = relativeChange(cur.kernel, init.kernel);
  }
  if ((prevOk || initOk) && cur.source === 'sketch' && cur.sketch !== undefined) {
    out.sketchFloor = sketchNoiseFloor(cur.participation, cur.sketch.dim);
  }
  return out;
}

function checkState(s: KernelState, which: string): void {
  checkSquare(s.kernel, s.size, `${which} kernel`);
  if (s.vectors !== undefined && s.vectors.length !== s.size * s.pairs) {
    throw bad(`${which} eigenvectors hold ${s.vectors.length} values, expected size·pairs = ${s.size}·${s.pairs}`);
  }
}

function checkSquare(k: Float64Array, size: number, what: string): void {
  if (!Number.isInteger(size) || size < 1 || k.length !== size * size) {
    throw bad(`${what}: ${k.length} values do not form a ${size}×${size} matrix`);
  }
}

function bad(message: string): Error {
  return snapshotError(Code.INVALID_ARGUMENT, message);
}
