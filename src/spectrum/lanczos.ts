/**
 * Top-k eigenpairs of a large symmetric matrix (science.md A0: "for larger N compute only top-k").
 *
 * Method: thick-restart Lanczos (Wu & Simon 2000) with full reorthogonalisation.
 * Why this and not randomized subspace iteration: subspace iteration converges like (λ_{k+p+1}/λ_k)^iter,
 * which is slow exactly where NTK spectra are interesting (slowly decaying tails, near-degenerate
 * multiplets), and each iteration costs k+p mat-vecs. Lanczos converges with the square root of that
 * ratio and needs one mat-vec per basis vector. Full reorthogonalisation (Gram–Schmidt applied twice,
 * "twice is enough") avoids ghost eigenvalues; its cost 4·m·n per step is small next to a dense
 * mat-vec (2n²) for the basis sizes used here. Thick restart keeps memory at (m+1)·n doubles.
 *
 * The projected matrix H = Qᵀ K Q is built column by column from the Gram–Schmidt coefficients, so after
 * a restart (H = diag(θ) bordered by the residual couplings) no special arrowhead code is needed; the
 * small problem is solved with eighSymmetric.
 */
import type { Rng } from '../random.js';
import { normalArray } from '../random.js';
import { eighSymmetric } from './eigh.js';

/** y ← K x. Must not retain or modify x. */
export type MatVec = (x: Float64Array, y: Float64Array) => void;

export interface LanczosOptions {
  /** Number of eigenpairs wanted (largest algebraic). Clamped to n. */
  k: number;
  /** Source of the random start vector. */
  rng: Rng;
  /** Stop when every wanted Ritz pair has ‖Kv − θv‖ ≤ tol·|θ_1| (default 1e-10). */
  tol?: number;
  /** Basis size before a restart (default min(n, max(3k, k + 64))). */
  maxBasis?: number;
  /** Mat-vec budget (default max(40·maxBasis, 2000)); on exhaustion the best pairs are returned with converged = false. */
  maxMatvecs?: number;
}

export interface LanczosResult {
  /** Ritz values, descending (k of them). */
  values: Float64Array;
  /** n×k row-major, Ritz vector j in column j (vectors[i*k + j]); orthonormal. */
  vectors: Float64Array;
  /** Explicit ‖K v_j − λ_j v_j‖₂ for each pair (computed with k extra mat-vecs). */
  residuals: Float64Array;
  /** All residual estimates met the tolerance. */
  converged: boolean;
  /** Mat-vecs used, including the k residual checks. */
  matvecs: number;
  restarts: number;
}

/** Dense symmetric mat-vec on a row-major n×n matrix (row dot products, contiguous access). */
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

/** Top-k eigenpairs of the symmetric operator `op` (a row-major n×n matrix or a mat-vec) of order n. */
export function lanczosTopK(op: Float64Array | MatVec, n: number, opts: LanczosOptions): LanczosResult {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`lanczosTopK: order n must be a positive integer, got ${n}`);
  if (!Number.isInteger(opts.k) || opts.k < 1) throw new RangeError(`lanczosTopK: k must be a positive integer, got ${opts.k}`);
  const matvec = typeof op === 'function' ? op : denseMatVec(op, n);
  const k = Math.min(opts.k, n);
  const tol = opts.tol ?? 1e-10;
  const mMax = Math.min(n, Math.max(k + 1, opts.maxBasis ?? Math.max(3 * k, k + 64)));
  const maxMatvecs = opts.maxMatvecs ?? Math.max(40 * mMax, 2000);
  // Rows 0..mMax of q are basis vectors (row mMax holds the residual direction at a restart).
  const q = new Float64Array((mMax + 1) * n);
  const h = new Float64Array(mMax * mMax);
  const w = new Float64Array(n);
  const coef = new Float64Array(mMax + 1);
  let matvecs = 0;
  let restarts = 0;

  const start = normalArray(opts.rng, n);
  normalizeInto(start, q, 0, n);

  let j0 = 0; // basis vectors carried over from the previous cycle
  let scale = 0; // running estimate of ‖K‖ for the breakdown test
  let betaLast = 0;
  let m: number;
  let theta: Float64Array;
  let s: Float64Array;
  while (true) {
    m = mMax;
    for (let j = j0; j < mMax; j++) {
      matvec(q.subarray(j * n, j * n + n), w);
      matvecs++;
      orthogonalize(q, j + 1, n, w, coef, true);
      for (let i = 0; i <= j; i++) h[j * mMax + i] = coef[i];
      scale = Math.max(scale, Math.abs(coef[j]));
      let beta = norm(w);
      scale = Math.max(scale, beta);
      if (j + 1 === n) {
        // The Krylov space is the whole space: H is exact.
        betaLast = 0;
        m = j + 1;
        break;
      }
      if (beta <= 1e-13 * scale) {
        // Invariant subspace found: continue with a fresh random direction (coupling is ~0).
        betaLast = j + 1 === mMax ? beta : 0;
        const r = normalArray(opts.rng, n);
        orthogonalize(q, j + 1, n, r, coef, false);
        orthogonalize(q, j + 1, n, r, coef, false);
        beta = norm(r);
        if (beta === 0) {
          m = j + 1;
          break;
        }
        w.set(r);
      } else {
        betaLast = beta;
      }
      const inv = 1 / beta;
      const row = (j + 1) * n;
      for (let i = 0; i < n; i++) q[row + i] = w[i] * inv;
    }

    // Rayleigh–Ritz on the leading m×m block of H (lower triangle filled).
    const hm = new Float64Array(m * m);
    for (let r = 0; r < m; r++) for (let c = 0; c <= r; c++) hm[r * m + c] = h[r * mMax + c];
    const eig = eighSymmetric(hm, m, { vectors: true });
    theta = eig.values;
    s = eig.vectors!;
    const ref = Math.max(Math.abs(theta[0]), Number.MIN_VALUE);
    let worst = 0;
    for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(betaLast * s[(m - 1) * m + c]));
    // Thick restart keeps the top l Ritz vectors and the residual direction q_m.
    const l = Math.min(m - 1, k + Math.floor((mMax - k) / 2));
    const outOfBudget = matvecs + (mMax - l) + k > maxMatvecs;
    if (worst <= tol * ref || m < mMax || outOfBudget) break;

    const y = ritzRows(q, s, m, l, n);
    q.copyWithin(l * n, m * n, m * n + n);
    q.set(y, 0);
    h.fill(0);
    for (let c = 0; c < l; c++) h[c * mMax + c] = theta[c];
    j0 = l;
    restarts++;
  }

  const yk = ritzRows(q, s, m, k, n);
  const values = theta.slice(0, k);
  const residuals = new Float64Array(k);
  const kv = new Float64Array(n);
  let converged = true;
  const ref = Math.max(Math.abs(values[0]), Number.MIN_VALUE);
  for (let c = 0; c < k; c++) {
    const v = yk.subarray(c * n, c * n + n);
    matvec(v, kv);
    matvecs++;
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      const d = kv[i] - values[c] * v[i];
      r2 += d * d;
    }
    residuals[c] = Math.sqrt(r2);
    // Allow rounding in the explicit check (ε·‖K‖·√n-sized) on top of the Lanczos estimate tolerance.
    if (residuals[c] > tol * ref + 1e-13 * scale * Math.sqrt(n)) converged = false;
  }
  const vectors = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    const src = c * n;
    for (let i = 0; i < n; i++) vectors[i * k + c] = yk[src + i];
  }
  return { values, vectors, residuals, converged, matvecs, restarts };
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function normalizeInto(x: Float64Array, q: Float64Array, row: number, n: number): void {
  const nr = norm(x);
  const inv = nr > 0 ? 1 / nr : 0;
  for (let i = 0; i < n; i++) q[row * n + i] = x[i] * inv;
}

/**
 * Modified Gram–Schmidt of x against rows 0..count−1 of q, applied twice; when `record` is set, coef
 * receives the summed projection coefficients, i.e. qᵢᵀx of the input x up to rounding.
 */
function orthogonalize(q: Float64Array, count: number, n: number, x: Float64Array, coef: Float64Array, record: boolean): void {
  if (record) coef.fill(0, 0, count);
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < count; i++) {
      const r = i * n;
      let d = 0;
      for (let t = 0; t < n; t++) d += q[r + t] * x[t];
      if (record) coef[i] += d;
      for (let t = 0; t < n; t++) x[t] -= d * q[r + t];
    }
  }
}

/** Rows c < count of Yᵀ = (Q_m S)ᵀ: Ritz vector c = Σ_j S[j][c] q_j, built by contiguous row axpys. */
function ritzRows(q: Float64Array, s: Float64Array, m: number, count: number, n: number): Float64Array {
  const y = new Float64Array(count * n);
  for (let j = 0; j < m; j++) {
    const qr = j * n;
    for (let c = 0; c < count; c++) {
      const f = s[j * m + c];
      if (f === 0) continue;
      const yr = c * n;
      for (let t = 0; t < n; t++) y[yr + t] += f * q[qr + t];
    }
  }
  return y;
}
