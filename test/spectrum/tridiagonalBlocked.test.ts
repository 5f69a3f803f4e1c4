/**
 * Blocked Householder tridiagonalisation (eigh.ts, LAPACK dsytrd/dlatrd style, issue 15) against the unblocked
 * path on random, NTK-like and clustered matrices: the same similarity (eigenvalues of T equal within
 * 50·n·ε·‖A‖_F), Q orthogonal, Qᵀ A Q = T; and the SIMD symmetric mat-vec against a scalar one.
 */
import { describe, expect, it } from 'vitest';
import { applyReflectors, eighSymmetric, tridiagonalize, type TridiagonalOptions } from '../../src/spectrum/eigh.js';
import { tridiagonalQL } from '../../src/spectrum/tridiagonalEigen.js';
import { WasmSymmetricMatrix, wasmSymvSupported } from '../../src/spectrum/wasmSymv.js';
import { mulberry32, normalArray } from '../../src/random.js';
import { frobenius, haarRows, ntkGram, prescribedGram, randomSymmetric } from './helpers.js';

const EPS = 2 ** -52;

interface Reduced {
  d: Float64Array;
  e: Float64Array;
  q: Float64Array;
}

/** The blocked path runs its panel mat-vec in WebAssembly SIMD when w lives in a WasmSymmetricMatrix (as eighSymmetric does). */
function reduce(a: Float64Array, n: number, opts: TridiagonalOptions): Reduced {
  const host = opts.symv === 'scalar' || (opts.blockSize ?? 1) < 2 ? undefined : WasmSymmetricMatrix.create(n);
  const w = host ? host.w : a.slice();
  if (host) w.set(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hh = new Float64Array(n);
  tridiagonalize(w, n, d, e, hh, { ...opts, host });
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  applyReflectors(w, hh, n, q, n); // Q = P_{n−1} ⋯ P_2
  return { d, e, q };
}

function sortedEigenvalues(r: Reduced, n: number): number[] {
  const d = r.d.slice();
  const e = r.e.slice();
  tridiagonalQL(d, e, n);
  return Array.from(d).sort((x, y) => x - y);
}

/** ‖Qᵀ A Q − T‖_F and ‖QᵀQ − I‖_F. */
function residuals(a: Float64Array, r: Reduced, n: number): { similarity: number; orthogonality: number } {
  const { q, d, e } = r;
  const aq = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) aq[i * n + j] += aik * q[k * n + j];
    }
  }
  let sim = 0;
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        s += q[k * n + i] * aq[k * n + j];
        o += q[k * n + i] * q[k * n + j];
      }
      const t = i === j ? d[i] : i === j + 1 ? e[i] : j === i + 1 ? e[j] : 0;
      sim += (s - t) ** 2;
      orth += (o - (i === j ? 1 : 0)) ** 2;
    }
  }
  return { similarity: Math.sqrt(sim), orthogonality: Math.sqrt(orth) };
}

function ntkLike(seed: number, n: number): Float64Array {
  const d = 24;
  const x = normalArray(mulberry32(seed), n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
    for (let t = 0; t < d; t++) x[i * d + t] /= Math.sqrt(s);
  }
  return ntkGram(x, n, d);
}

function clustered(seed: number, n: number): Float64Array {
  // Four tight clusters (spread 1e-9) plus a few isolated values: deflation-heavy, ties in T.
  const lambda = new Float64Array(n);
  for (let j = 0; j < n; j++) lambda[j] = j < 4 ? 10 + j : [1, 2, 3, 4][j % 4] + 1e-9 * (j / n);
  return prescribedGram(haarRows(mulberry32(seed), n), lambda, n);
}

/**
 * `entrywise`: T itself matches the unblocked T up to signs. Not for clustered spectra: with ~8 distinct eigenvalues
 * the Krylov space is exhausted after ~8 reflectors, a subdiagonal is at rounding level and every later reflector is
 * fixed by rounding noise, so only the similarity is determined (eigenvalues, Q orthogonal, Qᵀ A Q = T).
 */
const MATRICES: { name: string; make: (n: number) => Float64Array; entrywise: boolean }[] = [
  { name: 'random', make: (n) => randomSymmetric(mulberry32(11), n), entrywise: true },
  { name: 'NTK-like', make: (n) => ntkLike(12, n), entrywise: true },
  { name: 'clustered', make: (n) => clustered(13, n), entrywise: false },
];

describe('blocked tridiagonalisation', () => {
  // n = 131 and 160 with nb = 16 (crossover 48): several panels, an odd leftover for the unblocked tail; nb = 32 at 200.
  const SHAPES = [
    { n: 131, opts: { blockSize: 16, crossover: 48 } },
    { n: 160, opts: { blockSize: 16, crossover: 48 } },
    { n: 200, opts: { blockSize: 32, crossover: 64 } },
    { n: 97, opts: { blockSize: 8, crossover: 32, symv: 'scalar' as const } }, // the path without WebAssembly SIMD
  ];
  for (const { name, make, entrywise } of MATRICES) {
    for (const { n, opts } of SHAPES) {
      it(`${name}, n = ${n}, nb = ${opts.blockSize}: the same tridiagonal as the unblocked path`, () => {
        const a = make(n);
        const normA = frobenius(a);
        const tol = 50 * n * EPS * normA;
        const blocked = reduce(a, n, opts);
        const plain = reduce(a, n, { blockSize: 0 });
        const lb = sortedEigenvalues(blocked, n);
        const lp = sortedEigenvalues(plain, n);
        let worst = 0;
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(lb[j] - lp[j]));
        expect(worst).toBeLessThanOrEqual(tol);
        // The reduction is unique up to signs: |d| and |e| agree with the unblocked path to rounding.
        for (let i = 0; entrywise && i < n; i++) {
          expect(Math.abs(blocked.d[i] - plain.d[i])).toBeLessThanOrEqual(tol);
          expect(Math.abs(Math.abs(blocked.e[i]) - Math.abs(plain.e[i]))).toBeLessThanOrEqual(tol);
        }
          const { similarity, orthogonality } = residuals(a, blocked, n);
        expect(orthogonality).toBeLessThanOrEqual(50 * n * EPS);
        expect(similarity).toBeLessThanOrEqual(tol);
      });
    }
  }

  it('eighSymmetric above the crossover (blocked by default): A v = λ v, orthonormal vectors', () => {
    const n = 300;
    const a = ntkLike(21, n);
    const { values, vectors } = eighSymmetric(a, n, { vectors: true });
    const normA = frobenius(a);
    let res = 0;
    for (let j = 0; j < n; j += 7) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * vectors![k * n + j];
        res = Math.max(res, Math.abs(s - values[j] * vectors![i * n + j]));
      }
    }
    expect(res).toBeLessThanOrEqual(50 * n * EPS * normA);
    const plain = reduce(a, n, { blockSize: 0 });
    const lp = sortedEigenvalues(plain, n).reverse();
    const only = eighSymmetric(a, n).values;
    for (let j = 0; j < n; j++) expect(Math.abs(only[j] - lp[j])).toBeLessThanOrEqual(50 * n * EPS * normA);
  });

  it.runIf(wasmSymvSupported())('SIMD symmetric mat-vec equals the scalar product (even and odd orders, in place)', () => {
    for (const n of [1, 2, 3, 8, 33, 64]) {
      // (n+1)×(n+1) matrix: the leading n×n block is A, row n holds u (what the reduction multiplies by).
      const rng = mulberry32(100 + n);
      const a = randomSymmetric(rng, n);
      const u = normalArray(rng, n);
      const m = n + 1;
      const host = WasmSymmetricMatrix.create(m)!;
      for (let i = 0; i < n; i++) for (let k = 0; k <= i; k++) host.w[i * m + k] = a[i * n + k];
      for (let i = 0; i < n; i++) for (let k = i + 1; k < m; k++) host.w[i * m + k] = NaN; // the upper triangle is never read
      host.w.set(u, n * m);
      const p = new Float64Array(n);
      host.apply(n, p);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * u[k];
        expect(Math.abs(p[i] - s)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(s)));
      }
    }
  });
});
