/**
 * The observed-curve fallback of A14 reads the horizon gain off one fitted curve, so a fit that sits above or below
 * the data cannot turn into a negative (or inflated) gain.
 */
import { describe, expect, it } from 'vitest';
import { observedKess } from '../../src/analysis/observedKess.js';
import { kessK4 } from '../../src/analysis/kess.js';
import { mulberry32, normal } from '../../src/random.js';

describe('observedKess', () => {
  it('gives a non-negative horizon gain on any decreasing noisy loss, and the fitted curve at s_t', () => {
    const draw = normal(mulberry32(4));
    for (let trial = 0; trial < 20; trial++) {
      const b = 0.3 + 0.1 * trial;
      // A power law with 5 % multiplicative noise: the fit's value at s_t differs from the last noisy point.
      const losses = Array.from({ length: 60 }, (_, i) => ({ step: 10 * i, loss: (0.1 + 2 * (10 * i + 1) ** -b) * Math.exp(0.05 * draw()) }));
      const step = 590;
      const res = observedKess(losses, { step, horizon: 0.2 * step, rho: 0.1 });
      expect(res.lossAtHorizon).toBeDefined();
      expect(res.lossNow - res.lossAtHorizon!).toBeGreaterThanOrEqual(0);
      expect(Math.abs(res.lossNow - (0.1 + 2 * 591 ** -b)) / res.lossNow).toBeLessThan(0.1); // fitted value, not a noisy point
    }
  });

  it('says nothing before the curve can be fitted', () => {
    expect(observedKess([{ step: 0, loss: 1 }], { step: 0, horizon: 0, rho: 0.1 })).toEqual({ lossNow: 1 });
  });
});

describe('kessK4 on a diverging prediction', () => {
  it('reports no knee instead of failing', () => {
    expect(kessK4((s) => (s > 50 ? Infinity : 1 / s), { sMin: 1, sMax: 100 })).toBeUndefined();
  });
});
