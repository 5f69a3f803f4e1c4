/**
 * The observed-curve fallback of A14: the horizon gain is never negative, never more than the recent losses support
 * (issue 11: a loss flat to 4 digits must not be read as a 6–9 % gain), and K2 is read off one fitted curve.
 */
import { describe, expect, it } from 'vitest';
import { observedKess } from '../../src/analysis/observedKess.js';
import { kessK4 } from '../../src/analysis/kess.js';
import { mulberry32, normal } from '../../src/random.js';

describe('observedKess', () => {
  it('gives a non-negative horizon gain on any decreasing noisy loss, and the smoothed loss at s_t', () => {
    const draw = normal(mulberry32(4));
    for (let trial = 0; trial < 20; trial++) {
      const b = 0.3 + 0.1 * trial;
      // A power law with 5 % multiplicative noise: the fit's value at s_t differs from the last noisy point.
      const losses = Array.from({ length: 60 }, (_, i) => ({ step: 10 * i, loss: (0.1 + 2 * (10 * i + 1) ** -b) * Math.exp(0.05 * draw()) }));
      const step = 590;
      const res = observedKess(losses, { step, horizon: 0.2 * step, rho: 0.1 });
      expect(res.lossAtHorizon).toBeDefined();
      expect(res.lossNow - res.lossAtHorizon!).toBeGreaterThanOrEqual(0);
      expect(Math.abs(res.lossNow - (0.1 + 2 * 591 ** -b)) / res.lossNow).toBeLessThan(0.1); // median of 5, not one noisy point
    }
  });

  it('sees a plateau: the horizon gain is capped by the recent window\'s own decrease (issue 11)', () => {
    // Two fast exponentials, then a plateau at 7.81e-4 with a small tail: true 40-step gain at s = 200 is 0.54 %.
    // A global power law cannot bend into the plateau; before the cap it read 9.1e-4 → 8.1e-4 (an 11 % gain).
    const L = (s: number) => 7.81e-4 + 2e-2 * Math.exp(-s / 10) + 1e-3 * Math.exp(-s / 40);
    const losses = Array.from({ length: 201 }, (_, s) => ({ step: s, loss: L(s) }));
    const res = observedKess(losses, { step: 200, horizon: 40, rho: 0.1 });
    const gain = (res.lossNow - res.lossAtHorizon!) / res.lossNow;
    const truth = (L(200) - L(240)) / L(200);
    expect(truth).toBeCloseTo(0.0054, 4);
    expect(res.lossNow).toBeCloseTo(L(198), 15); // median of the last 5 of a decreasing series
    // The cap (recent rate × H) is an upper bound for a convex curve, and a fair one: the window's centre lags 9.5
    // steps (rate × e^{9.5/40} = 1.27) and a linear extrapolation over H = τ overshoots by 1/(1 − e^{−1}) = 1.58: 2.0×.
    expect(gain).toBeGreaterThanOrEqual(truth);
    expect(gain).toBeLessThan(2.1 * truth);
    expect(gain).toBeLessThan(0.02); // below δ_H: the plateau can stop
    expect(res.gainPerStep!).toBeLessThan(2 * (L(200) - L(201)));
    // K2 is the kink of the fitted curve, not ~0 (L(s_0) from the same curve).
    expect(res.kessStep!).toBeGreaterThan(5);
    expect(res.kessStep!).toBeLessThan(60);
  });

  it('keeps the full fitted gain while the recent losses still fall that fast', () => {
    // A pure power law (the model's own family): the cap is inactive, the gain is the fit's.
    const L = (s: number) => 0.05 + 2 * (s + 1) ** -0.5;
    const losses = Array.from({ length: 100 }, (_, i) => ({ step: 10 * i, loss: L(10 * i) }));
    const res = observedKess(losses, { step: 990, horizon: 198, rho: 0.1 });
    expect(res.lossAtHorizon!).toBeCloseTo(res.lossNow - (L(990) - L(1188)), 6);
    // K2 of A(s+1)^{-1/2} is 33.27 (A12) when L_∞ = 0; with L_∞ > 0 it is the same (K2 ignores constants).
    expect(res.kessStep!).toBeCloseTo(33.2705, 2);
  });

  it('reads no KESS, horizon or gain off a rising loss, and flags it (issue 11 item 4)', () => {
    // Learnt, then rising 0.2 %/step over the last 30 points (6 % over the 20-point window).
    const L = (s: number) => (s <= 70 ? 0.1 + (s + 1) ** -1 : (0.1 + 71 ** -1) * (1 + 0.002 * (s - 70)));
    const losses = Array.from({ length: 101 }, (_, s) => ({ step: s, loss: L(s) }));
    const res = observedKess(losses, { step: 100, horizon: 20, rho: 0.1 });
    expect(res).toEqual({ lossNow: L(98), diverging: true });
    // Nothing learnt at all (flat then up): A = 0 or rising, no sweet spot either way.
    const flatUp = Array.from({ length: 30 }, (_, s) => ({ step: s, loss: 1 + 0.01 * s }));
    expect(observedKess(flatUp, { step: 29, horizon: 6, rho: 0.1 }).diverging).toBe(true);
    // A noisy plateau (±0.3 %, below the 1 % rise tolerance) is not diverging.
    const plateau = Array.from({ length: 100 }, (_, s) => ({ step: s, loss: 0.1 + (s + 1) ** -1.5 + 0.0003 * Math.sin(1.7 * s) }));
    expect(observedKess(plateau, { step: 99, horizon: 20, rho: 0.1 }).diverging).toBeUndefined();
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
