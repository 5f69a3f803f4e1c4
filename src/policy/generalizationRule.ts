/**
 * The generalisation stopping rule (docs/generalization.md G5): the A14 horizon test applied to a generalisation
 * estimate's curve instead of the training loss. CONTINUE (REASON_GENERALIZATION_GAIN) while the upper end of the
 * predicted gain over the horizon H = horizonFraction·s_t clears the threshold, or while too few points exist;
 * otherwise a STOP vote (REASON_GENERALIZATION_SATURATED). Hysteresis and latching stay with the caller (A14).
 */
import { extrapolateLearningCurve, LEARNING_CURVE_MIN_POINTS, type CurvePoint } from '../analysis/learningCurve.js';
import type { Rng } from '../random.js';
import type { Verdict } from './decide.js';

/** The estimates the rule can read, declared once: evidence.estimate is an index into this list. */
export const GENERALIZATION_ESTIMATES = ['loo_accuracy', 'eval_accuracy', 'neg_loo_error'] as const;
export type GeneralizationEstimateName = (typeof GENERALIZATION_ESTIMATES)[number];

export interface GeneralizationRuleConfig {
  /** H = horizonFraction·s_t (A14's 0.2). */
  horizonFraction: number;
  /** δ_G for accuracy estimates, absolute accuracy units (0.005 = 0.5 percentage points; G5). */
  minAccuracyGain: number;
  /** δ for neg_loo_error, relative to |LOO error| at s_t (A14's δ_H = 2 %). */
  minRelativeErrorGain: number;
  /** z of the upper end: gain + z·spread (1.645 = one-sided 95 %). */
  upperZ: number;
  /** Points needed before the rule may vote STOP (≥ LEARNING_CURVE_MIN_POINTS). */
  minPoints: number;
  /** Residual-bootstrap replicates of the curve fit. */
  bootstrap: number;
  /** Price in estimate units per unit of compute; 0 = none. The gain must also exceed price · compute over H. */
  pricePerCompute: number;
}

export const DEFAULT_GENERALIZATION_RULE: GeneralizationRuleConfig = {
  horizonFraction: 0.2,
  minAccuracyGain: 0.005,
  minRelativeErrorGain: 0.02,
  upperZ: 1.645,
  minPoints: LEARNING_CURVE_MIN_POINTS,
  bootstrap: 64,
  pricePerCompute: 0,
};

export interface GeneralizationRuleInput {
  estimate: GeneralizationEstimateName;
  /** The estimate's history (step, value), this snapshot included; larger is better. */
  series: readonly CurvePoint[];
  step: number;
  /** Last step of the budget (optional): H is capped there and the gain to it is reported. */
  budgetEnd?: number;
  /** Compute per step (compute_spent/step), for the price. */
  computePerStep?: number;
  /** Seeded generator for the bootstrap. */
  rng: Rng;
}

function check(cfg: GeneralizationRuleConfig): void {
  const pos = ['horizonFraction', 'upperZ'] as const;
  for (const k of pos) if (!(cfg[k] > 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization rule: ${k} must be finite and > 0, got ${cfg[k]}`);
  for (const k of ['minAccuracyGain', 'minRelativeErrorGain', 'pricePerCompute'] as const) {
    if (!(cfg[k] >= 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization rule: ${k} must be finite and ≥ 0, got ${cfg[k]}`);
  }
  if (!Number.isInteger(cfg.minPoints) || cfg.minPoints < LEARNING_CURVE_MIN_POINTS) {
    throw new RangeError(`generalization rule: minPoints must be an integer ≥ ${LEARNING_CURVE_MIN_POINTS}, got ${cfg.minPoints}`);
  }
}

/** G5: one verdict from one estimate's curve. Pure (the bootstrap draws come from input.rng). */
export function evaluateGeneralizationRule(input: GeneralizationRuleInput, cfg: GeneralizationRuleConfig = DEFAULT_GENERALIZATION_RULE): Verdict {
  check(cfg);
  const { step, estimate } = input;
  const idx = GENERALIZATION_ESTIMATES.indexOf(estimate);
  if (idx < 0) throw new RangeError(`generalization rule: unknown estimate ${String(estimate)}`);
  const usable = input.series.filter((p) => p.step > 0 && p.step <= step && Number.isFinite(p.value));
  let H = cfg.horizonFraction * step;
  if (input.budgetEnd !== undefined && input.budgetEnd > 0) H = Math.min(H, input.budgetEnd - step);
  const base = { estimate: idx, step, horizon: Math.max(0, H), points: usable.length };
  if (usable.length < cfg.minPoints) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_GENERALIZATION_GAIN',
      detail: `${estimate}: ${usable.length} of ${cfg.minPoints} points needed for the generalisation curve; continuing.`,
      evidence: base,
    };
  }
  const at = [step + Math.max(0, H)];
  if (input.budgetEnd !== undefined && input.budgetEnd > step) at.push(input.budgetEnd);
  const fc = extrapolateLearningCurve(usable, at, { rng: input.rng, bootstrap: cfg.bootstrap, reference: step });
  if (fc === undefined) {
    return { action: 'ACTION_CONTINUE', reason: 'REASON_GENERALIZATION_GAIN', detail: `${estimate}: no curve fit; continuing.`, evidence: base };
  }
  const h = fc.forecasts[0];
  const upper = h.gain + cfg.upperZ * h.gainSpread;
  const delta = estimate === 'neg_loo_error' ? cfg.minRelativeErrorGain * Math.abs(fc.referenceValue) : cfg.minAccuracyGain;
  const price = cfg.pricePerCompute > 0 && input.computePerStep !== undefined ? cfg.pricePerCompute * input.computePerStep * H : 0;
  const threshold = Math.max(delta, price);
  const evidence: Record<string, number> = {
    ...base,
    value: fc.referenceValue,
    predicted_gain: h.gain,
    gain_spread: h.gainSpread,
    gain_upper: upper,
    threshold,
  };
  if (fc.forecasts.length > 1) {
    evidence.gain_to_budget_end = fc.forecasts[1].gain;
    evidence.gain_to_budget_end_spread = fc.forecasts[1].gainSpread;
  }
  const fmt = (x: number) => x.toPrecision(3);
  if (H > 0 && upper > threshold) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_GENERALIZATION_GAIN',
      detail: `${estimate} is predicted to gain ${fmt(h.gain)} ± ${fmt(h.gainSpread)} by step ${Math.round(step + H)} (upper ${fmt(upper)} > ${fmt(threshold)}).`,
      evidence,
    };
  }
  return {
    action: 'ACTION_STOP',
    reason: 'REASON_GENERALIZATION_SATURATED',
    detail: `${estimate} has saturated: predicted gain ${fmt(h.gain)} ± ${fmt(h.gainSpread)} over the next ${Math.round(Math.max(0, H))} steps (upper ${fmt(upper)} ≤ ${fmt(threshold)}).`,
    evidence: { ...evidence, would_stop_step: step },
  };
}
