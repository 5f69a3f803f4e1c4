/**
 * eighSymmetric({ vectors: true, vectorCount: k }): all eigenvalues plus the top-k eigenvectors by inverse
 * iteration on the tridiagonal form, against the full (divide-and-conquer) path on the same matrices.
 */
import { describe, expect, it } from 'vitest';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { tridiagonalInverseIteration, tridiagonalQL } from '../../src/spectrum/tridiagonalEigen.js';
import { mulberry32 } from '../../src/random.js';
import { frobenius, haarRows, ntkGram, pairErrors, prescribedGram, randomSymmetric } from './helpers.js';
import { normalArray } from '../../src/random.js';

const EPS = 2 ** -52;

/** ‖U_aᵀ U_b‖_F² / k over the k columns of two n×k blocks (1 iff the subspaces coincide). */
function overlap(ua: Float64Array, ka: number, ub: Float64Array, kb: number, n: number, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let d = 0;
      for (let t = 0; t < n; t++) d += ua[t * ka + i] * ub[t * kb + j];
      s += d * d;
    }
  }
  return s / k;
}

/** Checks the partial result against the full one: values, residuals, orthogonality, subspace. */
function expectMatchesFull(a: Float64Array, n: number, k: number, gapSafeK = k): void {
  const full = eighSymmetric(a, n, { vectors: true });
  const part = eighSymmetric(a, n, { vectors: true, vectorCount: k });
  expect(part.values.length).toBe(n);
  expect(part.vectors!.length).toBe(n * k);
  const scale = Math.max(frobenius(a), Number.MIN_VALUE);
  const tol = 50 * n * EPS;
  for (let i = 0; i < n; i++) expect(Math.abs(part.values[i] - full.values[i]) / scale).toBeLessThan(tol);
  const { residual, orthogonality } = pairErrors(a, n, part.values, part.vectors!, k);
  expect(residual / scale).toBeLessThan(tol);
  expect(orthogonality).toBeLessThan(tol);
  // The leading subspace (up to a gap) is the same as the full solver's.
  if (gapSafeK > 0) expect(1 - overlap(part.vectors!, k, full.vectors!, n, n, gapSafeK)).toBeLessThan(1e-10);
}

describe('eighSymmetric top-k eigenvectors (inverse iteration)', () => {
  it('random symmetric, n = 200, k = 1, 10, 64, 100', () => {
    const n = 200;
    const a = randomSymmetric(mulberry32(11), n);
    for (const k of [1, 10, 64, 100]) expectMatchesFull(a, n, k);
  });

  it('NTK-like (ReLU kernel, rapidly decaying spectrum), n = 300, k = 10 and 64', () => {
    const n = 300;
    const d = 8;
    const x = normalArray(mulberry32(5), n * d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
      for (let t = 0; t < d; t++) x[i * d + t] /= Math.sqrt(s);
    }
    const a = ntkGram(x, n, d);
    expectMatchesFull(a, n, 10, 0);
    expectMatchesFull(a, n, 64, 0);
  });

  it('C-fold degenerate clusters (K̄ ⊗ I_C) and a low-rank null space', () => {
    const n = 120;
    const q = haarRows(mulberry32(21), n);
    const lambda = new Float64Array(n);
    // 12 clusters of 10 equal values, then a numerically zero tail: the top-k crosses clusters and the null space.
    for (let j = 0; j < 40; j++) lambda[j] = 2 ** -Math.floor(j / 10);
    const a = prescribedGram(q, lambda, n);
    expectMatchesFull(a, n, 10); // exactly one whole cluster: its span is determined
    expectMatchesFull(a, n, 40);
    expectMatchesFull(a, n, 50, 40); // 10 vectors from the 80-dimensional null space: orthonormal, any basis
  });

  it('identity, zero matrix and diagonal with ties', () => {
    const n = 40;
    const id = new Float64Array(n * n);
    for (let i = 0; i < n; i++) id[i * n + i] = 1;
    expectMatchesFull(id, n, 5, 0);
    expectMatchesFull(new Float64Array(n * n), n, 5, 0);
    const diag = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = i % 3;
    expectMatchesFull(diag, n, 13, 13);
  });

  it('vectorCount ≥ n/2 and = n take the full path; 0 gives an empty block', () => {
    const n = 30;
    const a = randomSymmetric(mulberry32(4), n);
    const full = eighSymmetric(a, n, { vectors: true });
    const all = eighSymmetric(a, n, { vectors: true, vectorCount: n });
    expect(all.vectors).toEqual(full.vectors);
    const half = eighSymmetric(a, n, { vectors: true, vectorCount: 20 });
    for (let i = 0; i < n; i++) for (let j = 0; j < 20; j++) expect(half.vectors![i * 20 + j]).toBe(full.vectors![i * n + j]);
    expect(eighSymmetric(a, n, { vectors: true, vectorCount: 0 }).vectors!.length).toBe(0);
    expect(() => eighSymmetric(a, n, { vectors: true, vectorCount: -1 })).toThrow(RangeError);
  });

  it('tridiagonalInverseIteration: eigenvectors of a tridiagonal matrix (1-2-1)', () => {
    const n = 50;
    const d = new Float64Array(n).fill(2);
    const e = new Float64Array(n).fill(-1);
    e[0] = 0;
    const vals = d.slice();
    const ee = e.slice();
    tridiagonalQL(vals, ee, n);
    const asc = Float64Array.from(vals).sort();
    const top = asc.slice(n - 7);
    const z = tridiagonalInverseIteration(d, e, n, top);
    expect(d.every((v) => v === 2)).toBe(true);
    for (let c = 0; c < 7; c++) {
      let r2 = 0;
      for (let i = 0; i < n; i++) {
        let s = 2 * z[i * 7 + c];
        if (i > 0) s -= z[(i - 1) * 7 + c];
        if (i + 1 < n) s -= z[(i + 1) * 7 + c];
        r2 += (s - top[c] * z[i * 7 + c]) ** 2;
      }
      expect(Math.sqrt(r2)).toBeLessThan(1e-12);
    }
  });
});
