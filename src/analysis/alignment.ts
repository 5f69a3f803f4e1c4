/**
 * Kernel–target alignment (docs/science.md A7): uncentered (Cristianini) and centered (Cortes–Mohri–
 * Rostamizadeh) alignment of K with T = Y Yᵀ, and the spectral alignment curve a_k. T is never formed:
 * ⟨K, YYᵀ⟩ = tr(Yᵀ K Y) and ‖YYᵀ‖_F = ‖YᵀY‖_F.
 */
import { Code, snapshotError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { eighSymmetric } from '../spectrum/eigh.js';
import { lanczosTopK } from '../spectrum/lanczos.js';
import type { AlignmentDiagnostics } from './types.js';

/** n integer labels in [0, C) → n×C one-hot, row-major. */
export function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
  if (!Number.isInteger(classes) || classes < 1) throw bad(`one-hot needs a positive integer class count, got ${classes}`);
  const out = new Float64Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw bad(`label ${i} is ${c}, expected an integer in [0, ${classes})`);
    out[i * classes + c] = 1;
  }
  return out;
}

export interface TargetAlignmentOptions {
  /** Centered alignment A_c = A(HKH, HYYᵀH), H = I − 11ᵀ/n (default false). */
  centered?: boolean;
}

/**
 * A(K, YYᵀ) = ⟨K, YYᵀ⟩_F / (‖K‖_F ‖YYᵀ‖_F), or its centered form (docs/science.md A7, efficient form):
 * K_c = HKH, Y_c = HY, ⟨K_c, Y_cY_cᵀ⟩ = tr(Y_cᵀ K Y_c) (H Y_c = Y_c), ‖Y_cY_cᵀ‖_F = ‖Y_cᵀY_c‖_F, and ‖K_c‖_F
 * from K_c[i,j] = K_ij − r_i − c_j + g (row, column and grand means) without storing K_c.
 * `k` is size×size, `y` size×cols row-major. Scale-invariant in K and Y; NaN when a norm is 0.
 */
export function targetAlignment(
  k: Float64Array,
  size: number,
  y: Float64Array,
  cols: number,
  opts: TargetAlignmentOptions = {},
): number {
  checkSquare(k, size);
  checkTargets(y, size, cols);
  const centered = opts.centered === true;
  const yy = centered ? centerColumns(y, size, cols) : y;

  // ⟨K, YYᵀ⟩ = Σ_i Σ_j K_ij (y_i · y_j), via (K Y) row by row.
  const ky = new Float64Array(cols);
  let inner = 0;
  for (let i = 0; i < size; i++) {
    ky.fill(0);
    const r = i * size;
    for (let j = 0; j < size; j++) {
      const kij = k[r + j];
      if (kij === 0) continue;
      const yj = j * cols;
      for (let c = 0; c < cols; c++) ky[c] += kij * yy[yj + c];
    }
    const yi = i * cols;
    for (let c = 0; c < cols; c++) inner += yy[yi + c] * ky[c];
  }

  // ‖YᵀY‖_F (cols×cols Gram of the target columns).
  let tnorm2 = 0;
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < cols; b++) {
      let s = 0;
      for (let i = 0; i < size; i++) s += yy[i * cols + a] * yy[i * cols + b];
      tnorm2 += s * s;
    }
  }

  const knorm2 = centered ? centeredFrobenius2(k, size) : frobenius2(k);
  if (!(knorm2 > 0 && tnorm2 > 0)) return NaN;
  return inner / (Math.sqrt(knorm2) * Math.sqrt(tnorm2));
}

/**
 * Spectral alignment curve a_k = Σ_{i≤k} ‖u_iᵀ Y_c‖² / ‖Y_c‖_F² (docs/science.md A7), Y_c = HY, for each k in `ks`
 * that is ≤ pairs (others are left out: they need eigenvectors that were not computed). Output sorted by k,
 * deduplicated. Nondecreasing in k; a_size = 1 when the vectors span R^size. NaN values when Y_c = 0.
 * `vectors` is size×pairs row-major, eigenvector j in column j, eigenvalues descending.
 */
export function spectralAlignmentCurve(
  vectors: Float64Array,
  pairs: number,
  size: number,
  y: Float64Array,
  cols: number,
  ks: ArrayLike<number>,
): Array<{ k: number; value: number }> {
  if (!Number.isInteger(pairs) || pairs < 0 || vectors.length !== size * pairs) {
    throw bad(`eigenvectors hold ${vectors.length} values, expected size·pairs = ${size}·${pairs}`);
  }
  checkTargets(y, size, cols);
  const yc = centerColumns(y, size, cols);
  let total = 0;
  for (let i = 0; i < yc.length; i++) total += yc[i] * yc[i];
  const wanted = validKs(ks, pairs);
  const kMax = wanted.length > 0 ? wanted[wanted.length - 1] : 0;
  // proj[j*cols + c] = u_jᵀ y_c,c for j < kMax.
  const proj = new Float64Array(kMax * cols);
  for (let t = 0; t < size; t++) {
    const rv = t * pairs;
    const ry = t * cols;
    for (let j = 0; j < kMax; j++) {
      const u = vectors[rv + j];
      if (u === 0) continue;
      for (let c = 0; c < cols; c++) proj[j * cols + c] += u * yc[ry + c];
    }
  }
  const out: Array<{ k: number; value: number }> = [];
  let acc = 0;
  let j = 0;
  for (const kk of wanted) {
    for (; j < kk; j++) for (let c = 0; c < cols; c++) acc += proj[j * cols + c] ** 2;
    out.push({ k: kk, value: total > 0 ? acc / total : NaN });
  }
  return out;
}

export interface AlignmentInput {
  /** n×n kernel: the traced K̄ (docs/science.md E5), which is the full kernel when C = 1. */
  kernel: Float64Array;
  /** n. */
  size: number;
  /** Targets Y, n×cols row-major (one-hot n×C for classification, y n×1 for scalar regression). */
  targets: Float64Array;
  cols: number;
  /** Eigenvectors of `kernel` (size×pairs, column j, descending). Computed here when absent. */
  vectors?: Float64Array;
  pairs?: number;
  /** Curve points (default {1, C, 10, 100} with C = cols); those above the available pairs are left out. */
  ks?: ArrayLike<number>;
  /** Seed for the Lanczos start block when vectors are computed here for size > EXACT_VECTORS_MAX. */
  seed?: number;
}

/** Order up to which alignmentDiagnostics computes missing eigenvectors with the exact solver. */
export const EXACT_VECTORS_MAX = 512;

/**
 * A7 diagnostics on the traced kernel with Y n×C (for C = 1 the full kernel with vec(Y)): uncentered and
 * centered alignment and the spectral curve a_k. Missing eigenvectors are computed: exactly up to
 * EXACT_VECTORS_MAX, else the top max(ks) pairs by Lanczos.
 */
export function alignmentDiagnostics(input: AlignmentInput): AlignmentDiagnostics {
  const { kernel, size, targets, cols } = input;
  checkSquare(kernel, size);
  checkTargets(targets, size, cols);
  const ks = input.ks ?? [1, cols, 10, 100];
  const uncentered = targetAlignment(kernel, size, targets, cols, { centered: false });
  const centered = targetAlignment(kernel, size, targets, cols, { centered: true });

  let vectors = input.vectors;
  let pairs = input.pairs ?? (vectors !== undefined ? vectors.length / size : 0);
  if (vectors === undefined) {
    const need = validKs(ks, size);
    const kMax = need.length > 0 ? need[need.length - 1] : 0;
    if (kMax > 0 && size <= EXACT_VECTORS_MAX) {
      vectors = eighSymmetric(kernel, size, { vectors: true }).vectors!;
      pairs = size;
    } else if (kMax > 0) {
      vectors = lanczosTopK(kernel, size, { k: kMax, rng: mulberry32(input.seed ?? 0) }).vectors;
      pairs = kMax;
    } else {
      vectors = new Float64Array(0);
      pairs = 0;
    }
  }
  const curve = spectralAlignmentCurve(vectors, pairs, size, targets, cols, ks);
  return { uncentered, centered, curve };
}

/** Distinct positive integers of `ks` that are ≤ limit, ascending. */
function validKs(ks: ArrayLike<number>, limit: number): number[] {
  const set = new Set<number>();
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i];
    if (!Number.isInteger(k) || k < 1) throw bad(`curve point k must be a positive integer, got ${k}`);
    if (k <= limit) set.add(k);
  }
  return [...set].sort((a, b) => a - b);
}

/** Y_c = H Y: each column minus its mean. */
function centerColumns(y: Float64Array, size: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  for (let i = 0; i < size; i++) for (let c = 0; c < cols; c++) mean[c] += y[i * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= size;
  const out = new Float64Array(size * cols);
  for (let i = 0; i < size; i++) for (let c = 0; c < cols; c++) out[i * cols + c] = y[i * cols + c] - mean[c];
  return out;
}

function frobenius2(k: Float64Array): number {
  let s = 0;
  for (let i = 0; i < k.length; i++) s += k[i] * k[i];
  return s;
}

/** ‖HKH‖_F² with HKH[i,j] = K_ij − r_i − c_j + g. */
function centeredFrobenius2(k: Float64Array, size: number): number {
  const row = new Float64Array(size);
  const col = new Float64Array(size);
  let grand = 0;
  for (let i = 0; i < size; i++) {
    const r = i * size;
    for (let j = 0; j < size; j++) {
      const v = k[r + j];
      row[i] += v;
      col[j] += v;
    }
  }
  for (let i = 0; i < size; i++) {
    grand += row[i];
    row[i] /= size;
    col[i] /= size;
  }
  grand /= size * size;
  let s = 0;
  for (let i = 0; i < size; i++) {
    const r = i * size;
    const ri = row[i] - grand;
    for (let j = 0; j < size; j++) {
      const v = k[r + j] - ri - col[j];
      s += v * v;
    }
  }
  return s;
}

function checkSquare(k: Float64Array, size: number): void {
  if (!Number.isInteger(size) || size < 1 || k.length !== size * size) {
    throw bad(`kernel: ${k.length} values do not form a ${size}×${size} matrix`);
  }
}

function checkTargets(y: Float64Array, size: number, cols: number): void {
  if (!Number.isInteger(cols) || cols < 1 || y.length !== size * cols) {
    throw bad(`targets hold ${y.length} values, expected size·cols = ${size}·${cols} = ${size * cols}`);
  }
}

function bad(message: string): Error {
  return snapshotError(Code.INVALID_ARGUMENT, message);
}
