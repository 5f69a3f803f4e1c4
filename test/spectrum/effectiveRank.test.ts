import { describe, expect, it } from 'vitest';
import {
  entropyRank,
  participationRatio,
  participationRatioFromMatrix,
  ridgeDof,
  stableRank,
  tailRanks,
} from '../../src/spectrum/effectiveRank.js';
import { mulberry32 } from '../../src/random.js';

describe('effective ranks (docs/science.md A4)', () => {
  it('C1 table for λ_i = i^−α, n = 500 (exact input, 7 significant digits)', () => {
    const rows = [
      [0.5, 400.2149, 275.7983, 43.28336],
      [1, 115.4535, 28.08536, 6.792823],
      [2, 5.054319, 2.49393, 1.642936],
    ];
    for (const [alpha, erank, pr, srank] of rows) {
      const v = Float64Array.from({ length: 500 }, (_, i) => (i + 1) ** -alpha);
      const sum = v.reduce((a, b) => a + b, 0);
      // Half a unit in the 7th significant digit.
      const tol = (x: number) => 0.5 * 10 ** (Math.floor(Math.log10(x)) - 6);
      expect(Math.abs(entropyRank(v) - erank)).toBeLessThan(tol(erank));
      expect(Math.abs(participationRatio(v) - pr)).toBeLessThan(tol(pr));
      expect(Math.abs(stableRank(sum, v[0]) - srank)).toBeLessThan(tol(srank));
    }
  });

  it('ordering 1 ≤ srank ≤ PR ≤ erank ≤ rank on random PSD spectra (seeded)', () => {
    const rng = mulberry32(17);
    for (let trial = 0; trial < 50; trial++) {
      const len = 1 + Math.floor(rng() * 60);
      const v = Float64Array.from({ length: len }, () => (rng() < 0.2 ? 0 : rng() ** 4));
      v.sort((a, b) => b - a);
      if (v[0] === 0) continue;
      const sum = v.reduce((a, b) => a + b, 0);
      const rank = v.filter((x) => x > 0).length;
      const sr = stableRank(sum, v[0]);
      const pr = participationRatio(v);
      const er = entropyRank(v);
      // 1e-12 relative slack for rounding in the sums; the inequalities are exact in real arithmetic.
      expect(sr).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(pr).toBeGreaterThanOrEqual(sr * (1 - 1e-12));
      expect(er).toBeGreaterThanOrEqual(pr * (1 - 1e-12));
      expect(er).toBeLessThanOrEqual(rank * (1 + 1e-12));
    }
  });

  it('scale invariance, and PR from the matrix equals PR from the spectrum for a diagonal K', () => {
    const v = [4, 2, 1, 0.5, 0];
    const scaled = v.map((x) => 1e6 * x);
    expect(entropyRank(scaled)).toBeCloseTo(entropyRank(v), 12);
    expect(participationRatio(scaled)).toBeCloseTo(participationRatio(v), 12);
    const tr = v.reduce((a, b) => a + b, 0);
    const fro = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    expect(participationRatioFromMatrix(tr, fro)).toBeCloseTo(participationRatio(v), 14);
  });

  it('ridge dof: default δ = tr/N·1e-3; explicit δ; bounds 0 ≤ d_δ ≤ rank', () => {
    const v = [1, 1, 1, 0];
    // δ = 0.75e-3 → 3·1/(1 + 0.00075)
    expect(ridgeDof(v)).toBeCloseTo(3 / 1.00075, 14);
    expect(ridgeDof(v, 1)).toBeCloseTo(1.5, 14);
    // Partial spectrum of a size-10 kernel: tr/N uses N = 10.
    expect(ridgeDof(v, undefined, 10)).toBeCloseTo(3 / 1.0003, 14);
  });

  it('tail ranks r_k and R_k (Bartlett) by hand', () => {
    const v = [4, 2, 1, 1];
    expect(tailRanks(v, 0)).toEqual({ r: 8 / 4, R: 64 / 22 });
    expect(tailRanks(v, 1)).toEqual({ r: 4 / 2, R: 16 / 6 });
    expect(tailRanks(v, 3)).toEqual({ r: 1, R: 1 });
    expect(() => tailRanks(v, 4)).toThrow(/\[0, 3\], got 4/);
  });

  it('rejects negative or non-finite eigenvalues with the index, NaN for an all-zero spectrum', () => {
    expect(() => entropyRank([1, -1e-3])).toThrow(/eigenvalue 1 is -0.001/);
    expect(() => participationRatio([NaN])).toThrow(/eigenvalue 0 is NaN/);
    expect(entropyRank([0, 0])).toBeNaN();
    expect(participationRatio([0, 0])).toBeNaN();
    expect(stableRank(0, 0)).toBeNaN();
  });
});
