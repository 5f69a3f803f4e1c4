import { describe, expect, it } from 'vitest';
import { avgRatio, gainPerCompute, horizonGain, observedGain, remainingFraction, theilSenSlope } from '../../src/analysis/marginalGain.js';

describe('theilSenSlope', () => {
  it('is exact on a line and ignores a minority of outliers', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const ys = xs.map((x) => 3 - 0.25 * x);
    expect(theilSenSlope(xs, ys)).toBe(-0.25);
    ys[4] = 100;
    ys[13] = -50;
    // 37 of 190 pairwise slopes are corrupted; the median is still an exact −0.25.
    expect(theilSenSlope(xs, ys)).toBe(-0.25);
    expect(theilSenSlope([1, 1], [0, 2])).toBeNaN();
  });
});

describe('observedGain (docs/science.md A10)', () => {
  const kappa = 0.01;
  const pts = Array.from({ length: 50 }, (_, i) => ({ step: 10 * i, loss: 2 * Math.exp(-kappa * 10 * i) }));
  const meanOfLast = (n: number): number => pts.slice(-n).reduce((a, p) => a + p.loss, 0) / n;

  it('exponential decay: −L̄·slope = L̄·κ over the last 20 points (slope exact to 1e-12)', () => {
    expect(Math.abs((observedGain(pts) as number) / meanOfLast(20) - kappa)).toBeLessThan(1e-12);
    expect(Math.abs((observedGain(pts, 5) as number) / meanOfLast(5) - kappa)).toBeLessThan(1e-12);
  });
  it('uses only the last W points by step, whatever the input order', () => {
    // Early points follow a 10× faster decay; they must not matter.
    const mixed = [...pts.slice(30).reverse(), ...Array.from({ length: 30 }, (_, i) => ({ step: 10 * i, loss: 9 * Math.exp(-0.1 * i) }))];
    expect(Math.abs((observedGain(mixed) as number) / meanOfLast(20) - kappa)).toBeLessThan(1e-12);
  });
  it('a single spike leaves the slope exact (the median of pairwise slopes is robust)', () => {
    const spiked = pts.map((p, i) => (i === 45 ? { step: p.step, loss: p.loss * 30 } : p));
    const mean = spiked.slice(-20).reduce((a, p) => a + p.loss, 0) / 20;
    expect(Math.abs((observedGain(spiked) as number) / mean - kappa)).toBeLessThan(1e-12);
  });
  it('undefined with < 3 points or a non-positive loss; bad window throws', () => {
    expect(observedGain(pts.slice(0, 2))).toBeUndefined();
    expect(observedGain([...pts, { step: 1e4, loss: 0 }])).toBeUndefined();
    expect(() => observedGain(pts, 2)).toThrow(/window .* got 2/);
  });
});

describe('normalized forms (docs/science.md A10)', () => {
  it('avgRatio = g(s−s0)/(L0−Ls); remainingFraction; horizonGain; gainPerCompute', () => {
    expect(avgRatio(0.01, 110, 10, 3, 1)).toBeCloseTo(0.5, 15);
    expect(avgRatio(0.01, 110, 10, 1, 1)).toBeNaN();
    expect(remainingFraction(0.5, 0.25, 1.25)).toBe(0.25);
    expect(remainingFraction(0.5, 1, 1)).toBeNaN();
    expect(horizonGain((s) => 1 / (s + 1), 9, 10)).toBeCloseTo(0.1 - 0.05, 15);
    expect(() => horizonGain((s) => s, 1, -1)).toThrow(/got -1/);
    expect(gainPerCompute(0.2, 4)).toBe(0.05);
    expect(gainPerCompute(0.2, 0)).toBeNaN();
  });
});
