import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERALIZATION_POLICY, DEFAULT_GENERALIZATION_RULE, evaluateGeneralizationRule, generalizationVerdict } from '../../src/policy/generalizationRule.js';
import { forecastGeneralization, GENERALIZATION_ESTIMATES, type GeneralizationForecast } from '../../src/analysis/generalizationForecast.js';
import { mulberry32, normal } from '../../src/random.js';

/** Accuracy curve 0.9 − 0.5·s^−0.4 observed every 100 steps up to `upTo`, with optional noise. */
function series(upTo: number, sigma = 0, seed = 1, f = (s: number) => 0.9 - 0.5 * s ** -0.4) {
  const z = normal(mulberry32(seed));
  const out = [];
  for (let s = 100; s <= upTo; s += 100) out.push({ step: s, value: f(s) + sigma * z() });
  return out;
}

describe('evaluateGeneralizationRule (docs/generalization.md G5)', () => {
  it('too few points: CONTINUE with REASON_GENERALIZATION_GAIN', () => {
    const v = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: series(400), step: 400 });
    expect(v.action).toBe('ACTION_CONTINUE');
    expect(v.reason).toBe('REASON_GENERALIZATION_GAIN');
    expect(v.evidence.points).toBe(4);
  });
  it('still improving (0.9 − 2·s^−0.5: gain 0.0071 over H = 120 at s = 600): CONTINUE, evidence names the estimate and H', () => {
    const f = (s: number) => 0.9 - 2 * s ** -0.5;
    const v = evaluateGeneralizationRule({ estimate: 'eval_accuracy', series: series(600, 0, 1, f), step: 600 });
    expect(v.action).toBe('ACTION_CONTINUE');
    expect(v.evidence.estimate).toBe(GENERALIZATION_ESTIMATES.indexOf('eval_accuracy'));
    expect(v.evidence.horizon).toBeCloseTo(120, 12);
    expect(v.evidence.predicted_gain).toBeCloseTo(f(720) - f(600), 5);
    expect(v.evidence.predicted_gain).toBeGreaterThan(DEFAULT_GENERALIZATION_RULE.minAccuracyGain);
  });
  it('saturated (gain over H far below 0.5 points): a STOP vote with would_stop_step', () => {
    const v = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: series(5000, 0.001, 3), step: 5000 });
    expect(v.action).toBe('ACTION_STOP');
    expect(v.reason).toBe('REASON_GENERALIZATION_SATURATED');
    expect(v.evidence.would_stop_step).toBe(5000);
    expect(v.evidence.gain_upper).toBeLessThanOrEqual(v.evidence.threshold);
  });
  it('decides on the upper end: noise widens the spread, and a mean gain below δ_G with upper above it continues', () => {
    const quiet = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: series(2000, 0.001, 4), step: 2000 });
    const noisy = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: series(2000, 0.02, 4), step: 2000 });
    expect(noisy.evidence.gain_spread).toBeGreaterThan(5 * quiet.evidence.gain_spread);
    expect(noisy.evidence.gain_upper).toBeCloseTo(noisy.evidence.predicted_gain + 1.645 * noisy.evidence.gain_spread, 12);
    // Mean gain 0.0020 < δ_G: with z → 0 a STOP vote; with noise the verdict follows the upper end, not the mean.
    const strict = { ...DEFAULT_GENERALIZATION_RULE, upperZ: 1e-9 };
    const f = (s: number) => 0.9 - 0.3 * s ** -0.25;
    const pts = series(2000, 0, 1, f);
    const mean = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: pts, step: 2000 }, strict);
    expect(mean.evidence.predicted_gain).toBeCloseTo(f(2400) - f(2000), 5);
    expect(mean.evidence.predicted_gain).toBeLessThan(0.005);
    expect(mean.action).toBe('ACTION_STOP');
    const z = normal(mulberry32(9));
    const wobbly = pts.map((p) => ({ ...p, value: p.value + 0.01 * z() }));
    const v = evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: wobbly, step: 2000 });
    expect(v.action).toBe(v.evidence.gain_upper > v.evidence.threshold ? 'ACTION_CONTINUE' : 'ACTION_STOP');
  });
  it('a curve that has turned down votes STOP at once', () => {
    const f = (s: number) => 0.85 - (1e-4 * (s - 800) ** 2) / 1000;
    const v = evaluateGeneralizationRule({ estimate: 'eval_accuracy', series: series(2000, 0, 1, f), step: 2000 });
    expect(v.action).toBe('ACTION_STOP');
    expect(v.evidence.predicted_gain).toBeLessThan(0);
  });
  it('neg_loo_error uses δ = 2 % of |LOO error|; budget end caps H and reports the gain to it', () => {
    const f = (s: number) => -(0.1 + 3 * s ** -0.7);
    const v = evaluateGeneralizationRule({ estimate: 'neg_loo_error', series: series(3000, 0, 1, f), step: 3000, budgetEnd: 3300 });
    expect(v.evidence.horizon).toBe(300);
    expect(v.evidence.threshold).toBeCloseTo(0.02 * Math.abs(f(3000)), 5);
    expect(v.evidence.gain_to_budget_end).toBeCloseTo(f(3300) - f(3000), 5);
  });
  it('a price per compute raises the threshold: a gain worth less than its compute is a STOP vote', () => {
    const f = (s: number) => 0.9 - 2 * s ** -0.5;
    const input = { estimate: 'eval_accuracy' as const, series: series(600, 0, 1, f), step: 600, computePerStep: 1 };
    expect(evaluateGeneralizationRule(input).action).toBe('ACTION_CONTINUE');
    const v = evaluateGeneralizationRule(input, { ...DEFAULT_GENERALIZATION_RULE, pricePerCompute: 1e-3 });
    expect(v.evidence.threshold).toBeCloseTo(1e-3 * 120, 12);
    expect(v.action).toBe('ACTION_STOP');
  });
  it('rejects a bad config', () => {
    expect(() => evaluateGeneralizationRule({ estimate: 'loo_accuracy', series: [], step: 1 }, { ...DEFAULT_GENERALIZATION_RULE, minPoints: 2 })).toThrow(RangeError);
  });
});

describe('held-out evaluation probes (docs/generalization.md G5)', () => {
  it('use δ_G = 0.01 and H = 0.5·s_t; training-sample probes keep 0.005 and 0.2·s_t', () => {
    const fc = (heldOut: boolean): GeneralizationForecast => ({ estimate: 'eval_accuracy', step: 1000, horizon: 200, points: 10, heldOut, value: 0.9, gain: 0.007, gainSpread: 0 });
    expect(generalizationVerdict(fc(false), DEFAULT_GENERALIZATION_RULE).reason).toBe('REASON_GENERALIZATION_GAIN'); // 0.007 > 0.005
    const held = generalizationVerdict(fc(true), DEFAULT_GENERALIZATION_RULE);
    expect(held).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_GENERALIZATION_SATURATED', evidence: { threshold: 0.01 } });
    const series = (heldOut: boolean) => Array.from({ length: 8 }, (_, i) => ({ step: 100 * (i + 1), evalAccuracy: 0.9 - 0.3 / (i + 1), heldOut }));
    const settings = { ...DEFAULT_GENERALIZATION_POLICY };
    expect(forecastGeneralization(series(true), 800, settings)!.horizon).toBe(400);
    expect(forecastGeneralization(series(false), 800, settings)!.horizon).toBe(160);
  });
});
