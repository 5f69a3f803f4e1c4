/**
 * Exact symmetric eigendecomposition (docs/science.md A0/A1) on flat row-major Float64Arrays:
 * Householder tridiagonalisation, then implicit-shift QL for eigenvalues only or divide and conquer for
 * eigenvectors (tridiagonalEigen.ts), then a blocked back-transformation.
 *
 * Layout choices (why the loops look the way they do):
 * - Only the LOWER triangle is read and updated. Reflector i annihilates row i left of the subdiagonal,
 *   working from the bottom row up, so every Householder vector is a contiguous row segment and the
 *   symmetric mat-vec and rank-2 update of the shrinking leading block both run along rows.
 * - The rank-2 update of step i is fused with the mat-vec of step i−1 (one pass over the block per step
 *   instead of two): the reduction is memory-bound, so this halves its traffic.
 * - Eigenvectors: V = Q Z with Z from divide and conquer (row-major, vector j in column j, already the
 *   output layout). The reflectors are applied to Z in blocks of 32 in compact-WY form
 *   (Z ← Z − Y Tᵀ (Yᵀ Z)), i.e. as two matrix products instead of 32 rank-1 passes over Z.
 * - Eigenvalues only: no vector work at all (O(n²) after the reduction).
 * - Top-k eigenvectors only (opts.vectorCount = k < n): all eigenvalues by QL as above, then the k
 *   eigenvectors of T for the largest ones by inverse iteration (LAPACK dstein: perturbed shifts, LU with
 *   partial pivoting, Gram–Schmidt within clusters closer than 1e-3·‖T‖₁), then the same blocked
 *   back-transformation on the n×k block only: O(n²k) instead of O(n³) for the vector stages.
 */
import { gemm } from './gemm.js';
import { WasmSymmetricMatrix } from './wasmSymv.js';
import { tridiagonalDC, tridiagonalInverseIteration, tridiagonalQL } from './tridiagonalEigen.js';

export interface EighOptions {
  /** Also compute eigenvectors (default false). */
  vectors?: boolean;
  /**
   * With `vectors`: only the eigenvectors of the `vectorCount` largest eigenvalues (default n, all). All
   * eigenvalues are still returned. Below n/2 they come from inverse iteration on the tridiagonal form.
   */
  vectorCount?: number;
  /** Blocked or unblocked tridiagonalisation (default: blocked from TRIDIAGONAL_CROSSOVER; benches compare both). */
  tridiagonal?: TridiagonalOptions;
}

export interface EighResult {
  /** Eigenvalues, sorted descending. */
  values: Float64Array;
  /** n×k row-major (k = vectorCount, default n), eigenvector j in column j (vectors[i*k + j]); present iff requested. */
  vectors?: Float64Array;
}

/** vectorCount below this fraction of n uses inverse iteration; above it divide and conquer is cheaper and sturdier. */
const PARTIAL_VECTOR_FRACTION = 0.5;

/**
 * Reflectors per panel of the blocked tridiagonalisation. Measured on the issue 15 host (2 vCPUs, load 10): at
 * n = 1024 / 2048, nb = 16 took 0.35 / 2.5 s, 32: 0.43 / 3.2 s, 64: 0.54 / 3.5 s, unblocked 0.78–0.95 / 7.3 s
 * (the in-panel corrections are scalar JavaScript, O(n²·nb); the trailing gemm is already SIMD at k = 2·nb = 32).
 */
export const TRIDIAGONAL_BLOCK = 16;
/** Order from which the blocked tridiagonalisation is used: measured break-even near 192 (n = 256: 4.5 vs 10.5 ms). */
export const TRIDIAGONAL_CROSSOVER = 192;
/**
 * NTK_EIGH_BLOCK in the environment overrides the default panel width (0: unblocked), so a bench can time the
 * sidecar process before and after (bench/latency.bench.ts). Read once; absent in browsers.
 */
const ENV_BLOCK = ((): number | undefined => {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NTK_EIGH_BLOCK;
  const v = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isInteger(v) && v >= 0 ? v : undefined;
})();

export interface TridiagonalOptions {
  /** Panel width (default TRIDIAGONAL_BLOCK); < 2 forces the unblocked path. */
  blockSize?: number;
  /** Smallest order reduced blocked (default TRIDIAGONAL_CROSSOVER); panels stop once the leading block is below half of it. */
  crossover?: number;
  /** The panel mat-vec: WebAssembly SIMD where the runtime has it (default), or scalar JavaScript. */
  symv?: 'simd' | 'scalar';
}

/** Reflectors per compact-WY block in the back-transformation. */
const WY_BLOCK = 32;

/**
 * Eigenvalues (descending) and optionally eigenvectors of the symmetric matrix `a` (n×n, row-major).
 * Only the lower triangle of `a` is read; `a` is not modified. Throws RangeError on a size mismatch or
 * a non-finite entry.
 */
export function eighSymmetric(a: Float64Array, n: number, opts: EighOptions = {}): EighResult {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`eighSymmetric: order n must be a non-negative integer, got ${n}`);
  if (a.length !== n * n) {
    throw new RangeError(`eighSymmetric: matrix has ${a.length} entries, expected n*n = ${n * n} for n = ${n}`);
  }
  const wantVectors = opts.vectors === true;
  const count = opts.vectorCount ?? n;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`eighSymmetric: vectorCount must be a non-negative integer, got ${count}`);
  const kVec = Math.min(count, n);
  if (n === 0) return wantVectors ? { values: new Float64Array(0), vectors: new Float64Array(0) } : { values: new Float64Array(0) };

  // Copy the lower triangle and find its largest magnitude (also rejects NaN/Inf with a position). Above the
  // crossover the working matrix lives in WebAssembly memory, where the panel mat-vec reads it in place.
  const host = usesBlocked(n, opts.tridiagonal) && opts.tridiagonal?.symv !== 'scalar' ? WasmSymmetricMatrix.create(n) : undefined;
  const w = host?.w ?? new Float64Array(n * n);
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j <= i; j++) {
      const v = a[r + j];
      if (!Number.isFinite(v)) throw new RangeError(`eighSymmetric: non-finite entry ${v} at (${i}, ${j})`);
      w[r + j] = v;
      const av = v < 0 ? -v : v;
      if (av > amax) amax = av;
    }
  }
  // Scale by a power of two (exact) when entries are so large or small that squares could over/underflow.
  let scale = 1;
  if (amax > 0 && (amax > 2 ** 300 || amax < 2 ** -300)) {
    scale = 2 ** Math.round(Math.log2(amax));
    const inv = 1 / scale;
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) w[i * n + j] *= inv;
  }

  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hh = new Float64Array(n);
  tridiagonalize(w, n, d, e, hh, { ...opts.tridiagonal, host });

  if (wantVectors && kVec < n && kVec <= PARTIAL_VECTOR_FRACTION * n) {
    const dT = d.slice();
    const eT = e.slice();
    tridiagonalQL(d, e, n);
    const values = new Float64Array(n);
    const sortedDesc = Array.from(d).sort((x, y) => y - x);
    for (let j = 0; j < n; j++) values[j] = sortedDesc[j] * scale;
    // Shifts ascending (dstein's order): the k largest, smallest first; column c of zt ↔ shift c.
    const shifts = new Float64Array(kVec);
    for (let c = 0; c < kVec; c++) shifts[c] = sortedDesc[kVec - 1 - c];
    const zAsc = tridiagonalInverseIteration(dT, eT, n, shifts);
    applyReflectors(w, hh, n, zAsc, kVec);
    const vectors = new Float64Array(n * kVec);
    for (let i = 0; i < n; i++) {
      const r = i * kVec;
      for (let j = 0; j < kVec; j++) vectors[r + j] = zAsc[r + kVec - 1 - j];
    }
    return { values, vectors };
  }

  let z: Float64Array | undefined;
  if (wantVectors) {
    z = tridiagonalDC(d, e, n);
    applyReflectors(w, hh, n, z, n);
  } else {
    tridiagonalQL(d, e, n);
  }

  // Sort descending (stable on index so equal values keep the solver's order).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const sorted = Array.from(order).sort((x, y) => d[y] - d[x] || x - y);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[sorted[j]] * scale;
  if (!z) return { values };

  const vectors = new Float64Array(n * kVec);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    const o = i * kVec;
    for (let j = 0; j < kVec; j++) vectors[o + j] = z[r + sorted[j]];
  }
  return { values, vectors };
}

/**
 * Householder reduction of the lower triangle of w to tridiagonal form, bottom row first.
 * On return d = diagonal, e[i] = T[i][i−1] (e[0] = 0), and for i ≥ 2 row i of w holds the Householder
 * vector u_i (entries 0..i−1) with P_i = I − u uᵀ/hh[i] (hh[i] = 0 ⇒ P_i = I). A = Q T Qᵀ with
 * Q = P_{n−1} ⋯ P_2.
 */
export function tridiagonalize(
  w: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  hh: Float64Array,
  opts: TridiagonalOptions & { host?: WasmSymmetricMatrix } = {},
): void {
  const nb = opts.blockSize ?? ENV_BLOCK ?? TRIDIAGONAL_BLOCK;
  const cross = opts.crossover ?? TRIDIAGONAL_CROSSOVER;
  const top = usesBlocked(n, opts) ? reduceBlocked(w, n, e, hh, nb, Math.max(cross, 2 * nb) >> 1, symvFor(w, n, opts)) : n - 1;
  reduceUnblocked(w, n, e, hh, top);
  if (n > 1) e[1] = w[n];
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
}

/** Unblocked reduction (fused rank-2 update and mat-vec) of the leading (top+1)×(top+1) block. */
function reduceUnblocked(w: Float64Array, n: number, e: Float64Array, hh: Float64Array, top: number): void {
  // p holds (leading block)·u for the current reflector; for steps after the first it is accumulated
  // during the previous step's rank-2 update.
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let have = top >= 2 && makeReflector(w, n, top, e, hh);
  if (have) symmetricMatvec(w, n, top, p);
  for (let i = top; i >= 2; i--) {
    const next = i - 1;
    if (!have) {
      // P_i = I: the block is unchanged; set up reflector i−1 directly.
      have = next >= 2 && makeReflector(w, n, next, e, hh);
      if (have) symmetricMatvec(w, n, next, p);
      continue;
    }
    // q = p/H − K u with K = uᵀp/(2H²): A ← A − u qᵀ − q uᵀ equals P_i A P_i on the leading i×i block.
    const ri = i * n;
    const h = hh[i];
    let up = 0;
    for (let k = 0; k < i; k++) up += w[ri + k] * p[k];
    const kk = up / (2 * h * h);
    for (let k = 0; k < i; k++) q[k] = p[k] / h - kk * w[ri + k];

    // Row i−1 first: its updated entries define reflector i−1, whose mat-vec is then fused into the
    // updates of rows 0..i−2.
    const rn = next * n;
    const un = w[ri + next];
    const qn = q[next];
    for (let k = 0; k <= next; k++) w[rn + k] -= un * q[k] + qn * w[ri + k];
    have = next >= 2 && makeReflector(w, n, next, e, hh);
    if (!have) {
      for (let j = 0; j < next; j++) {
        const rj = j * n;
        const uj = w[ri + j];
        const qj = q[j];
        for (let k = 0; k <= j; k++) w[rj + k] -= uj * q[k] + qj * w[ri + k];
      }
      continue;
    }
    for (let k = 0; k < next; k++) p[k] = 0;
    fusedUpdate(w, n, ri, rn, next, q, p);
  }
}

/**
 * Blocked reduction (LAPACK dsytrd/dlatrd, upper-column ≡ our lower-row storage): panels of nb reflectors from
 * the bottom row up. Within a panel row i is brought up to date just before its reflector is built
 * (A[i,0..i] −= Σ_c V[i,c]·W[0..i,c] + W[i,c]·V[0..i,c] over the panel's earlier reflectors), and the panel's
 * w = A u comes from a symmetric mat-vec on the block as it stood when the panel began, corrected by
 * −V(Wᵀu) − W(Vᵀu). After the panel, the leading block A[0..lo) ← A − V Wᵀ − W Vᵀ in one gemm per row block
 * ([V W]·[W V]ᵀ, k = 2·nb; only the lower triangle plus at most one block's overhang is computed).
 * Storage and results are those of the unblocked path: u_i in row i, H in hh[i], e[i].
 * Returns the last row still to reduce (the unblocked path finishes from there), i.e. lo − 1 of the last panel.
 */
function reduceBlocked(w: Float64Array, n: number, e: Float64Array, hh: Float64Array, nb: number, stopBelow: number, symv: Symv): number {
  const vt = new Float64Array(nb * n); // row c: u of the panel's c-th reflector (entries 0..i−1)
  const wt = new Float64Array(nb * n); // row c: q, so that the update is A − u qᵀ − q uᵀ
  const vw = new Float64Array(n * 2 * nb); // [V W] (m × 2nb) for the trailing gemm
  const wv = new Float64Array(2 * nb * n); // [Wᵀ; Vᵀ] (2nb × m)
  const p = new Float64Array(n);
  const t1 = new Float64Array(nb);
  const t2 = new Float64Array(nb);
  let hi = n - 1;
  while (hi + 1 > stopBelow && hi - nb + 1 >= 2) {
    const lo = hi - nb + 1;
    for (let c = 0; c < nb; c++) {
      const i = hi - c;
      const ri = i * n;
      // Bring row i (entries 0..i) up to date with the panel's earlier reflectors.
      for (let b = 0; b < c; b++) {
        const vr = b * n;
        const vi = vt[vr + i];
        const wi = wt[vr + i];
        if (vi === 0 && wi === 0) continue;
        for (let k = 0; k <= i; k++) w[ri + k] -= vi * wt[vr + k] + wi * vt[vr + k];
      }
      const cr = c * n;
      if (!makeReflector(w, n, i, e, hh)) {
        vt.fill(0, cr, cr + i + 1);
        wt.fill(0, cr, cr + i + 1);
        continue;
      }
      // p = A_old u − V (Wᵀ u) − W (Vᵀ u) over rows 0..i−1.
      symv(i, p);
      for (let b = 0; b < c; b++) {
        const vr = b * n;
        let s1 = 0;
        let s2 = 0;
        for (let k = 0; k < i; k++) {
          const uk = w[ri + k];
          s1 += wt[vr + k] * uk;
          s2 += vt[vr + k] * uk;
        }
        t1[b] = s1;
        t2[b] = s2;
      }
      for (let b = 0; b < c; b++) {
        const vr = b * n;
        const a1 = t1[b];
        const a2 = t2[b];
        if (a1 === 0 && a2 === 0) continue;
        for (let k = 0; k < i; k++) p[k] -= vt[vr + k] * a1 + wt[vr + k] * a2;
      }
      const h = hh[i];
      let up = 0;
      for (let k = 0; k < i; k++) up += w[ri + k] * p[k];
      const kk = up / (2 * h * h);
      for (let k = 0; k < i; k++) {
        const uk = w[ri + k];
        vt[cr + k] = uk;
        wt[cr + k] = p[k] / h - kk * uk;
      }
      vt[cr + i] = 0;
      wt[cr + i] = 0;
    }
    // Trailing update of the leading lo×lo block (lower triangle), A ← A − V Wᵀ − W Vᵀ.
    const m = lo;
    const k2 = 2 * nb;
    for (let r = 0; r < m; r++) {
      const o = r * k2;
      for (let c = 0; c < nb; c++) {
        vw[o + c] = vt[c * n + r];
        vw[o + nb + c] = wt[c * n + r];
      }
    }
    for (let c = 0; c < nb; c++) {
      wv.set(wt.subarray(c * n, c * n + m), c * m);
      wv.set(vt.subarray(c * n, c * n + m), (nb + c) * m);
    }
    for (let r0 = 0; r0 < m; r0 += UPDATE_ROWS) {
      const r1 = Math.min(m, r0 + UPDATE_ROWS);
      gemm(r1 - r0, r1, k2, vw, r0 * k2, k2, wv, 0, m, w, r0 * n, n, 'sub');
    }
    hi = lo - 1;
  }
  return hi;
}

/** Rows per gemm call of the trailing update (columns 0..r1: the overhang above the diagonal is ≤ this). */
const UPDATE_ROWS = 128;

/**
 * p[0..i−1] = (leading i×i block of w as it stood when the panel began)·u, u = entries 0..i−1 of row i of w.
 * Rows 0..i−1 are untouched during a panel until they are reached, so w is its own snapshot.
 */
type Symv = (i: number, p: Float64Array) => void;

/** Whether tridiagonalize takes the blocked path for order n. */
function usesBlocked(n: number, opts: TridiagonalOptions = {}): boolean {
  const nb = opts.blockSize ?? ENV_BLOCK ?? TRIDIAGONAL_BLOCK;
  return nb >= 2 && n >= (opts.crossover ?? TRIDIAGONAL_CROSSOVER) && n - nb + 1 >= 2;
}

/** The panel mat-vec: WebAssembly SIMD in place when w lives in a WasmSymmetricMatrix, else scalar JS. */
function symvFor(w: Float64Array, n: number, opts: TridiagonalOptions & { host?: WasmSymmetricMatrix }): Symv {
  const host = opts.host;
  if (host && host.w === w && opts.symv !== 'scalar') return (i, p) => host.apply(i, p);
  return (i, p) => symmetricMatvec(w, n, i, p);
}

/**
 * Rows 0..count−1 of the leading block: A ← A − u qᵀ − q uᵀ (u = row ri of w) fused with
 * p += A_new·v (v = row rn of w, the next reflector; symmetric product from the lower triangle).
 * Two rows are processed per pass so that q[k], u[k], v[k] and p[k] are loaded once for both.
 */
function fusedUpdate(w: Float64Array, n: number, ri: number, rn: number, count: number, q: Float64Array, p: Float64Array): void {
  let j = 0;
  for (; j + 1 < count; j += 2) {
    const r0 = j * n;
    const r1 = r0 + n;
    const u0 = w[ri + j];
    const u1 = w[ri + j + 1];
    const q0 = q[j];
    const q1 = q[j + 1];
    const v0 = w[rn + j];
    const v1 = w[rn + j + 1];
    let s0 = 0;
    let s1 = 0;
    for (let k = 0; k < j; k++) {
      const qk = q[k];
      const uk = w[ri + k];
      const vk = w[rn + k];
      const x0 = w[r0 + k] - (u0 * qk + q0 * uk);
      const x1 = w[r1 + k] - (u1 * qk + q1 * uk);
      w[r0 + k] = x0;
      w[r1 + k] = x1;
      s0 += x0 * vk;
      s1 += x1 * vk;
      p[k] += x0 * v0 + x1 * v1;
    }
    // Tail: (j, j) diagonal of row j; (j+1, j) and the diagonal (j+1, j+1) of row j+1.
    const d0 = w[r0 + j] - (u0 * q0 + q0 * u0);
    w[r0 + j] = d0;
    const x1j = w[r1 + j] - (u1 * q0 + q1 * u0);
    w[r1 + j] = x1j;
    s1 += x1j * v0;
    const d1 = w[r1 + j + 1] - (u1 * q1 + q1 * u1);
    w[r1 + j + 1] = d1;
    p[j] += s0 + d0 * v0 + x1j * v1;
    p[j + 1] += s1 + d1 * v1;
  }
  if (j < count) {
    const r0 = j * n;
    const u0 = w[ri + j];
    const q0 = q[j];
    const v0 = w[rn + j];
    let s0 = 0;
    for (let k = 0; k < j; k++) {
      const x = w[r0 + k] - (u0 * q[k] + q0 * w[ri + k]);
      w[r0 + k] = x;
      s0 += x * w[rn + k];
      p[k] += x * v0;
    }
    const d0 = w[r0 + j] - (u0 * q0 + q0 * u0);
    w[r0 + j] = d0;
    p[j] += s0 + d0 * v0;
  }
}

/**
 * Builds reflector i from row i of w (entries 0..i−1), stores u in place and H in hh[i], and sets the
 * subdiagonal e[i]. Returns false (hh[i] = 0, row untouched) when entries 0..i−2 are already zero.
 */
function makeReflector(w: Float64Array, n: number, i: number, e: Float64Array, hh: Float64Array): boolean {
  const ri = i * n;
  const xl = w[ri + i - 1];
  let rest = 0;
  for (let k = 0; k < i - 1; k++) rest += w[ri + k] * w[ri + k];
  if (rest === 0) {
    e[i] = xl;
    hh[i] = 0;
    return false;
  }
  const sigma = Math.sqrt(rest + xl * xl);
  const g = xl >= 0 ? -sigma : sigma; // new subdiagonal; sign opposite to xl avoids cancellation
  e[i] = g;
  hh[i] = sigma * sigma - xl * g; // = uᵀu/2 = σ(σ + |x_l|)
  w[ri + i - 1] = xl - g;
  return true;
}

/** p[0..i−1] = (leading i×i block of lower-triangle w)·u with u = row i of w; row-contiguous. */
function symmetricMatvec(w: Float64Array, n: number, i: number, p: Float64Array): void {
  const ri = i * n;
  for (let k = 0; k < i; k++) p[k] = 0;
  for (let j = 0; j < i; j++) {
    const rj = j * n;
    const uj = w[ri + j];
    let s = 0;
    for (let k = 0; k < j; k++) {
      const x = w[rj + k];
      s += x * w[ri + k];
      p[k] += x * uj;
    }
    p[j] += s + w[rj + j] * uj;
  }
}

/**
 * Z ← Q Z (Z n×cols row-major) with Q = P_{n−1} ⋯ P_2 (P_i = I − u_i u_iᵀ/hh[i], u_i in row i of w, entries 0..i−1).
 * Reflectors i0..i1−1 are applied together: M = P_{i1−1} ⋯ P_{i0} = I − Y Tᵀ Yᵀ, where
 * Mᵀ = P_{i0} ⋯ P_{i1−1} = I − Y T Yᵀ with T upper triangular (LAPACK dlarft, forward, columnwise).
 * Only rows 0..i1−2 of Z are touched by the block.
 */
export function applyReflectors(w: Float64Array, hh: Float64Array, n: number, z: Float64Array, cols: number): void {
  if (cols === 0) return;
  const yt = new Float64Array(WY_BLOCK * n); // row c = u_{i0+c}, zero-padded to R
  const y = new Float64Array(n * WY_BLOCK); // Y = Ytᵀ (R × nb)
  const t = new Float64Array(WY_BLOCK * WY_BLOCK);
  const wrk = new Float64Array(WY_BLOCK * cols);
  const tmp = new Float64Array(WY_BLOCK);
  for (let i0 = 2; i0 < n; i0 += WY_BLOCK) {
    const i1 = Math.min(n, i0 + WY_BLOCK);
    const nb = i1 - i0;
    const rows = i1 - 1;
    yt.fill(0, 0, nb * rows);
    t.fill(0, 0, nb * nb);
    let any = false;
    for (let c = 0; c < nb; c++) {
      const i = i0 + c;
      if (hh[i] === 0) continue; // P_i = I: zero column, τ = 0
      any = true;
      const src = i * n;
      for (let r = 0; r < i; r++) yt[c * rows + r] = w[src + r];
    }
    if (!any) continue;
    for (let c = 0; c < nb; c++) {
      const i = i0 + c;
      const tau = hh[i] === 0 ? 0 : 1 / hh[i];
      t[c * nb + c] = tau;
      if (tau === 0) continue;
      // tmp[r] = y_rᵀ y_c over the shorter vector (length i0 + r), r < c.
      for (let r = 0; r < c; r++) {
        let sdot = 0;
        const len = i0 + r;
        for (let q = 0; q < len; q++) sdot += yt[r * rows + q] * yt[c * rows + q];
        tmp[r] = sdot;
      }
      // T[0..c−1][c] = −τ T[0..c−1][0..c−1] tmp (T upper triangular).
      for (let r = 0; r < c; r++) {
        let sdot = 0;
        for (let q = r; q < c; q++) sdot += t[r * nb + q] * tmp[q];
        t[r * nb + c] = -tau * sdot;
      }
    }
    // W = Yᵀ Z[0..rows) (nb × cols).
    gemm(nb, cols, rows, yt, 0, rows, z, 0, cols, wrk, 0, cols, 'set');
    // W ← Tᵀ W, in place from the last row up (row c needs rows r ≤ c).
    for (let c = nb - 1; c >= 0; c--) {
      const rc = c * cols;
      const tcc = t[c * nb + c];
      for (let j = 0; j < cols; j++) wrk[rc + j] *= tcc;
      for (let r = 0; r < c; r++) {
        const f = t[r * nb + c];
        if (f === 0) continue;
        const rr = r * cols;
        for (let j = 0; j < cols; j++) wrk[rc + j] += f * wrk[rr + j];
      }
    }
    // Z[0..rows) −= Y W.
    for (let r = 0; r < rows; r++) for (let c = 0; c < nb; c++) y[r * nb + c] = yt[c * rows + r];
    gemm(rows, cols, nb, y, 0, nb, wrk, 0, cols, z, 0, cols, 'sub');
  }
}
