/**
 * The generalisation stopping rule (docs/generalization.md G5): the A14 horizon test applied to a generalisation
 * estimate's curve instead of the training loss. CONTINUE (REASON_GENERALIZATION_GAIN) while the upper end of the
 * predicted gain over the horizon H = horizonFraction·s_t clears the threshold, or while too few points exist;
 * otherwise a STOP vote (REASON_GENERALIZATION_SATURATED). Hysteresis and latching stay with the caller (A14).
 */
import { extrapolateLearningCurve, LEARNING_CURVE_MIN_POINTS, type CurvePoint } from '../analysis/learningCurve.js';
import type { DetectorFlags } from '../analysis/detectors.js';
import type { GeneralizationReportFields } from '../analysis/generalization.js';
import { mulberry32, type Rng } from '../random.js';
import type { Verdict } from './verdict.js';
import { stabilityGuard, type StoppingConfig } from './stopping.js';

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
  for (const k of pos) if (!(cfg[k] > 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization.${k} must be finite and > 0, got ${cfg[k]}`);
  for (const k of ['minAccuracyGain', 'minRelativeErrorGain', 'pricePerCompute'] as const) {
    if (!(cfg[k] >= 0) || !Number.isFinite(cfg[k])) throw new RangeError(`generalization.${k} must be finite and ≥ 0, got ${cfg[k]}`);
  }
  if (!Number.isInteger(cfg.minPoints) || cfg.minPoints < LEARNING_CURVE_MIN_POINTS) {
    throw new RangeError(`generalization.minPoints must be an integer ≥ ${LEARNING_CURVE_MIN_POINTS}, got ${cfg.minPoints}`);
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

/** Which curve the decision reads (policy `rule:`): the A14 training-loss chain, a generalisation estimate (G5), or Label Wave (G4). */
export const STOPPING_RULES = ['loss', 'generalization', 'label_wave'] as const;
export type StoppingRule = (typeof STOPPING_RULES)[number];

/** Policy `generalization.estimate:` — 'auto' = the evaluation probe when the run sends one, else kernel LOO. */
export const ESTIMATE_CHOICES = ['auto', ...GENERALIZATION_ESTIMATES] as const;
export type EstimateChoice = (typeof ESTIMATE_CHOICES)[number];

export interface GeneralizationPolicy extends GeneralizationRuleConfig {
  estimate: EstimateChoice;
}

export const DEFAULT_GENERALIZATION_POLICY: GeneralizationPolicy = { ...DEFAULT_GENERALIZATION_RULE, estimate: 'auto' };

/** Validates a merged configuration; throws RangeError naming the setting. */
export function checkGeneralizationRule(cfg: GeneralizationRuleConfig): void {
  check(cfg);
}

/** One snapshot's generalisation estimates (docs/generalization.md G1–G4) at its step. */
export interface GeneralizationPoint extends GeneralizationReportFields {
  step: number;
}

/** An estimate as a larger-is-better value. */
export function estimateValue(p: GeneralizationReportFields, name: GeneralizationEstimateName): number | undefined {
  switch (name) {
    case 'loo_accuracy':
      return p.looAccuracy;
    case 'eval_accuracy':
      return p.evalAccuracy;
    case 'neg_loo_error':
      return p.looError === undefined ? undefined : -p.looError;
  }
}

/** 'auto' takes the first estimate the run has: the evaluation probe, then kernel LOO accuracy, then −LOO error. */
export function chooseEstimate(series: readonly GeneralizationPoint[], choice: EstimateChoice): GeneralizationEstimateName | undefined {
  const has = (name: GeneralizationEstimateName) => series.some((p) => Number.isFinite(estimateValue(p, name)));
  if (choice !== 'auto') return has(choice) ? choice : undefined;
  return (['eval_accuracy', 'loo_accuracy', 'neg_loo_error'] as const).find(has);
}

export interface GeneralizationStoppingInput {
  step: number;
  flags: DetectorFlags;
  logitsOnly: boolean;
  series: readonly GeneralizationPoint[];
  /** STOP votes so far (stopVotesOf(previous verdict)). */
  votes: number;
  budgetEnd?: number;
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
  const estimate = chooseEstimate(series, policy.generalization.estimate);
  if (estimate === undefined) return undefined;
  if (guard) return guard;
  // G5: say whether the curve came from honest held-out predictions or from training samples (validation-free).
  const heldOut = estimate === 'eval_accuracy' && series[series.length - 1]?.heldOut === true;
  const points = series.flatMap((p) => {
    const value = estimateValue(p, estimate);
    return value !== undefined && Number.isFinite(value) ? [{ step: p.step, value }] : [];
  });
  // Seeded by the step: the same recording replays to the same bootstrap draws.
  const verdict = evaluateGeneralizationRule(
    { estimate, series: points, step, budgetEnd: input.budgetEnd, computePerStep: input.computePerStep, rng: mulberry32(0x9e3779b9 ^ step) },
    policy.generalization,
  );
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
