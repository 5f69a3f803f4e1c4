import { describe, expect, it } from 'vitest';
import { fitPowerLawLoss, smoothLoss } from '../../src/analysis/lossCurveFit.js';
import { kessK2 } from '../../src/analysis/kess.js';
import { mulberry32, normal } from '../../src/random.js';

const steps = Array.from({ length: 60 }, (_, i) => Math.round(5 * 1.1 ** i));

describe('fitPowerLawLoss (docs/science.md A14 fallback: L∞ + A s^−b)', () => {
  it('recovers exact parameters (rel 1e-6: golden section on ln b to 1e-9) with R² = 1', () => {
    const pts = steps.map((s) => ({ step: s, loss: 0.2 + 3 * s ** -0.7 }));
    const f = fitPowerLawLoss(pts) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(Math.abs(f.b / 0.7 - 1)).toBeLessThan(1e-6);
    expect(Math.abs(f.A / 3 - 1)).toBeLessThan(1e-6);
    expect(Math.abs(f.Linf / 0.2 - 1)).toBeLessThan(1e-6);
    expect(f.r2).toBeGreaterThan(1 - 1e-12);
    expect(f.points).toBe(60);
  });
  it('1% multiplicative noise: b within 0.05, L∞ within 0.01 (seeded)', () => {
    const z = normal(mulberry32(3));
    const pts = steps.map((s) => ({ step: s, loss: (0.2 + 3 * s ** -0.7) * (1 + 0.01 * z()) }));
    const f = fitPowerLawLoss(pts) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(Math.abs(f.b - 0.7)).toBeLessThan(0.05);
    expect(Math.abs(f.Linf - 0.2)).toBeLessThan(0.01);
    expect(f.r2).toBeGreaterThan(0.99);
  });
  it('keeps L∞ ≥ 0 when the data would pull it negative', () => {
    // Pure power law with a little downward drift: unconstrained least squares gives L∞ = −8.4e-4 (scipy curve_fit).
    const pts = steps.map((s) => ({ step: s, loss: 2 * s ** -0.5 - 1e-4 * Math.log(s) }));
    const f = fitPowerLawLoss(pts) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(f.Linf).toBeGreaterThanOrEqual(0);
    expect(f.A).toBeGreaterThan(0);
    expect(f.r2).toBeGreaterThan(0.999);
  });
  it('flat or rising data gives A = 0 (no gain), never a negative amplitude', () => {
    const f = fitPowerLawLoss(steps.map((s) => ({ step: s, loss: 0.1 + 1e-4 * s }))) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(f.A).toBe(0);
    expect(f.curve.gain(100)).toBe(0);
  });
  it('curve gain is −dL/ds (central differences, rel 1e-7) and K2 on A(s+1)^−1 with offset 1 gives 9', () => {
    const pts = steps.map((s) => ({ step: s, loss: 4 / (s + 1) }));
    const f = fitPowerLawLoss(pts, { offset: 1 }) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(Math.abs(f.b - 1)).toBeLessThan(1e-6);
    const d = 1e-3;
    const fd = -(f.curve.loss(50 + d) - f.curve.loss(50 - d)) / (2 * d);
    expect(Math.abs(f.curve.gain(50) / fd - 1)).toBeLessThan(1e-7);
    // K2's s* = 1/ρ − 1 = 9 on the exact curve; the fit's 1e-6 parameter error moves it by ~1e-5.
    expect(Math.abs((kessK2(f.curve, { sMax: 1e6 }) as number) - 9)).toBeLessThan(1e-4);
  });
  it('excludes masked points and points with step + offset ≤ 0; undefined with < 4 points', () => {
    const pts = [{ step: 0, loss: 1 }, ...steps.slice(0, 10).map((s) => ({ step: s, loss: 1 + s ** -1 }))];
    const exclude = pts.map((_, i) => i === 3);
    const f = fitPowerLawLoss(pts, { exclude }) as NonNullable<ReturnType<typeof fitPowerLawLoss>>;
    expect(f.points).toBe(9);
    expect(f.curve.loss(0)).toBe(Infinity);
    expect(fitPowerLawLoss(pts.slice(0, 4))).toBeUndefined();
    expect(() => fitPowerLawLoss(pts, { exclude: [true] })).toThrow(/1 entries for 11 points/);
  });
});

describe('smoothLoss', () => {
  it('is the median of the last k losses by step', () => {
    const pts = [
      { step: 5, loss: 9 },
      { step: 1, loss: 100 },
      { step: 4, loss: 1 },
      { step: 3, loss: 5 },
      { step: 2, loss: 3 },
      { step: 6, loss: 2 },
    ];
    expect(smoothLoss(pts)).toBe(3); // steps 2..6 → 3, 5, 1, 9, 2
    expect(smoothLoss(pts, 2)).toBe(5.5); // steps 5, 6
    expect(smoothLoss([])).toBeUndefined();
    expect(() => smoothLoss(pts, 0)).toThrow(/got 0/);
  });
});
