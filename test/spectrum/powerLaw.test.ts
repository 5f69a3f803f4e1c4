import { describe, expect, it } from 'vitest';
import { defaultDecayWindow, fitDecay, fitEsdPowerLaw, hillAlpha, logIndexGrid, theilSenSlope } from '../../src/spectrum/powerLaw.js';
import { mulberry32 } from '../../src/random.js';

describe('logIndexGrid', () => {
  it('is ascending, deduplicated, integer and includes both endpoints', () => {
    const g = Array.from(logIndexGrid(2, 65));
    expect(g[0]).toBe(2);
    expect(g[g.length - 1]).toBe(65);
    for (let i = 1; i < g.length; i++) expect(g[i]).toBeGreaterThan(g[i - 1]);
    // numpy: len(unique(round(geomspace(2, 65, 32)))) = 26 (the C3 oracle grid).
    expect(g.length).toBe(26);
  });
  it('never exceeds the window size', () => {
    expect(Array.from(logIndexGrid(5, 12))).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });
  it('rejects bad windows with the numbers', () => {
    expect(() => logIndexGrid(0, 10)).toThrow(/lo = 0, hi = 10/);
    expect(() => logIndexGrid(10, 3)).toThrow(/lo = 10, hi = 3/);
  });
});

describe('fitDecay (docs/science.md A3)', () => {
  const n = 500;
  const floor = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -2 + 1e-5);

  it('noise-floor pitfall: log grid [1, 100] gives ≈ 1.985, dense [1, 500] ≈ 1.665', () => {
    // Oracle values are printed to 3 decimals (numpy: 1.98517 / R² 0.99995 and 1.66547 / R² 0.981).
    const log = fitDecay(floor, 1, 100);
    expect(Math.abs(log.exponent - 1.985)).toBeLessThan(0.001);
    expect(log.r2).toBeGreaterThan(0.9999);
    const dense = fitDecay(floor, 1, n, { grid: 'dense' });
    expect(Math.abs(dense.exponent - 1.665)).toBeLessThan(0.001);
    expect(Math.abs(dense.r2 - 0.981)).toBeLessThan(0.001);
    expect(dense.points).toBe(n);
  });

  it('recovers A and s of an exact power law (intercept = ln A)', () => {
    const v = Float64Array.from({ length: 300 }, (_, i) => 7 * (i + 1) ** -1.3);
    const f = fitDecay(v, 3, 200, { theilSen: true });
    expect(f.exponent).toBeCloseTo(1.3, 12);
    expect(f.intercept).toBeCloseTo(Math.log(7), 11);
    expect(f.theilSen).toBeCloseTo(1.3, 12);
    expect(f.maxAbsResidual).toBeLessThan(1e-12);
  });

  it('fewer than 10 distinct grid points → NaN, with the count reported', () => {
    const v = Float64Array.from({ length: 50 }, (_, i) => (i + 1) ** -1);
    const f = fitDecay(v, 2, 10); // 9 indices
    expect(f.exponent).toBeNaN();
    expect(f.r2).toBeNaN();
    expect(f.points).toBe(9);
    expect(fitDecay(v, 2, 11).exponent).toBeCloseTo(1, 12); // 10 points is enough
  });

  it('zero (clipped) values are skipped, and too few positive points → NaN', () => {
    const v = Float64Array.from({ length: 40 }, (_, i) => (i < 8 ? (i + 1) ** -2 : 0));
    const f = fitDecay(v, 1, 40);
    expect(f.exponent).toBeNaN();
    expect(f.points).toBe(8);
  });

  it('Theil–Sen ignores a single spike that drags OLS', () => {
    const v = Float64Array.from({ length: 200 }, (_, i) => (i + 1) ** -1.5);
    const spiked = new Float64Array(v);
    const onGrid = logIndexGrid(1, 200)[24]; // a mid-window grid index
    spiked[onGrid - 1] *= 50;
    const f = fitDecay(spiked, 1, 200, { theilSen: true });
    expect(Math.abs(f.exponent - 1.5)).toBeGreaterThan(0.02);
    expect(Math.abs(f.theilSen! - 1.5)).toBeLessThan(1e-9);
  });

  it('rejects a window outside the data with the numbers', () => {
    expect(() => fitDecay(new Float64Array(10), 1, 11)).toThrow(/\[1, 11\].*\[1, 10\]/);
  });

  it('theilSenSlope of a line is its slope; NaN without distinct x', () => {
    expect(theilSenSlope([0, 1, 2, 3], [1, 3, 5, 7])).toBe(2);
    expect(theilSenSlope([1, 1], [0, 5])).toBeNaN();
  });
});

describe('defaultDecayWindow (docs/science.md A3)', () => {
  it('i_lo = max(C + 1, 2); i_hi = min(⌊r_num/2⌋, max{i: λ_i ≥ 100·tol})', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => (i + 1) ** -2);
    expect(defaultDecayWindow(v, 1, 100, 0)).toEqual({ lo: 2, hi: 50 });
    expect(defaultDecayWindow(v, 10, 100, 0)).toEqual({ lo: 11, hi: 50 });
    // 100·tol = 1e-3 → λ_i ≥ 1e-3 for i ≤ 31.
    expect(defaultDecayWindow(v, 1, 100, 1e-5)).toEqual({ lo: 2, hi: 31 });
  });
});

describe('ESD power-law fit (Hill/CSN, docs/science.md A3)', () => {
  /** n samples from a continuous power law p(x) ∝ x^(−α), x ≥ xmin (inverse CDF). */
  function pareto(seed: number, n: number, alpha: number, xmin: number): Float64Array {
    const rng = mulberry32(seed);
    return Float64Array.from({ length: n }, () => xmin * (1 - rng()) ** (-1 / (alpha - 1)));
  }

  it('hillAlpha equals 1 + k/Σ ln(x/x_min) for a hand-checked sample', () => {
    const { alpha, tail } = hillAlpha([1, Math.E, Math.E ** 2, 0.5], 1);
    expect(tail).toBe(3);
    expect(alpha).toBeCloseTo(1 + 3 / 3, 14);
    expect(() => hillAlpha([1], 0)).toThrow(/positive, got 0/);
  });

  it('recovers α of a Pareto sample (α = 2.5, n = 3000) within 0.1 with a small KS distance', () => {
    // MLE standard error (α − 1)/√k ≈ 0.03 for k = 3000; 0.1 allows for x_min selection noise.
    const x = pareto(9, 3000, 2.5, 1);
    const fit = fitEsdPowerLaw(x);
    expect(Math.abs(fit.alpha - 2.5)).toBeLessThan(0.1);
    expect(fit.ks).toBeLessThan(0.03);
    expect(fit.tail).toBeGreaterThanOrEqual(10);
  });

  it('finds the power-law tail above a non-power-law bulk (x_min near the true cut-off)', () => {
    // 2000 Pareto(α = 3, x_min = 1) values plus 2000 uniform values in (0, 0.5): the bulk must be excluded.
    const tailPart = pareto(4, 2000, 3, 1);
    const rng = mulberry32(5);
    const bulk = Float64Array.from({ length: 2000 }, () => 0.5 * rng());
    const fit = fitEsdPowerLaw(Float64Array.from([...tailPart, ...bulk]));
    expect(fit.xmin).toBeGreaterThanOrEqual(0.45);
    expect(Math.abs(fit.alpha - 3)).toBeLessThan(0.15);
  });

  it('eigenvalues λ_i = i^(−s) give α ≈ 1 + 1/s', () => {
    const v = Float64Array.from({ length: 2000 }, (_, i) => (i + 1) ** -1);
    const fit = fitEsdPowerLaw(v);
    expect(Math.abs(fit.alpha - 2)).toBeLessThan(0.05);
  });

  it('too few positive values → NaN', () => {
    const fit = fitEsdPowerLaw([3, 2, 1, 0, 0]);
    expect(fit.alpha).toBeNaN();
    expect(fit.tail).toBe(0);
  });
});
