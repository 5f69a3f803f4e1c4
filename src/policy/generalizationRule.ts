/**
 * The generalisation stopping rule (docs/generalization.md G5): the A14 horizon test applied to a generalisation
 * estimate's curve instead of the training loss. CONTINUE (REASON_GENERALIZATION_GAIN) while the upper end of the
 * predicted gain over the horizon H = horizonFraction·s_t clears the threshold, or while too few points exist;
 * otherwise a STOP vote (REASON_GENERALIZATION_SATURATED). Hysteresis and latching stay with the caller (A14).
 */
import { LEARNING_CURVE_MIN_POINTS, type CurvePoint } from '../analysis/learningCurve.js';
import type { DetectorFlags } from '../analysis/detectors.js';
import {
  forecastGeneralization,
  GENERALIZATION_ESTIMATES,
  type EstimateChoice,
  type GeneralizationEstimateName,
  type GeneralizationForecast,
  type GeneralizationPoint,
} from '../analysis/generalizationForecast.js';
import type { Verdict } from './verdict.js';
import { stabilityGuard, type StoppingConfig } from './stopping.js';

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
  /**
   * On a held-out evaluation probe: δ_G and H. A few hundred held-out samples resolve no less than the 1-point
   * allowance, and H = 0.5·s_t reaches the budget's end from two thirds of the way (G5, bench/stopping/REPORT.md).
   */
  heldOutMinAccuracyGain: number;
  heldOutHorizonFraction: number;
}

export const DEFAULT_GENERALIZATION_RULE: GeneralizationRuleConfig = {
  horizonFraction: 0.2,
  minAccuracyGain: 0.005,
  minRelativeErrorGain: 0.02,
  upperZ: 1.645,
  minPoints: LEARNING_CURVE_MIN_POINTS,
  bootstrap: 64,
  pricePerCompute: 0,
  heldOutMinAccuracyGain: 0.01,
  heldOutHorizonFraction: 0.5,
};

/** One estimate's curve, for evaluateGeneralizationRule (tests, and callers with a curve of their own). */
export interface GeneralizationRuleInput {
  estimate: GeneralizationEstimateName;
  /** The estimate's history (step, value), this snapshot included; larger is better. */
  series: readonly CurvePoint[];
  step: number;
  /** Last step of the budget (optional): H is capped there and the gain to it is reported. */
  budgetEnd?: number;
  /** Compute per step (compute_spent/step), for the price. */
  computePerStep?: number;
}

function check(cfg: GeneralizationRuleConfig): void {
  const pos = ['horizonFraction', 'heldOutHorizonFraction', 'upperZ'] as const;
  for (const k of pos) if (!(cfg[k] > 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization.${k} must be finite and > 0, got ${cfg[k]}`);
  for (const k of ['minAccuracyGain', 'heldOutMinAccuracyGain', 'minRelativeErrorGain', 'pricePerCompute'] as const) {
    if (!(cfg[k] >= 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization.${k} must be finite and ≥ 0, got ${cfg[k]}`);
  }
  if (!Number.isInteger(cfg.minPoints) || cfg.minPoints < LEARNING_CURVE_MIN_POINTS) {
    throw new RangeError(`generalization.minPoints must be an integer ≥ ${LEARNING_CURVE_MIN_POINTS}, got ${cfg.minPoints}`);
  }
}

/** G5 on a curve of one estimate: its forecast, then generalizationVerdict. */
export function evaluateGeneralizationRule(input: GeneralizationRuleInput, cfg: GeneralizationRuleConfig = DEFAULT_GENERALIZATION_RULE): Verdict {
  check(cfg);
  const field = { loo_accuracy: 'looAccuracy', eval_accuracy: 'evalAccuracy', neg_loo_error: 'looError' } as const;
  const sign = input.estimate === 'neg_loo_error' ? -1 : 1;
  const series = input.series.map((p) => ({ step: p.step, heldOut: false, [field[input.estimate]]: sign * p.value }));
  const forecast = forecastGeneralization(series, input.step, { ...cfg, estimate: input.estimate }, input.budgetEnd)!;
  return generalizationVerdict(forecast, cfg, input.computePerStep);
}

/**
 * G5's horizon test on a forecast: CONTINUE (REASON_GENERALIZATION_GAIN) while the upper end of the predicted gain
 * over H clears the threshold (δ_G in accuracy units, or a relative δ for −LOO error, or the price of H's compute) or
 * while the curve is too short to forecast; otherwise a STOP vote (REASON_GENERALIZATION_SATURATED).
 */
export function generalizationVerdict(fc: GeneralizationForecast, cfg: GeneralizationRuleConfig, computePerStep?: number): Verdict {
  const { estimate, step, horizon: H } = fc;
  const base = { estimate: GENERALIZATION_ESTIMATES.indexOf(estimate), step, horizon: H, points: fc.points };
  if (fc.points < cfg.minPoints) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_GENERALIZATION_GAIN',
      detail: `${estimate}: ${fc.points} of ${cfg.minPoints} points needed for the generalisation curve; continuing.`,
      evidence: base,
    };
  }
  if (fc.value === undefined || fc.gain === undefined || fc.gainSpread === undefined) {
    return { action: 'ACTION_CONTINUE', reason: 'REASON_GENERALIZATION_GAIN', detail: `${estimate}: no curve fit; continuing.`, evidence: base };
  }
  const upper = fc.gain + cfg.upperZ * fc.gainSpread;
  const delta = estimate === 'neg_loo_error' ? cfg.minRelativeErrorGain * Math.abs(fc.value) : fc.heldOut ? cfg.heldOutMinAccuracyGain : cfg.minAccuracyGain;
  const price = cfg.pricePerCompute > 0 && computePerStep !== undefined ? cfg.pricePerCompute * computePerStep * H : 0;
  const threshold = Math.max(delta, price);
  const evidence: Record<string, number> = { ...base, value: fc.value, predicted_gain: fc.gain, gain_spread: fc.gainSpread, gain_upper: upper, threshold };
  if (fc.gainToBudgetEnd !== undefined) evidence.gain_to_budget_end = fc.gainToBudgetEnd;
  if (fc.gainToBudgetEndSpread !== undefined) evidence.gain_to_budget_end_spread = fc.gainToBudgetEndSpread;
  const fmt = (x: number) => x.toPrecision(3);
  if (H > 0 && upper > threshold) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_GENERALIZATION_GAIN',
      detail: `${estimate} is predicted to gain ${fmt(fc.gain)} ± ${fmt(fc.gainSpread)} by step ${Math.round(step + H)} (upper ${fmt(upper)} > ${fmt(threshold)}).`,
      evidence,
    };
  }
  return {
    action: 'ACTION_STOP',
    reason: 'REASON_GENERALIZATION_SATURATED',
    detail: `${estimate} has saturated: predicted gain ${fmt(fc.gain)} ± ${fmt(fc.gainSpread)} over the next ${Math.round(H)} steps (upper ${fmt(upper)} ≤ ${fmt(threshold)}).`,
    evidence: { ...evidence, would_stop_step: step },
  };
}

/** Which curve the decision reads (policy `rule:`): the A14 training-loss chain, a generalisation estimate (G5), or Label Wave (G4). */
export const STOPPING_RULES = ['loss', 'generalization', 'label_wave'] as const;
export type StoppingRule = (typeof STOPPING_RULES)[number];

export interface GeneralizationPolicy extends GeneralizationRuleConfig {
  estimate: EstimateChoice;
}

/**
 * The evaluation probe is the estimate the stopping evaluation supports (bench/stopping/REPORT.md); kernel LOO is
 * opt-in (`estimate: auto` or `loo_accuracy`). A run without an evaluation probe falls back to the loss chain (A14).
 */
export const DEFAULT_GENERALIZATION_POLICY: GeneralizationPolicy = { ...DEFAULT_GENERALIZATION_RULE, estimate: 'eval_accuracy' };

/** Validates a merged configuration; throws RangeError naming the setting. */
export function checkGeneralizationRule(cfg: GeneralizationRuleConfig): void {
  check(cfg);
}

export interface GeneralizationStoppingInput {
  step: number;
  flags: DetectorFlags;
  logitsOnly: boolean;
  series: readonly GeneralizationPoint[];
  /** This snapshot's forecast (analysis, off the event loop); absent when the run has no estimate G5 can read. */
  forecast?: GeneralizationForecast;
  /** STOP votes so far (stopVotesOf(previous verdict)). */
  votes: number;
  computePerStep?: number;
}

/**
 * The decision of a `generalization` or `label_wave` policy after divergence, budgets and warm-up (docs/generalization.md
 * G5): the stability guards of A14, then the rule; a STOP vote needs `stopVotes` in a row, like A14. Undefined when the
 * run has no estimate the rule can read: the caller then decides on the training loss (A14).
 */
export function evaluateGeneralizationStopping(
  input: GeneralizationStoppingInput,
  policy: { rule: StoppingRule; generalization: GeneralizationPolicy; stopping: StoppingConfig },
): Verdict | undefined {
  const { step, series } = input;
  const guard = stabilityGuard(step, input.flags, input.logitsOnly, policy.stopping);
  if (policy.rule === 'label_wave') {
    const wave = [...series].reverse().find((p) => p.labelWaveStep !== undefined)?.labelWaveStep;
    if (!series.some((p) => p.evalChanged !== undefined)) return undefined;
    if (guard) return guard;
    if (wave === undefined) {
      return { action: 'ACTION_CONTINUE', reason: 'REASON_GENERALIZATION_GAIN', detail: 'Label Wave: the smoothed prediction-change curve of the evaluation probe has no local minimum yet.', evidence: { step } };
    }
    return {
      action: 'ACTION_STOP',
      reason: 'REASON_GENERALIZATION_SATURATED',
      detail: `Label Wave: the evaluation probe's prediction changes reached their first local minimum at step ${wave}; past it the network starts fitting noise.`,
      evidence: { step, label_wave_step: wave, would_stop_step: step },
    };
  }
  const forecast = input.forecast;
  if (forecast === undefined) return undefined;
  if (guard) return guard;
  // G5: say whether the curve came from honest held-out predictions or from training samples (validation-free).
  const heldOut = forecast.heldOut;
  const estimate = forecast.estimate;
  const verdict = generalizationVerdict(forecast, policy.generalization, input.computePerStep);
  const mode = heldOut ? 'held-out evaluation probe' : estimate === 'eval_accuracy' ? 'evaluation probe of training samples' : 'kernel leave-one-out';
  verdict.evidence.held_out = heldOut ? 1 : 0;
  verdict.detail = `${verdict.detail} [${mode}]`;
  if (verdict.action !== 'ACTION_STOP') return verdict;
  const votes = input.votes + 1;
  const evidence: Record<string, number> = { ...verdict.evidence, stop_votes: votes, votes_needed: policy.stopping.stopVotes };
  if (votes < policy.stopping.stopVotes) {
    const { would_stop_step: _w, ...pending } = evidence;
    return { action: 'ACTION_CONTINUE', reason: 'REASON_STOP_PENDING', detail: `STOP vote ${votes} of ${policy.stopping.stopVotes}: ${verdict.detail}`, evidence: pending };
  }
  return { ...verdict, evidence };
}
