/**
 * Eigenproblems of a symmetric tridiagonal matrix T (diagonal d, subdiagonal e with e[i] = T[i][i−1],
 * e[0] unused), the second stage of the exact solver (docs/science.md A0).
 *
 * - tridiagonalQL: implicit-shift QL (EISPACK tql2). O(n²) for eigenvalues; used for eigenvalues-only
 *   solves and for the small leaf blocks of divide and conquer.
 * - tridiagonalDC: Cuppen's divide and conquer with the deflation of LAPACK dlaed2, a safeguarded
 *   "middle way" rational iteration for the secular equation (Li / LAPACK dlaed4), and the Gu–Eisenstat
 *   recomputation of the rank-one vector that keeps the eigenvectors orthogonal. Its cost is dominated by
 *   matrix products (gemm), at most (4/3)n³ flops and much less when deflation is heavy, which it is for
 *   kernel matrices with rapidly decaying spectra. QL with vectors costs ≈ 6n³ in rotations instead.
 */
import { gemm } from './gemm.js';

const EPS = 2 ** -52;
/** QL iterations allowed per eigenvalue before giving up (LAPACK dsteqr allows 30). */
const MAX_ITER_PER_VALUE = 60;
/** Column block for applying a sweep of rotations: 2 KiB per row segment keeps the carry in L1. */
const ROT_BLOCK = 256;
/** Divide-and-conquer leaf size (LAPACK's SMLSIZ is 25). */
const LEAF = 32;
/** Secular-equation iterations before accepting the current bracket midpoint. */
const MAX_SECULAR_ITER = 100;

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
 * Implicit-shift QL on (d, e), e[i] = T[i][i−1]. Eigenvalues end up in d (unsorted); e is destroyed.
 * If vt (n×n, row-major) is given, its rows are rotated alongside: start from I to get the eigenvectors
 * of T as rows (row j ↔ d[j]), or from Qᵀ to get those of Q T Qᵀ.
 */
export function tridiagonalQL(d: Float64Array, e: Float64Array, n: number, vt?: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
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
          throw new Error(`tridiagonalQL: no convergence for eigenvalue ${l} of ${n} after ${MAX_ITER_PER_VALUE} iterations`);
        }
        // Shift from the leading 2×2 block.
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
function applySweep(vt: Float64Array, n: number, l: number, m: number, cs: Float64Array, sn: Float64Array, carry: Float64Array): void {
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

/** Scratch buffers reused across merges (grown on demand, never shrunk). */
class Workspace {
  private bufs = new Map<string, Float64Array>();
  get(name: string, size: number): Float64Array {
    let b = this.bufs.get(name);
    if (!b || b.length < size) {
      b = new Float64Array(Math.max(size, 16));
      this.bufs.set(name, b);
    }
    return b;
  }
}

/**
 * Divide and conquer on (d, e), e[i] = T[i][i−1]. Returns Z (n×n row-major, eigenvector of T for d[j]
 * in column j); d is overwritten by the eigenvalues (unsorted), e is destroyed.
 */
export function tridiagonalDC(d: Float64Array, e: Float64Array, n: number): Float64Array {
  const z = new Float64Array(n * n);
  if (n === 0) return z;
  // Scale to unit max-norm by a power of two (exact), so the absolute deflation tolerance 8ε is
  // relative to ‖T‖ (LAPACK dstedc does the same).
  let amax = 0;
  for (let i = 0; i < n; i++) amax = Math.max(amax, Math.abs(d[i]), i > 0 ? Math.abs(e[i]) : 0);
  if (amax === 0) {
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
    return z;
  }
  const scale = 2 ** Math.round(Math.log2(amax));
  for (let i = 0; i < n; i++) {
    d[i] /= scale;
    e[i] /= scale;
  }
  const ws = new Workspace();
  recurse(d, e, z, n, 0, n, ws);
  for (let i = 0; i < n; i++) d[i] *= scale;
  return z;
}

function recurse(d: Float64Array, e: Float64Array, z: Float64Array, n: number, lo: number, hi: number, ws: Workspace): void {
  const s = hi - lo;
  if (s <= LEAF) {
    leaf(d, e, z, n, lo, hi);
    return;
  }
  const mid = lo + (s >> 1);
  // T = diag(T1', T2') + |ρ| w wᵀ with w = e_{mid−1} + sign(ρ) e_mid.
  const rho = e[mid];
  const beta = Math.abs(rho);
  d[mid - 1] -= beta;
  d[mid] -= beta;
  recurse(d, e, z, n, lo, mid, ws);
  recurse(d, e, z, n, mid, hi, ws);
  merge(d, z, n, lo, mid, hi, rho, ws);
}

/** Small block: QL with the eigenvectors accumulated as rows, written transposed into the Z block. */
function leaf(d: Float64Array, e: Float64Array, z: Float64Array, n: number, lo: number, hi: number): void {
  const s = hi - lo;
  const dd = d.slice(lo, hi);
  const ee = new Float64Array(s);
  for (let i = 1; i < s; i++) ee[i] = e[lo + i];
  const vt = new Float64Array(s * s);
  for (let i = 0; i < s; i++) vt[i * s + i] = 1;
  tridiagonalQL(dd, ee, s, vt);
  for (let c = 0; c < s; c++) {
    d[lo + c] = dd[c];
    for (let r = 0; r < s; r++) z[(lo + r) * n + lo + c] = vt[c * s + r];
  }
}

const TOP = 0;
const BOTTOM = 1;
const DENSE = 2;

/**
 * Merges the solved halves [lo, mid) and [mid, hi): eigenproblem of D + ρ' ẑẑᵀ (D = the halves'
 * eigenvalues, ẑ = [last row of Z1; sign(ρ)·first row of Z2]/√2, ρ' = 2|ρ|), then Z ← diag(Z1, Z2)·U.
 */
function merge(d: Float64Array, z: Float64Array, n: number, lo: number, mid: number, hi: number, rho: number, ws: Workspace): void {
  const s = hi - lo;
  const n1 = mid - lo;
  const n2 = hi - mid;
  const sign = rho >= 0 ? 1 : -1;
  const zv = new Float64Array(s);
  const type = new Uint8Array(s);
  let nz2 = 0;
  for (let c = 0; c < s; c++) {
    const v = c < n1 ? z[(mid - 1) * n + lo + c] : sign * z[mid * n + lo + c];
    zv[c] = v;
    type[c] = c < n1 ? TOP : BOTTOM;
    nz2 += v * v;
  }
  const nz = Math.sqrt(nz2);
  for (let c = 0; c < s; c++) zv[c] /= nz;
  const rhoEff = Math.abs(rho) * nz2;
  const dv = d.slice(lo, hi);
  const order = Array.from({ length: s }, (_, i) => i).sort((x, y) => dv[x] - dv[y]);

  // Deflation (LAPACK dlaed2): tiny ẑ components, then pairs of nearly equal eigenvalues, which a
  // Givens rotation turns into one tiny component.
  let dmax = 0;
  let zmax = 0;
  for (let c = 0; c < s; c++) {
    dmax = Math.max(dmax, Math.abs(dv[c]));
    zmax = Math.max(zmax, Math.abs(zv[c]));
  }
  const tol = 8 * EPS * Math.max(dmax, rhoEff * zmax);
  const kept = new Int32Array(s);
  const defl = new Int32Array(s);
  let nk = 0;
  let nd = 0;
  if (rhoEff * zmax <= tol) {
    for (const c of order) defl[nd++] = c;
  } else {
    let prev = -1;
    for (const c of order) {
      if (rhoEff * Math.abs(zv[c]) <= tol) {
        defl[nd++] = c;
        continue;
      }
      if (prev < 0) {
        prev = c;
        continue;
      }
      const tau = hypot(zv[c], zv[prev]);
      const cs = zv[c] / tau;
      const sn = -zv[prev] / tau;
      const t = dv[c] - dv[prev];
      if (Math.abs(t * cs * sn) <= tol) {
        zv[c] = tau;
        zv[prev] = 0;
        rotateColumns(z, n, lo, mid, hi, lo + prev, lo + c, type[prev], type[c], cs, sn);
        const merged = type[prev] === type[c] ? type[c] : DENSE;
        type[prev] = merged;
        type[c] = merged;
        const dp = dv[prev];
        dv[prev] = dp * cs * cs + dv[c] * sn * sn;
        dv[c] = dp * sn * sn + dv[c] * cs * cs;
        defl[nd++] = prev;
      } else {
        kept[nk++] = prev;
      }
      prev = c;
    }
    if (prev >= 0) kept[nk++] = prev;
  }

  const k = nk;
  const dk = new Float64Array(k);
  const zk = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    dk[i] = dv[kept[i]];
    zk[i] = zv[kept[i]];
  }
  // Secular equation: roots λ_j and differences delta[j][i] = d_i − λ_j (kept accurately).
  const lam = new Float64Array(k);
  const delta = ws.get('delta', k * k);
  const scratch = ws.get('scratch', k);
  if (k === 1) {
    lam[0] = dk[0] + rhoEff * zk[0] * zk[0];
    delta[0] = 1; // the single vector is e_0; any nonzero value gives it after normalisation
  } else {
    for (let j = 0; j < k; j++) lam[j] = solveSecular(j, dk, zk, rhoEff, k, delta, scratch);
  }
  if (k > 1) {
    // Gu–Eisenstat: the ẑ for which the computed λ are exact eigenvalues, then u_j = ẑ ./ (d − λ_j).
    const zh = scratch;
    for (let i = 0; i < k; i++) {
      let w = -delta[i * k + i] / rhoEff;
      for (let j = 0; j < k; j++) if (j !== i) w *= -delta[j * k + i] / (dk[j] - dk[i]);
      const mag = Math.sqrt(Math.max(w, 0));
      zh[i] = zk[i] >= 0 ? mag : -mag;
    }
    for (let j = 0; j < k; j++) {
      const row = j * k;
      let nrm = 0;
      for (let i = 0; i < k; i++) {
        const u = zh[i] / delta[row + i];
        delta[row + i] = u;
        nrm += u * u;
      }
      const inv = 1 / Math.sqrt(nrm);
      for (let i = 0; i < k; i++) delta[row + i] *= inv;
    }
  }
  // delta now holds Uᵀ (row j = eigenvector j of the rank-one problem, component i ↔ kept[i]).

  // New Z block = [Z_kept·U | Z_deflated]. Top rows only see TOP/DENSE columns, bottom rows BOTTOM/DENSE.
  const iTop: number[] = [];
  const iBot: number[] = [];
  for (let i = 0; i < k; i++) {
    if (type[kept[i]] !== BOTTOM) iTop.push(i);
    if (type[kept[i]] !== TOP) iBot.push(i);
  }
  const kt = iTop.length;
  const kb = iBot.length;
  const aTop = ws.get('aTop', n1 * kt);
  const aBot = ws.get('aBot', n2 * kb);
  const uTop = ws.get('uTop', kt * k);
  const uBot = ws.get('uBot', kb * k);
  for (let r = 0; r < n1; r++) {
    const zr = (lo + r) * n + lo;
    for (let q = 0; q < kt; q++) aTop[r * kt + q] = z[zr + kept[iTop[q]]];
  }
  for (let r = 0; r < n2; r++) {
    const zr = (mid + r) * n + lo;
    for (let q = 0; q < kb; q++) aBot[r * kb + q] = z[zr + kept[iBot[q]]];
  }
  for (let q = 0; q < kt; q++) for (let j = 0; j < k; j++) uTop[q * k + j] = delta[j * k + iTop[q]];
  for (let q = 0; q < kb; q++) for (let j = 0; j < k; j++) uBot[q * k + j] = delta[j * k + iBot[q]];
  const dbuf = ws.get('defl', s * nd);
  for (let r = 0; r < s; r++) {
    const zr = (lo + r) * n + lo;
    for (let t = 0; t < nd; t++) dbuf[r * nd + t] = z[zr + defl[t]];
  }
  gemm(n1, k, kt, aTop, 0, kt, uTop, 0, k, z, lo * n + lo, n, 'set');
  gemm(n2, k, kb, aBot, 0, kb, uBot, 0, k, z, mid * n + lo, n, 'set');
  for (let r = 0; r < s; r++) {
    const zr = (lo + r) * n + lo + k;
    for (let t = 0; t < nd; t++) z[zr + t] = dbuf[r * nd + t];
  }
  for (let j = 0; j < k; j++) d[lo + j] = lam[j];
  for (let t = 0; t < nd; t++) d[lo + k + t] = dv[defl[t]];
}

/** Givens rotation of columns cp, cc of the Z block: x' = c·x + s·y, y' = c·y − s·x, on the rows they occupy. */
function rotateColumns(
  z: Float64Array,
  n: number,
  lo: number,
  mid: number,
  hi: number,
  cp: number,
  cc: number,
  tp: number,
  tc: number,
  c: number,
  s: number,
): void {
  const r0 = tp === TOP && tc === TOP ? lo : tp === BOTTOM && tc === BOTTOM ? mid : lo;
  const r1 = tp === TOP && tc === TOP ? mid : hi;
  for (let r = r0; r < r1; r++) {
    const o = r * n;
    const x = z[o + cp];
    const y = z[o + cc];
    z[o + cp] = c * x + s * y;
    z[o + cc] = c * y - s * x;
  }
}

/**
 * Root j of the secular equation f(λ) = 1 + ρ Σ z_i²/(d_i − λ) (d ascending and distinct, z_i ≠ 0,
 * ρ > 0): λ_j ∈ (d_j, d_{j+1}), and λ_{k−1} ∈ (d_{k−1}, d_{k−1} + ρ‖z‖²]. The unknown is the offset τ from
 * the nearer pole so that d_i − λ_j = (d_i − d_origin) − τ keeps full relative accuracy; those
 * differences are written to delta[j*k + i]. Each step is the "middle way" two-pole rational model
 * (LAPACK dlaed4), falling back to Newton and to bisection of a maintained bracket.
 */
function solveSecular(j: number, d: Float64Array, z: Float64Array, rho: number, k: number, delta: Float64Array, dd: Float64Array): number {
  let origin: number;
  let lower: number;
  let upper: number;
  if (j < k - 1) {
    const half = (d[j + 1] - d[j]) / 2;
    let f = 1;
    for (let i = 0; i < k; i++) f += (rho * z[i] * z[i]) / (d[i] - d[j] - half);
    if (f >= 0) {
      origin = j;
      lower = 0;
      upper = half;
    } else {
      origin = j + 1;
      lower = -half;
      upper = 0;
    }
  } else {
    let zz = 0;
    for (let i = 0; i < k; i++) zz += z[i] * z[i];
    origin = k - 1;
    lower = 0;
    upper = rho * zz;
  }
  const dOrg = d[origin];
  for (let i = 0; i < k; i++) dd[i] = d[i] - dOrg;
  let tau = 0.5 * (lower + upper);
  for (let iter = 0; iter < MAX_SECULAR_ITER; iter++) {
    let psi = 0;
    let phi = 0;
    let dpsi = 0;
    let dphi = 0;
    for (let i = 0; i <= j; i++) {
      const t = z[i] / (dd[i] - tau);
      psi += rho * z[i] * t;
      dpsi += rho * t * t;
    }
    for (let i = j + 1; i < k; i++) {
      const t = z[i] / (dd[i] - tau);
      phi += rho * z[i] * t;
      dphi += rho * t * t;
    }
    const w = 1 + psi + phi;
    if (w === 0) break;
    // f increases with λ on the interval: the sign of w tells which side the root is on.
    if (w > 0) upper = tau;
    else lower = tau;
    const erretm = 8 * (phi - psi + 1) + Math.abs(tau) * (dpsi + dphi);
    if (Math.abs(w) <= EPS * erretm) break;
    let eta: number;
    const dj = dd[j] - tau;
    if (j < k - 1) {
      const dj1 = dd[j + 1] - tau;
      let c = w - dj * dpsi - dj1 * dphi;
      const a = (dj + dj1) * w - dj * dj1 * (dpsi + dphi);
      const b = dj * dj1 * w;
      if (c < 0) c = -c;
      if (c === 0) eta = b / a;
      else if (a <= 0) eta = (a - Math.sqrt(Math.abs(a * a - 4 * b * c))) / (2 * c);
      else eta = (2 * b) / (a + Math.sqrt(Math.abs(a * a - 4 * b * c)));
    } else {
      // One pole on the left: model c + s/(δ − η) with s = δ²ψ', c = w − δψ'.
      const c = w - dj * dpsi;
      eta = c !== 0 ? dj + (dj * dj * dpsi) / c : NaN;
    }
    if (!(w * eta < 0)) eta = -w / (dpsi + dphi); // the step must move against w: Newton instead
    let next = tau + eta;
    if (!(next > lower && next < upper)) next = 0.5 * (lower + upper);
    if (next === tau || upper - lower <= 2 * EPS * Math.max(Math.abs(lower), Math.abs(upper))) {
      tau = next;
      break;
    }
    tau = next;
  }
  const row = j * k;
  for (let i = 0; i < k; i++) delta[row + i] = dd[i] - tau;
  return dOrg + tau;
}

/** Inverse-iteration steps per eigenvector before accepting the current iterate (LAPACK dstein MAXITS). */
const INVIT_MAX_ITER = 5;
/** Further steps after the growth test first passes (dstein EXTRA). */
const INVIT_EXTRA = 2;
/** Eigenvalues closer than this fraction of ‖T‖₁ form a cluster whose vectors are orthogonalised (dstein ORTOL). */
const INVIT_CLUSTER = 1e-3;

/**
 * Eigenvectors of T (d, e with e[i] = T[i][i−1]; neither modified) for the given eigenvalues, which must be
 * sorted ascending, by inverse iteration as LAPACK dstein does it: each shift is pushed at least 10ε|λ| above
 * the previous one; T − λI = PLU with partial pivoting (dlagtf), tiny pivots of U replaced by ±ε‖T‖ (dlagts);
 * each iterate is orthogonalised against the already computed vectors of its cluster (consecutive values within
 * 1e-3·‖T‖₁) and iterated until its growth shows convergence, plus two more steps. Deterministic start vectors.
 * Returns Z (n×k row-major, column c ↔ values[c], unit norm, largest component positive). O(n·k) plus
 * O(n·c²) per cluster of c values.
 */
export function tridiagonalInverseIteration(d: Float64Array, e: Float64Array, n: number, values: Float64Array): Float64Array {
  const k = values.length;
  const z = new Float64Array(n * k);
  if (k === 0 || n === 0) return z;
  if (n === 1) {
    for (let c = 0; c < k; c++) z[c] = 1;
    return z;
  }
  let onenrm = 0;
  let tmax = 0;
  for (let i = 0; i < n; i++) {
    const left = i > 0 ? Math.abs(e[i]) : 0;
    const right = i + 1 < n ? Math.abs(e[i + 1]) : 0;
    onenrm = Math.max(onenrm, Math.abs(d[i]) + left + right);
    tmax = Math.max(tmax, Math.abs(d[i]), left);
  }
  const vt = new Float64Array(k * n); // row c = vector c
  if (onenrm === 0) {
    // T = 0: any orthonormal basis; the unit vectors.
    for (let c = 0; c < k; c++) z[(c % n) * k + c] = 1;
    return z;
  }
  const ortol = INVIT_CLUSTER * onenrm;
  const dtpcrt = Math.sqrt(0.1 / n);
  // LU of T − λI: diagonal a, first and second superdiagonals b, s2, multipliers m, interchanges piv.
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const s2 = new Float64Array(n);
  const m = new Float64Array(n);
  const piv = new Uint8Array(n);
  const x = new Float64Array(n);
  let seed = 0x2545f491;
  const rand = () => {
    // xorshift32, uniform in (−1, 1): dstein's dlarnv(2) start vectors, deterministic.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2147483648 - 1;
  };
  let prev = -Infinity;
  let clusterStart = 0;
  for (let c = 0; c < k; c++) {
    let lam = values[c];
    if (c > 0) {
      const pertol = 10 * Math.abs(EPS * lam);
      if (lam - prev < pertol) lam = prev + pertol;
      if (lam - prev > ortol) clusterStart = c;
    }
    prev = lam;
    // dlagtf: factor T − λI.
    for (let i = 0; i < n; i++) a[i] = d[i] - lam;
    for (let i = 0; i + 1 < n; i++) b[i] = e[i + 1];
    for (let i = 0; i + 1 < n; i++) {
      const sub = e[i + 1];
      s2[i] = 0;
      if (Math.abs(sub) <= Math.abs(a[i])) {
        piv[i] = 0;
        const mult = a[i] === 0 ? 0 : sub / a[i];
        m[i] = mult;
        a[i + 1] -= mult * b[i];
      } else {
        piv[i] = 1;
        const mult = a[i] / sub;
        a[i] = sub;
        const temp = a[i + 1];
        a[i + 1] = b[i] - mult * temp;
        if (i + 2 < n) {
          s2[i] = b[i + 1];
          b[i + 1] = -mult * s2[i];
        }
        b[i] = temp;
        m[i] = mult;
      }
    }
    let umax = 0;
    for (let i = 0; i < n; i++) umax = Math.max(umax, Math.abs(a[i]), Math.abs(b[i]), Math.abs(s2[i]));
    const tol = EPS * Math.max(umax, tmax);
    for (let i = 0; i < n; i++) x[i] = rand();
    const row = c * n;
    let converged = 0;
    for (let iter = 0; iter < INVIT_MAX_ITER + INVIT_EXTRA + 1; iter++) {
      // Scale the right-hand side as dstein does so the growth test below is meaningful.
      let asum = 0;
      for (let i = 0; i < n; i++) asum += Math.abs(x[i]);
      const scl = (n * onenrm * Math.max(EPS, Math.abs(a[n - 1]))) / asum;
      for (let i = 0; i < n; i++) x[i] *= scl;
      // dlagts(−1): L then U with perturbed pivots.
      for (let i = 0; i + 1 < n; i++) {
        if (piv[i] === 0) x[i + 1] -= m[i] * x[i];
        else {
          const t = x[i];
          x[i] = x[i + 1];
          x[i + 1] = t - m[i] * x[i];
        }
      }
      for (let i = n - 1; i >= 0; i--) {
        let r = x[i];
        if (i + 1 < n) r -= b[i] * x[i + 1];
        if (i + 2 < n) r -= s2[i] * x[i + 2];
        let p = a[i];
        if (Math.abs(p) < tol) p = p >= 0 ? tol : -tol;
        x[i] = r / p;
      }
      // Orthogonalise against the cluster's earlier vectors (twice: one pass can leave O(ε·growth)).
      for (let pass = 0; pass < (c > clusterStart ? 2 : 0); pass++) {
        for (let q = clusterStart; q < c; q++) {
          const rq = q * n;
          let dot = 0;
          for (let i = 0; i < n; i++) dot += x[i] * vt[rq + i];
          for (let i = 0; i < n; i++) x[i] -= dot * vt[rq + i];
        }
      }
      let inf = 0;
      for (let i = 0; i < n; i++) inf = Math.max(inf, Math.abs(x[i]));
      if (!Number.isFinite(inf) || inf === 0) {
        for (let i = 0; i < n; i++) x[i] = rand();
        continue;
      }
      if (inf >= dtpcrt && ++converged > INVIT_EXTRA) break;
      // Renormalise to avoid overflow across iterations (the next scaling uses only its 1-norm).
      for (let i = 0; i < n; i++) x[i] /= inf;
    }
    let nrm2 = 0;
    let jmax = 0;
    for (let i = 0; i < n; i++) {
      nrm2 += x[i] * x[i];
      if (Math.abs(x[i]) > Math.abs(x[jmax])) jmax = i;
    }
    const inv = (x[jmax] < 0 ? -1 : 1) / Math.sqrt(nrm2);
    for (let i = 0; i < n; i++) vt[row + i] = x[i] * inv;
  }
  for (let i = 0; i < n; i++) {
    const r = i * k;
    for (let c = 0; c < k; c++) z[r + c] = vt[c * n + i];
  }
  return z;
}
