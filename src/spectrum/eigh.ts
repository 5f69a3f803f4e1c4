/**
 * Exact symmetric eigendecomposition (science.md A0/A1): Householder tridiagonalisation followed by the
 * implicit-shift QL algorithm (EISPACK tred2/tql2 lineage), on flat row-major Float64Arrays.
 *
 * Layout choices (why the loops look the way they do):
 * - Only the LOWER triangle is read and updated. Reflector i annihilates row i left of the subdiagonal,
 *   working from the bottom row up, so every Householder vector is a contiguous row segment and the
 *   symmetric mat-vec and rank-2 update of the shrinking leading block both run along rows.
 * - The rank-2 update of step i is fused with the mat-vec of step i−1 (one pass over the block per step
 *   instead of two): the tridiagonalisation is memory-bound, so this halves its traffic.
 * - Eigenvectors are kept TRANSPOSED while they are built (row j = vector j): Qᵀ is formed by right-
 *   multiplying reflectors (row dot + row axpy), and each QL rotation mixes two rows. One QL sweep's
 *   rotations are recorded and then applied column-block by column-block with a carried row, so each
 *   element is loaded and stored once per sweep. The transpose to column layout happens once at the end.
 * - Eigenvalues only: no reflector accumulation and no rotation work at all (O(n²) after the reduction).
 */

export interface EighOptions {
  /** Also compute eigenvectors (default false). */
  vectors?: boolean;
}

export interface EighResult {
  /** Eigenvalues, sorted descending. */
  values: Float64Array;
  /** n×n row-major, eigenvector j in column j (vectors[i*n + j]); present iff requested. */
  vectors?: Float64Array;
}

const EPS = 2 ** -52;
/** Column block for applying a sweep of rotations: 2 KiB per row segment keeps the carry in L1. */
const ROT_BLOCK = 256;
/** QL iterations allowed per eigenvalue before giving up (LAPACK dsteqr allows 30). */
const MAX_ITER_PER_VALUE = 60;

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
  if (n === 0) return wantVectors ? { values: new Float64Array(0), vectors: new Float64Array(0) } : { values: new Float64Array(0) };

  // Copy the lower triangle and find its largest magnitude (also rejects NaN/Inf with a position).
  const w = new Float64Array(n * n);
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
  tridiagonalize(w, n, d, e, hh);

  let vt: Float64Array | undefined;
  if (wantVectors) vt = formQt(w, n, hh);
  tql(d, e, n, vt);

  // Sort descending (stable on index so equal values keep the solver's order).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const sorted = Array.from(order).sort((x, y) => d[y] - d[x] || x - y);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[sorted[j]] * scale;
  if (!vt) return { values };

  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = sorted[j] * n;
    for (let i = 0; i < n; i++) vectors[i * n + j] = vt[src + i];
  }
  return { values, vectors };
}

/**
 * Householder reduction of the lower triangle of w to tridiagonal form, bottom row first.
 * On return d = diagonal, e[i] = T[i][i−1] (e[0] = 0), and for i ≥ 2 row i of w holds the Householder
 * vector u_i (entries 0..i−1) with P_i = I − u uᵀ/hh[i] (hh[i] = 0 ⇒ P_i = I). A = Q T Qᵀ with
 * Q = P_{n−1} ⋯ P_2.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array, hh: Float64Array): void {
  // p holds (leading block)·u for the current reflector; for steps after the first it is accumulated
  // during the previous step's rank-2 update.
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let have = n > 2 && makeReflector(w, n, n - 1, e, hh);
  if (have) symmetricMatvec(w, n, n - 1, p);
  for (let i = n - 1; i >= 2; i--) {
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
    for (let j = 0; j < next; j++) {
      const rj = j * n;
      const uj = w[ri + j];
      const qj = q[j];
      const vj = w[rn + j]; // component j of reflector i−1
      let s = 0;
      for (let k = 0; k < j; k++) {
        const x = w[rj + k] - (uj * q[k] + qj * w[ri + k]);
        w[rj + k] = x;
        s += x * w[rn + k];
        p[k] += x * vj;
      }
      const xd = w[rj + j] - (uj * q[j] + qj * uj);
      w[rj + j] = xd;
      p[j] += s + xd * vj;
    }
  }
  if (n > 1) e[1] = w[n];
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
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
 * Qᵀ = P_2 P_3 ⋯ P_{n−1}, built by right-multiplication M ← M P_i (row dot, row axpy). Before step i,
 * M = diag(M′, I) with M′ of order i−1, so only rows and columns 0..i−1 are touched.
 */
function formQt(w: Float64Array, n: number, hh: Float64Array): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  for (let i = 2; i < n; i++) {
    const h = hh[i];
    if (h === 0) continue;
    const ri = i * n;
    for (let r = 0; r < i; r++) {
      const rr = r * n;
      let t = 0;
      for (let k = 0; k < i; k++) t += m[rr + k] * w[ri + k];
      t /= h;
      if (t === 0) continue;
      for (let k = 0; k < i; k++) m[rr + k] -= t * w[ri + k];
    }
  }
  return m;
}

/** √(a² + b²) without destructive over/underflow. */
function hypot(a: number, b: number): number {
  const x = a < 0 ? -a : a;
  const y = b < 0 ? -b : b;
  if (x > y) {
    const t = y / x;
    return x * Math.sqrt(1 + t * t);
  }
  if (y === 0) return 0;
  const t = x / y;
  return y * Math.sqrt(1 + t * t);
}

/**
 * Implicit-shift QL on the symmetric tridiagonal (d, e) with e[i] = T[i][i−1] (tql2). Eigenvalues end up
 * in d (unsorted). If vt is given, its rows are rotated alongside (vt starts as Qᵀ, ends as Vᵀ).
 */
function tql(d: Float64Array, e: Float64Array, n: number, vt: Float64Array | undefined): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  const cs = vt ? new Float64Array(n) : undefined;
  const sn = vt ? new Float64Array(n) : undefined;
  const carry = vt ? new Float64Array(Math.min(ROT_BLOCK, n)) : undefined;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    const al = Math.abs(d[l]) + Math.abs(e[l]);
    if (al > tst1) tst1 = al;
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_ITER_PER_VALUE) {
          throw new Error(`eighSymmetric: QL did not converge for eigenvalue ${l} of ${n} after ${MAX_ITER_PER_VALUE} iterations`);
        }
        // Wilkinson-type shift from the leading 2×2 block.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL sweep from m−1 up to l.
        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (cs) {
            cs[i] = c;
            sn![i] = s;
          }
        }
        if (vt) applySweep(vt, n, l, m, cs!, sn!, carry!);
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Applies the rotations of one QL sweep (i = m−1 down to l, each mixing rows i and i+1 of vt) in column
 * blocks. Within a block the row-(i+1) result is final once rotation i is done, so the running row is
 * carried in a small buffer: each element is read and written once per sweep.
 */
function applySweep(
  vt: Float64Array,
  n: number,
  l: number,
  m: number,
  cs: Float64Array,
  sn: Float64Array,
  carry: Float64Array,
): void {
  for (let k0 = 0; k0 < n; k0 += ROT_BLOCK) {
    const len = Math.min(ROT_BLOCK, n - k0);
    const rm = m * n + k0;
    for (let k = 0; k < len; k++) carry[k] = vt[rm + k];
    for (let i = m - 1; i >= l; i--) {
      const c = cs[i];
      const s = sn[i];
      const ri = i * n + k0;
      const ri1 = ri + n;
      for (let k = 0; k < len; k++) {
        const x = vt[ri + k];
        const hk = carry[k];
        vt[ri1 + k] = s * x + c * hk;
        carry[k] = c * x - s * hk;
      }
    }
    const rl = l * n + k0;
    for (let k = 0; k < len; k++) vt[rl + k] = carry[k];
  }
}
