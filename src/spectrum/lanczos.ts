/**
 * Top-k eigenpairs of a large symmetric matrix (docs/science.md A0: "for larger N compute only top-k").
 *
 * Method: block thick-restart Lanczos (Wu & Simon 2000, in block form) with full reorthogonalisation.
 * Why this and not randomized subspace iteration: subspace iteration converges like (λ_{k+p+1}/λ_k)^iter,
 * which is slow exactly where NTK spectra matter (slowly decaying tails, clusters), and each sweep costs
 * k+p mat-vecs; Lanczos converges with roughly the square root of that ratio. Why a block: NTK spectra
 * have exact or near multiplicities (spherical-harmonic degeneracy, the C-fold K̄ ⊗ I_C structure of the
 * full kernel, A1); a single-vector Krylov space sees only one vector per exact eigenspace, a block of b
 * sees up to b. A block also lets a dense K be read once per b mat-vecs (the product is memory-bound).
 * Full reorthogonalisation (Gram–Schmidt applied twice, "twice is enough") avoids ghost eigenvalues; it
 * costs 4·m·n flops per basis vector, small next to a dense mat-vec (2n²) for the basis sizes used here.
 *
 * The projected matrix H = Qᵀ K Q is assembled from the Gram–Schmidt coefficients, so after a restart
 * (H = diag(θ) bordered by the residual couplings) no special arrowhead code is needed; the small problem
 * is solved with eighSymmetric. Convergence of Ritz pair c is read from ‖B s_c‖, B the coupling of the
 * last block to the residual block, and confirmed at the end by ‖Kv − θv‖ computed from stored products K·q.
 */
import type { Rng } from '../random.js';
import { normalArray } from '../random.js';
import { eighSymmetric } from './eigh.js';
import { gemm } from './gemm.js';

/** y ← K x. Must not retain or modify x. */
export type MatVec = (x: Float64Array, y: Float64Array) => void;

export interface LanczosOptions {
  /** Number of eigenpairs wanted (largest algebraic). Clamped to n. */
  k: number;
  /** Source of the random start block. */
  rng: Rng;
  /** Stop when every wanted Ritz pair has residual ≤ tol·|θ_1| (default 1e-10). */
  tol?: number;
  /** Block size b (default 4, at most k): exact multiplicities up to b are resolved. */
  blockSize?: number;
  /** Basis size per restart cycle (default max(3k, k + 64), at least k + 2b). */
  maxBasis?: number;
  /** Mat-vec budget (default max(40·maxBasis, 2000)); when exhausted the current pairs are returned with converged = false. */
  maxMatvecs?: number;
}

export interface LanczosResult {
  /** Ritz values, descending (k of them). */
  values: Float64Array;
  /** n×k row-major, Ritz vector j in column j (vectors[i*k + j]); orthonormal. */
  vectors: Float64Array;
  /** ‖K v_j − λ_j v_j‖₂ for each pair, from stored products K·q (not from the Lanczos recurrence). */
  residuals: Float64Array;
  /** Every explicit residual is within tol·|λ_1| (plus rounding of order ε‖K‖√n). */
  converged: boolean;
  /** Mat-vecs used (vector count; a block product of b vectors counts b). */
  matvecs: number;
  restarts: number;
}

/** Dense mat-vec on a row-major n×n matrix (row dot products, contiguous access). */
export function denseMatVec(a: Float64Array, n: number): MatVec {
  if (a.length !== n * n) throw new RangeError(`denseMatVec: matrix has ${a.length} entries, expected ${n * n}`);
  return (x, y) => {
    for (let i = 0; i < n; i++) {
      const r = i * n;
      let s0 = 0;
      let s1 = 0;
      let j = 0;
      // Two accumulators break the add dependency chain.
      for (; j + 1 < n; j += 2) {
        s0 += a[r + j] * x[j];
        s1 += a[r + j + 1] * x[j + 1];
      }
      if (j < n) s0 += a[r + j] * x[j];
      y[i] = s0 + s1;
    }
  };
}

/**
 * Block product for `count` vectors stored as rows of x (from row x0) into rows of y (from row y0):
 * a dense K is streamed once per block, each of its rows dotted with all vectors.
 */
type BlockOp = (x: Float64Array, x0: number, y: Float64Array, y0: number, count: number) => void;

function blockOperator(op: Float64Array | MatVec, n: number): BlockOp {
  if (typeof op === 'function') {
    return (x, x0, y, y0, count) => {
      for (let c = 0; c < count; c++) op(x.subarray((x0 + c) * n, (x0 + c + 1) * n), y.subarray((y0 + c) * n, (y0 + c + 1) * n));
    };
  }
  if (op.length !== n * n) throw new RangeError(`lanczosTopK: matrix has ${op.length} entries, expected n*n = ${n * n}`);
  // Rows of Y = rows of X times K (K symmetric, so X·K = (K·Xᵀ)ᵀ): one register-tiled product that
  // streams K once per four vectors.
  return (x, x0, y, y0, count) => gemm(count, n, n, x, x0 * n, n, op, 0, n, y, y0 * n, n, 'set');
}

/** Top-k eigenpairs of the symmetric operator `op` (a row-major n×n matrix or a mat-vec) of order n. */
export function lanczosTopK(op: Float64Array | MatVec, n: number, opts: LanczosOptions): LanczosResult {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`lanczosTopK: order n must be a positive integer, got ${n}`);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new RangeError(`lanczosTopK: k must be a positive integer, got ${opts.k}`);
  const bs = opts.blockSize ?? 4;
  if (!Number.isInteger(bs) || bs < 1) throw new RangeError(`lanczosTopK: blockSize must be a positive integer, got ${bs}`);
  const apply = blockOperator(op, n);
  const k = Math.min(opts.k, n);
  const b = Math.min(bs, k);
  const tol = opts.tol ?? 1e-10;
  const mMax = Math.max(opts.maxBasis ?? Math.max(3 * k, k + 64), k + 2 * b);
  const maxMatvecs = opts.maxMatvecs ?? Math.max(40 * mMax, 2000);

  // Small problems: the Krylov basis would be (nearly) the whole space, so solve densely instead.
  if (n <= mMax + b) return denseFallback(op, apply, n, k, tol);

  const q = new Float64Array((mMax + b) * n); // basis rows; rows m..m+b−1 hold the residual block
  const h = new Float64Array(mMax * mMax); // lower triangle of H = Qᵀ K Q
  const bCoupling = new Float64Array(b * b); // B[c'][c]: residual vector c' against last-block vector c
  const wBlock = new Float64Array(b * n);
  // K·q_j for every basis vector, carried through restarts like the basis itself, so the final residuals
  // ‖K y − θ y‖ come from actual products with K without k extra mat-vecs.
  const kq = new Float64Array(mMax * n);
  const coef = new Float64Array(mMax + 2 * b);
  const scratch = new Float64Array(mMax + 2 * b);
  let matvecs = 0;
  let restarts = 0;
  let scale = 0; // running estimate of ‖K‖ for the breakdown test

  // Start block: b Gaussian vectors, orthonormalised.
  for (let c = 0; c < b; c++) {
    const v = normalArray(opts.rng, n);
    orthogonalize(q, c, n, v, coef);
    const nv = norm(v);
    for (let t = 0; t < n; t++) q[c * n + t] = v[t] / nv;
  }

  let l = 0; // Ritz vectors kept from the previous cycle (rows 0..l−1); the block to multiply starts at l
  let m: number;
  let theta: Float64Array;
  let s: Float64Array;
  while (true) {
    m = l + b * Math.floor((mMax - l) / b);
    for (let p = l; p < m; p += b) {
      apply(q, p, wBlock, 0, b);
      kq.set(wBlock, p * n);
      matvecs += b;
      const last = p + b === m;
      for (let c = 0; c < b; c++) {
        const w = wBlock.subarray(c * n, (c + 1) * n);
        const col = p + c;
        const count = p + b + c; // old basis, current block, and the new vectors made so far
        orthogonalize(q, count, n, w, coef);
        for (let i = 0; i < p + b; i++) {
          const hi = i > col ? i : col;
          const lo = i > col ? col : i;
          h[hi * mMax + lo] = coef[i];
          if (i === col) scale = Math.max(scale, Math.abs(coef[i]));
        }
        let beta = norm(w);
        scale = Math.max(scale, beta);
        if (beta <= 1e-13 * scale) {
          // Invariant subspace: continue with a fresh random direction; the true coupling is ~0.
          const r = normalArray(opts.rng, n);
          orthogonalize(q, count, n, r, scratch); // keep coef: its couplings are read below
          w.set(r);
          const nr = norm(w);
          for (let t = 0; t < n; t++) w[t] /= nr;
          beta = 0;
        } else {
          for (let t = 0; t < n; t++) w[t] /= beta;
        }
        // Couplings of the new vectors to column `col`: upper-triangular R of the block QR.
        for (let c2 = 0; c2 <= c; c2++) {
          const value = c2 === c ? beta : coef[p + b + c2];
          if (last) bCoupling[c2 * b + c] = value;
          else h[(p + b + c2) * mMax + col] = value;
        }
        q.set(w, (p + b + c) * n);
      }
    }

    // Rayleigh–Ritz on the leading m×m block.
    const hm = new Float64Array(m * m);
    for (let r = 0; r < m; r++) for (let c = 0; c <= r; c++) hm[r * m + c] = h[r * mMax + c];
    const eig = eighSymmetric(hm, m, { vectors: true });
    theta = eig.values;
    s = eig.vectors!;
    const ref = Math.max(Math.abs(theta[0]), Number.MIN_VALUE);
    let worst = 0;
    for (let c = 0; c < k; c++) worst = Math.max(worst, couplingResidual(bCoupling, b, s, m, c));
    // Thick restart keeps the top lNext Ritz vectors followed by the residual block.
    const lNext = Math.min(m - b, k + Math.floor((mMax - k) / 2));
    const nextCost = b * Math.floor((mMax - lNext) / b);
    if (worst <= tol * ref || matvecs + nextCost > maxMatvecs) break;

    const y = ritzRows(q, s, m, lNext, n);
    const ky = ritzRows(kq, s, m, lNext, n);
    q.copyWithin(lNext * n, m * n, (m + b) * n);
    q.set(y, 0);
    kq.set(ky, 0);
    h.fill(0);
    for (let c = 0; c < lNext; c++) h[c * mMax + c] = theta[c];
    l = lNext;
    restarts++;
  }

  const yk = ritzRows(q, s, m, k, n);
  const kyk = ritzRows(kq, s, m, k, n);
  const values = theta.slice(0, k);
  const { residuals, converged } = explicitResiduals(kyk, yk, values, n, k, tol, scale);
  return { values, vectors: toColumns(yk, n, k), residuals, converged, matvecs, restarts };
}

/** ‖B s_c[last block]‖: the Lanczos residual norm of Ritz pair c (exact in exact arithmetic). */
function couplingResidual(bc: Float64Array, b: number, s: Float64Array, m: number, c: number): number {
  let r2 = 0;
  for (let c2 = 0; c2 < b; c2++) {
    let t = 0;
    for (let c1 = 0; c1 < b; c1++) t += bc[c2 * b + c1] * s[(m - b + c1) * m + c];
    r2 += t * t;
  }
  return Math.sqrt(r2);
}

/** ‖K y_c − θ_c y_c‖ from the products ky (rows) and the vectors yk (rows); flags pairs above tolerance. */
function explicitResiduals(
  kv: Float64Array,
  yk: Float64Array,
  values: Float64Array,
  n: number,
  k: number,
  tol: number,
  scale: number,
): { residuals: Float64Array; converged: boolean } {
  const residuals = new Float64Array(k);
  const ref = Math.max(Math.abs(values[0]), Number.MIN_VALUE);
  let converged = true;
  for (let c = 0; c < k; c++) {
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      const d = kv[c * n + i] - values[c] * yk[c * n + i];
      r2 += d * d;
    }
    residuals[c] = Math.sqrt(r2);
    // Allow rounding in the explicit product (ε·‖K‖·√n-sized) on top of the requested tolerance.
    if (residuals[c] > tol * ref + 1e-13 * Math.max(scale, ref) * Math.sqrt(n)) converged = false;
  }
  return { residuals, converged };
}

/** n small relative to the basis: form K (given, or by n mat-vecs) and use the exact solver. */
function denseFallback(op: Float64Array | MatVec, apply: BlockOp, n: number, k: number, tol: number): LanczosResult {
  let a: Float64Array;
  let matvecs = 0;
  if (typeof op === 'function') {
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    a = new Float64Array(n * n);
    apply(eye, 0, a, 0, n); // row c of a = K e_c = column c of K (= row c by symmetry)
    matvecs = n;
  } else {
    a = op;
  }
  const eig = eighSymmetric(a, n, { vectors: true });
  const values = eig.values.slice(0, k);
  const yk = new Float64Array(k * n);
  for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) yk[c * n + i] = eig.vectors![i * n + c];
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(eig.values[i]));
  const kv = new Float64Array(k * n);
  apply(yk, 0, kv, 0, k);
  const { residuals, converged } = explicitResiduals(kv, yk, values, n, k, tol, scale);
  return { values, vectors: toColumns(yk, n, k), residuals, converged, matvecs: matvecs + k, restarts: 0 };
}

function toColumns(rows: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    const src = c * n;
    for (let i = 0; i < n; i++) out[i * k + c] = rows[src + i];
  }
  return out;
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/**
 * Modified Gram–Schmidt of x against rows 0..count−1 of q, applied twice; coef[i] receives the summed
 * projection coefficients, i.e. qᵢᵀx of the input x up to rounding.
 */
function orthogonalize(q: Float64Array, count: number, n: number, x: Float64Array, coef: Float64Array): void {
  coef.fill(0, 0, count);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < count; i++) {
      const r = i * n;
      let d = 0;
      for (let t = 0; t < n; t++) d += q[r + t] * x[t];
      coef[i] += d;
      for (let t = 0; t < n; t++) x[t] -= d * q[r + t];
    }
  }
}

/** Rows c < count of Yᵀ = (Q_m S)ᵀ = S_{:,<count}ᵀ Q_m: Ritz vector c = Σ_j S[j][c] q_j, as one product. */
function ritzRows(q: Float64Array, s: Float64Array, m: number, count: number, n: number): Float64Array {
  const st = new Float64Array(count * m);
  for (let j = 0; j < m; j++) for (let c = 0; c < count; c++) st[c * m + j] = s[j * m + c];
  const y = new Float64Array(count * n);
  gemm(count, n, m, st, 0, m, q, 0, n, y, 0, n, 'set');
  return y;
}
