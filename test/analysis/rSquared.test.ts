/**
 * Issue 11, item 1: an exact fit is a perfect fit (R² = 1) wherever R² is computed, also when the observations are
 * flat (SS_tot = 0 or at the rounding floor); flat data that the model misses gets R² = 0.
 */
import { describe, expect, it } from 'vitest';
import { fitPowerLawLoss } from '../../src/analysis/lossCurveFit.js';
import { rSquared } from '../../src/analysis/scanGoldenMinimum.js';
import { fitTimeScale } from '../../src/analysis/timeMap.js';
import { fitDecay } from '../../src/spectrum/powerLaw.js';

describe('rSquared', () => {
  it('is the usual 1 − SS_res/SS_tot away from the rounding floor', () => {
    // y = 0, 1, 2, 3: SS_tot = 5; SS_res = 1 → 0.8; SS_res = 10 → −1 (worse than the mean).
    expect(rSquared(1, [0, 1, 2, 3])).toBeCloseTo(0.8, 15);
    expect(rSquared(10, [0, 1, 2, 3])).toBeCloseTo(-1, 15);
  });

  it('gives 1 for an exact fit of flat data and 0 for flat data the model misses', () => {
    expect(rSquared(0, [2, 2, 2, 2, 2])).toBe(1);
    // Rounding-level sums on both sides (3e-16 relative): still an exact fit, not the ratio of two rounding errors.
    const flat = [-2, -2 + 4e-16, -2 - 4e-16, -2, -2 + 4e-16];
    expect(rSquared(1e-30, flat)).toBe(1);
    expect(rSquared(0.01, [2, 2, 2, 2, 2])).toBe(0);
    expect(rSquared(NaN, [1, 2])).toBeNaN();
  });
});

describe('R² of the fits on flat and exact data', () => {
  it('NTK-time fit (A11): a kernel-regime window on the loss floor fitted exactly has R²_time = 1', () => {
    // A plateau with a tail that moves ln L by < 1e-13 over the window: SS_tot is at the rounding floor.
    const floor = 0.125;
    const predict = (tau: number) => floor + 1e-15 * Math.exp(-tau);
    const pts = Array.from({ length: 8 }, (_, j) => ({ step: 60 + j, loss: predict(0.02 * j) }));
    const fit = fitTimeScale(pts, predict, { anchorStep: 60, eta: 0.02 });
    expect(fit.fitted).toBe(true);
    expect(fit.r2).toBe(1);
    // The same flat window with a model 5 % off in level: nothing explained.
    const off = fitTimeScale(pts, (tau) => 1.05 * predict(tau), { anchorStep: 60, eta: 0.02 });
    expect(off.r2).toBe(0);
  });

  it('loss-curve fit (A14 fallback): an exactly flat loss has R² = 1', () => {
    const f = fitPowerLawLoss(Array.from({ length: 10 }, (_, i) => ({ step: 10 * i, loss: 0.3 })), { offset: 1 });
    expect(f!.r2).toBe(1);
    expect(f!.curve.loss(1000)).toBeCloseTo(0.3, 12);
  });

  it('eigen-decay fit (A3): a flat spectrum whose logs differ by rounding has R² = 1', () => {
    // 1/3 and its neighbours: the mean of ln λ is not exactly representable, so S_yy and the SSE are both rounding.
    const third = 1 / 3;
    const v = Float64Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? third : i % 3 === 1 ? third * (1 + 2 ** -52) : third * (1 - 2 ** -53)));
    const f = fitDecay(v, 1, 40, { grid: 'dense' });
    expect(f.r2).toBe(1);
    expect(Math.abs(f.exponent)).toBeLessThan(1e-12);
  });
});
