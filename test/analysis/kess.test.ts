import { describe, expect, it } from 'vitest';
import { firstCrossing, kessK1, kessK2, kessK3, kessK4, tabulatedCurve } from '../../src/analysis/kess.js';
import type { LossCurve } from '../../src/analysis/kess.js';
import { avgRatio } from '../../src/analysis/marginalGain.js';
import { predictedGainMse, predictedLossMse } from '../../src/analysis/prediction.js';
import type { ModalState, PredictionMode } from '../../src/analysis/prediction.js';

/** docs/science.md C6/C7 example A. */
const exampleA: ModalState = { lambda: Float64Array.of(100, 10, 0.1), coeff2: Float64Array.of(1, 1, 1), cL: 1 / 6, tol: 0 };
const ETA = 0.015;
const curveA = (mode: PredictionMode): LossCurve => ({
  loss: (s) => predictedLossMse(exampleA, ETA, s, mode),
  gain: (s) => predictedGainMse(exampleA, ETA, s, mode),
});
const cont = curveA('continuous');
const disc = curveA('discrete');

describe('KESS on example A (docs/science.md C7): every printed number comes from the CONTINUOUS curve', () => {
  // Tolerances are half a unit of the last printed digit.
  it('K2 (ρ = 0.1) → 28.0763 with L = 0.172110', () => {
    const s = kessK2(cont, { rho: 0.1, s0: 0, sMax: 1e5 }) as number;
    expect(Math.abs(s - 28.0763)).toBeLessThan(5e-5);
    expect(Math.abs(cont.loss(s) - 0.17211)).toBeLessThan(5e-7);
    // At s* the marginal-to-average ratio of A10 is exactly ρ.
    expect(avgRatio(cont.gain(s), s, 0, cont.loss(0), cont.loss(s))).toBeCloseTo(0.1, 10);
  });
  it('K3 (p = 1e-4) → 510.826', () => {
    expect(Math.abs((kessK3(cont, { price: 1e-4, sMax: 1e5 }) as number) - 510.826)).toBeLessThan(5e-4);
  });
  it('K1 (ε = 0.05, L∞ = 0) → 1897.12 and K1 (L∞ := L(1000)) → 694.18', () => {
    expect(Math.abs((kessK1(cont, { eps: 0.05, Linf: 0, sMax: 1e5 }) as number) - 1897.12)).toBeLessThan(5e-3);
    expect(Math.abs((kessK1(cont, { eps: 0.05, Linf: cont.loss(1000), sMax: 1000 }) as number) - 694.18)).toBeLessThan(5e-3);
  });
  it('K4 Kneedle on (log10 s, L), s ∈ [1, 1e4], 4001-point log grid → ≈ 23.55', () => {
    // The knee is a grid point; 23.5505 = 10^1.372 on this grid (numpy gives the same point).
    expect(Math.abs((kessK4(cont, { sMin: 1, sMax: 1e4, points: 4001 }) as number) - 23.55)).toBeLessThan(0.01);
  });
  it('the discrete curve does not reproduce K2, K3, K1(L∞=0) or K4 (it agrees only on K1 with L∞ := L(1000))', () => {
    // numpy on the discrete curve: K2 27.3142, K3 510.948, K1 1896.65, K1' 694.178, K4 23.99.
    expect(Math.abs((kessK2(disc, { sMax: 1e5 }) as number) - 27.3142)).toBeLessThan(1e-4);
    expect(Math.abs((kessK3(disc, { price: 1e-4, sMax: 1e5 }) as number) - 510.948)).toBeLessThan(1e-3);
    expect(Math.abs((kessK1(disc, { Linf: 0, sMax: 1e5 }) as number) - 1896.65)).toBeLessThan(1e-2);
    expect(Math.abs((kessK1(disc, { Linf: disc.loss(1000), sMax: 1000 }) as number) - 694.18)).toBeLessThan(5e-3);
    expect(Math.abs((kessK4(disc, { sMin: 1, sMax: 1e4, points: 4001 }) as number) - 23.99)).toBeLessThan(0.01);
  });
});

describe('K2 closed forms (docs/science.md A12)', () => {
  it.each([
    [0.2, 2.6604],
    [0.1, 3.61495],
    [0.05, 4.51391],
    [0.01, 6.4746],
  ])('pure exponential L∞ + A e^{−2κs}, ρ = %f → x = 2κs* = %f (independent of L∞, A, κ)', (rho, x) => {
    for (const [Linf, A, kappa] of [
      [0, 1, 0.5],
      [0.3, 2, 0.037],
      [5, 1e-3, 40],
    ]) {
      const c: LossCurve = { loss: (s) => Linf + A * Math.exp(-2 * kappa * s), gain: (s) => 2 * kappa * A * Math.exp(-2 * kappa * s) };
      const s = kessK2(c, { rho, sMax: 1e4 / kappa }) as number;
      // printed to 6 significant digits
      expect(Math.abs(2 * kappa * s - x)).toBeLessThan(5e-5 * x);
    }
  });
  it('L = A(s+1)^{−1} → s* = 1/ρ − 1 = 9; L = A(s+1)^{−1/2} → s* = ((5+√45)/2)² − 1 = 33.2705 (bisection: 1e-9)', () => {
    const p1: LossCurve = { loss: (s) => 3 / (s + 1), gain: (s) => 3 / (s + 1) ** 2 };
    expect(Math.abs((kessK2(p1, { sMax: 1e6 }) as number) - 9)).toBeLessThan(1e-9);
    const p2: LossCurve = { loss: (s) => 3 / Math.sqrt(s + 1), gain: (s) => 1.5 * (s + 1) ** -1.5 };
    const want = ((5 + Math.sqrt(45)) / 2) ** 2 - 1;
    expect(Math.abs((kessK2(p2, { sMax: 1e6 }) as number) - want)).toBeLessThan(1e-9);
    expect(Math.abs(want - 33.2705)).toBeLessThan(5e-5);
  });
  it('uses s0 and an explicit L0; a search start after s0 returns that start when already past', () => {
    const p1: LossCurve = { loss: (s) => 3 / (s - 99), gain: (s) => 3 / (s - 99) ** 2 };
    expect(Math.abs((kessK2(p1, { s0: 100, sMax: 1e6 }) as number) - 109)).toBeLessThan(1e-9);
    expect(kessK2(p1, { s0: 100, from: 150, sMax: 1e6 })).toBe(150);
    // A larger L(s0) than the curve's own makes the average gain larger, so K2 fires earlier.
    expect(kessK2(p1, { s0: 100, L0: 10, sMax: 1e6 }) as number).toBeLessThan(109);
  });
  it('undefined when the criterion is not met by sMax', () => {
    expect(kessK2(cont, { sMax: 20 })).toBeUndefined();
    expect(kessK3(cont, { price: 1e-4, sMax: 500 })).toBeUndefined();
    expect(kessK1(cont, { Linf: 0, sMax: 1800 })).toBeUndefined();
  });
});

describe('K1, K3, K4 edge cases', () => {
  it('K3 returns s0 when the gain is already below the price; K1 undefined with nothing to gain', () => {
    expect(kessK3(cont, { price: 1, s0: 0, sMax: 10 })).toBe(0);
    expect(kessK1(cont, { Linf: 0.6, sMax: 10 })).toBeUndefined();
  });
  it('K4 is undefined for a flat curve and for a curve above its chord', () => {
    expect(kessK4((_s) => 1, { sMin: 1, sMax: 100 })).toBeUndefined();
    // L = 1 − log10(s)² on [1, 10]: concave in log s, nowhere below the chord.
    expect(kessK4((s) => 1 - Math.log10(s) ** 2, { sMin: 1, sMax: 10 })).toBeUndefined();
  });
  it('rejects bad parameters with the numbers', () => {
    expect(() => kessK2(cont, { rho: 0, sMax: 10 })).toThrow(/ρ .* got 0/);
    expect(() => kessK1(cont, { eps: 1.5, Linf: 0, sMax: 10 })).toThrow(/ε .* got 1.5/);
    expect(() => kessK4(cont, { sMin: 0, sMax: 10 })).toThrow(/sMin = 0, sMax = 10/);
    expect(() => kessK2(cont, { s0: 5, sMax: 5 })).toThrow(/start = 5, sMax = 5/);
  });
});

describe('firstCrossing', () => {
  it('finds the FIRST of several crossings, even one at 1e-5 of a 1e9 span (geometric scan)', () => {
    // h ≤ 0 on (1.2e-5, 3e-5) and again beyond 1e6: the first window wins.
    const h = (s: number): number => (s > 1.2e-5 && s < 3e-5) || s > 1e6 ? -1 : 1;
    const s = firstCrossing(h, 0, 1e9, false) as number;
    expect(Math.abs(s - 1.2e-5)).toBeLessThan(1e-12);
  });
  it('includeStart returns the start when h(start) ≤ 0', () => {
    expect(firstCrossing(() => 0, 3, 10, true)).toBe(3);
    expect(firstCrossing((s) => (s < 4 ? 0 : 1), 3, 10, false)).toBeGreaterThan(3);
  });
});

describe('tabulatedCurve (cubic Hermite)', () => {
  it('is exact for a cubic (1e-12) and throws outside its nodes', () => {
    const L = (s: number): number => 2 - 0.3 * s + 0.02 * s * s - 0.001 * s ** 3;
    const dL = (s: number): number => -0.3 + 0.04 * s - 0.003 * s * s;
    const xs = Float64Array.of(0, 1.5, 4, 9);
    const c = tabulatedCurve(xs, xs.map(L), xs.map((s) => -dL(s)));
    for (const s of [0, 0.7, 2.2, 4, 6.3, 9]) {
      expect(Math.abs(c.loss(s) - L(s))).toBeLessThan(1e-12);
      expect(Math.abs(c.gain(s) + dL(s))).toBeLessThan(1e-12);
    }
    expect(() => c.loss(9.5)).toThrow(/s = 9.5 outside \[0, 9\]/);
    expect(() => tabulatedCurve(Float64Array.of(0, 0), Float64Array.of(1, 1), Float64Array.of(0, 0))).toThrow(/xs must increase/);
  });
});
