import { describe, expect, it } from 'vitest';
import { denseMatVec, lanczosTopK } from '../../src/spectrum/lanczos.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { mulberry32 } from '../../src/random.js';
import { haarRows, pairErrors, prescribedGram, reluNtk } from './helpers.js';

const n = 500;
const q = haarRows(mulberry32(21), n);

/** |⟨u, v⟩| for column j of two n×k / n×n column-major-in-rows arrays. */
function overlap(u: Float64Array, ku: number, v: Float64Array, kv: number, j: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += u[i * ku + j] * v[i * kv + j];
  return Math.abs(s);
}

describe('lanczosTopK vs the exact solver', () => {
  it('spectral gap: top-10 values, vectors and residuals (block 4 and single-vector)', () => {
    // Ten well-separated values 10..1 above a bulk in [0, 0.5]: a gap of 0.5 below λ_10.
    const lam = Float64Array.from({ length: n }, (_, i) => (i < 10 ? 10 - i : 0.5 * (1 - i / n)));
    const kMat = prescribedGram(q, lam, n);
    const exact = eighSymmetric(kMat, n, { vectors: true });
    for (const blockSize of [4, 1]) {
      const res = lanczosTopK(kMat, n, { k: 10, rng: mulberry32(5), blockSize, tol: 1e-10 });
      expect(res.converged).toBe(true);
      expect(res.values.length).toBe(10);
      for (let j = 0; j < 10; j++) {
        // Ritz values converge with the square of the residual (≤ 1e-9 here): 1e-12·λ_1 is ample.
        expect(Math.abs(res.values[j] - exact.values[j])).toBeLessThan(1e-12 * lam[0]);
        // Vector angle ≲ residual/gap = 1e-9/0.5.
        expect(1 - overlap(res.vectors, 10, exact.vectors!, n, j)).toBeLessThan(1e-12);
        // Reported residual = what we measure, and small: tol·λ_1 plus rounding.
        expect(res.residuals[j]).toBeLessThan(1e-10 * lam[0] + 1e-12);
      }
      const check = pairErrors(kMat, n, res.values, res.vectors, 10);
      expect(Math.abs(check.residual - Math.max(...res.residuals))).toBeLessThan(1e-12);
      expect(check.orthogonality).toBeLessThan(1e-12);
    }
  });

  it('power-law spectrum λ_i = 1/i (n = 500, k = 24): values to 1e-12·λ_1', () => {
    const lam = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const kMat = prescribedGram(q, lam, n);
    // Default basis (one cycle) and a 40-vector basis, which needs thick restarts to converge.
    for (const maxBasis of [undefined, 40]) {
      const res = lanczosTopK(kMat, n, { k: 24, rng: mulberry32(6), maxBasis });
      expect(res.converged).toBe(true);
      if (maxBasis) expect(res.restarts).toBeGreaterThan(0);
      for (let j = 0; j < 24; j++) expect(Math.abs(res.values[j] - lam[j])).toBeLessThan(1e-12);
      expect(Math.max(...res.residuals)).toBeLessThan(1e-10);
    }
  });

  it('exact multiplicities: top value with multiplicity 3 and the doubly degenerate circle spectrum', () => {
    const lam = Float64Array.from({ length: n }, (_, i) => (i < 3 ? 5 : i < 6 ? 3 : 1 / (i + 1)));
    const res = lanczosTopK(prescribedGram(q, lam, n), n, { k: 8, rng: mulberry32(7) });
    for (let j = 0; j < 8; j++) expect(Math.abs(res.values[j] - lam[j])).toBeLessThan(1e-11);
    // C3 circle, n = 600: λ_0, then pairs (λ_1 twice, λ_2 twice, …).
    const m = 600;
    const c = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) c[i * m + j] = reluNtk(Math.cos((2 * Math.PI * (i - j)) / m));
    const exact = eighSymmetric(c, m).values;
    const lz = lanczosTopK(c, m, { k: 16, rng: mulberry32(8) });
    expect(lz.converged).toBe(true);
    for (let j = 0; j < 16; j++) expect(Math.abs(lz.values[j] - exact[j])).toBeLessThan(1e-10 * exact[0]);
  });

  it('a mat-vec callback gives the same pairs as the matrix form', () => {
    const lam = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -1.5);
    const kMat = prescribedGram(q, lam, n);
    const a = lanczosTopK(kMat, n, { k: 6, rng: mulberry32(9) });
    const b = lanczosTopK(denseMatVec(kMat, n), n, { k: 6, rng: mulberry32(9) });
    for (let j = 0; j < 6; j++) expect(Math.abs(a.values[j] - b.values[j])).toBeLessThan(1e-13);
    expect(b.matvecs).toBeGreaterThan(6);
  });

  it('a tight budget returns unconverged pairs flagged as such, with honest residuals', () => {
    const lam = Float64Array.from({ length: n }, (_, i) => (i < 10 ? 10 - i : 0.5 * (1 - i / n)));
    const kMat = prescribedGram(q, lam, n);
    const res = lanczosTopK(kMat, n, { k: 20, rng: mulberry32(10), maxBasis: 48, maxMatvecs: 60 });
    expect(res.converged).toBe(false);
    const check = pairErrors(kMat, n, res.values, res.vectors, 20);
    expect(Math.abs(check.residual - Math.max(...res.residuals))).toBeLessThan(1e-12);
    expect(Math.max(...res.residuals)).toBeGreaterThan(1e-10 * lam[0]);
  });

  it('small n falls back to the dense solver (also through a mat-vec)', () => {
    const m = 30;
    const lam = Float64Array.from({ length: m }, (_, i) => m - i);
    const qm = haarRows(mulberry32(3), m);
    const kMat = prescribedGram(qm, lam, m);
    const res = lanczosTopK(denseMatVec(kMat, m), m, { k: 5, rng: mulberry32(1) });
    for (let j = 0; j < 5; j++) expect(Math.abs(res.values[j] - lam[j])).toBeLessThan(1e-12 * m);
    expect(res.converged).toBe(true);
    expect(res.matvecs).toBe(m + 5);
  });

  it('rejects bad arguments with the numbers', () => {
    expect(() => lanczosTopK(new Float64Array(10), 3, { k: 1, rng: mulberry32(1) })).toThrow(/10 entries, expected n\*n = 9/);
    expect(() => lanczosTopK(new Float64Array(9), 3, { k: 0, rng: mulberry32(1) })).toThrow(/k must be a positive integer, got 0/);
  });
});
