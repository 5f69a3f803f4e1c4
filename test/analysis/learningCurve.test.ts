import { describe, expect, it } from 'vitest';
import { extrapolateLearningCurve, familyValue, fitLearningCurve, LEARNING_CURVE_MIN_POINTS } from '../../src/analysis/learningCurve.js';
import { mulberry32, normal } from '../../src/random.js';

const steps = Array.from({ length: 20 }, (_, i) => 100 * (i + 1)); // snapshots every 100 steps up to 2000

describe('fitLearningCurve (docs/generalization.md G5)', () => {
  it('pow3 y = 0.9 − 0.5·s^−0.4: recovers (c, a, θ) to rel 1e-5 and takes ≈ all the AICc weight', () => {
    const fits = fitLearningCurve(steps.map((s) => ({ step: s, value: 0.9 - 0.5 * s ** -0.4 })))!;
    const p = fits.find((f) => f.family === 'pow3')!;
    expect(Math.abs(p.theta / 0.4 - 1)).toBeLessThan(1e-5);
    expect(Math.abs(p.a / 0.5 - 1)).toBeLessThan(1e-5);
    expect(Math.abs(p.c / 0.9 - 1)).toBeLessThan(1e-5);
    expect(p.weight).toBeGreaterThan(0.999);
    expect(familyValue(p, 10_000)).toBeCloseTo(0.9 - 0.5 * 10_000 ** -0.4, 6);
  });
  it('exp3 y = 0.8 − 0.6·e^{−s/400}: recovers θ = 1/400 (rel 1e-5)', () => {
    const fits = fitLearningCurve(steps.map((s) => ({ step: s, value: 0.8 - 0.6 * Math.exp(-s / 400) })))!;
    const e = fits.find((f) => f.family === 'exp3')!;
    expect(Math.abs(e.theta * 400 - 1)).toBeLessThan(1e-5);
    expect(Math.abs(e.c / 0.8 - 1)).toBeLessThan(1e-6);
    expect(e.weight).toBeGreaterThan(0.999);
  });
  it('needs LEARNING_CURVE_MIN_POINTS usable points (step > 0, finite)', () => {
    const pts = steps.slice(0, LEARNING_CURVE_MIN_POINTS - 1).map((s) => ({ step: s, value: 1 - 1 / s }));
    expect(fitLearningCurve(pts)).toBeUndefined();
    expect(fitLearningCurve([...pts, { step: 0, value: 0.1 }, { step: 5000, value: NaN }])).toBeUndefined();
    expect(fitLearningCurve([...pts, { step: 3000, value: 0.9 }])).toBeDefined();
  });
});

describe('extrapolateLearningCurve', () => {
  const truth = (s: number) => 0.9 - 0.5 * s ** -0.4;
  it('noise-free: value and gain at s_t + H exact (1e-6) with a spread ≈ 0; deterministic for a seed', () => {
    const pts = steps.map((s) => ({ step: s, value: truth(s) }));
    const a = extrapolateLearningCurve(pts, [2400, 10_000], { rng: mulberry32(1), bootstrap: 16 })!;
    expect(a.reference).toBe(2000);
    expect(a.forecasts[0].value).toBeCloseTo(truth(2400), 6);
    expect(a.forecasts[0].gain).toBeCloseTo(truth(2400) - truth(2000), 6);
    expect(a.forecasts[0].gainSpread).toBeLessThan(1e-4);
    const b = extrapolateLearningCurve(pts, [2400, 10_000], { rng: mulberry32(1), bootstrap: 16 })!;
    expect(b).toEqual(a);
  });
  it('σ = 0.004 noise, 30 seeds: the true gain over H = 0.2·s_t lies in gain ± 1.645·spread in ≥ 24/30 (nominal 90 %)', () => {
    let covered = 0;
    let sumSpread = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const z = normal(mulberry32(seed));
      const pts = steps.map((s) => ({ step: s, value: truth(s) + 0.004 * z() }));
      const f = extrapolateLearningCurve(pts, [2400], { rng: mulberry32(1000 + seed), bootstrap: 48 })!.forecasts[0];
      const g = truth(2400) - truth(2000);
      if (Math.abs(f.gain - g) <= 1.645 * f.gainSpread) covered++;
      sumSpread += f.gainSpread;
    }
    expect(covered).toBeGreaterThanOrEqual(24);
    expect(sumSpread / 30).toBeLessThan(0.01); // informative: well below the 0.5 % threshold's scale ×2
  });
  it('a curve that has turned down (overfitting) predicts a negative gain', () => {
    const pts = steps.map((s) => ({ step: s, value: 0.85 - 1e-4 * (s - 800) ** 2 / 1000 }));
    const f = extrapolateLearningCurve(pts, [2400], { bootstrap: 0 })!.forecasts[0];
    expect(f.gain).toBeLessThan(0);
  });
  it('a bootstrap without an rng is refused; bootstrap 0 gives the family spread only', () => {
    const pts = steps.map((s) => ({ step: s, value: truth(s) }));
    expect(() => extrapolateLearningCurve(pts, [2400], { bootstrap: 4 })).toThrow(RangeError);
    expect(extrapolateLearningCurve(pts, [2400], { bootstrap: 0 })!.forecasts[0].gainSpread).toBeLessThan(1e-4);
  });
});
