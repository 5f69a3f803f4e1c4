/**
 * The learning-curve forecast of a generalisation estimate (docs/generalization.md G5): which estimate, its value now
 * and its predicted gain (with a spread) over the horizon and to the budget's end. The heavy part of the G5 rule
 * (curve fits with a residual bootstrap), computed with the snapshot's analysis off the event loop; the policy only
 * compares the forecast with its thresholds.
 */
import type { GeneralizationReportFields } from './generalization.js';
import { extrapolateLearningCurve, type CurvePoint } from './learningCurve.js';
import { mulberry32 } from '../random.js';

/** The estimates G5 can read, declared once: Decision evidence.estimate is an index into this list. */
export const GENERALIZATION_ESTIMATES = ['loo_accuracy', 'eval_accuracy', 'neg_loo_error'] as const;
export type GeneralizationEstimateName = (typeof GENERALIZATION_ESTIMATES)[number];

/** Policy `generalization.estimate:` — 'auto' = the evaluation probe when the run sends one, else kernel LOO. */
export const ESTIMATE_CHOICES = ['auto', ...GENERALIZATION_ESTIMATES] as const;
export type EstimateChoice = (typeof ESTIMATE_CHOICES)[number];

/** One snapshot's generalisation estimates (G1–G4) at its step. */
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

/** The policy settings the forecast needs (the rest of G5 is thresholds, applied by the policy). */
export interface ForecastSettings {
  estimate: EstimateChoice;
  /** H = horizonFraction·s_t (heldOutHorizonFraction on a held-out probe), capped at the budget's end. */
  horizonFraction: number;
  heldOutHorizonFraction: number;
  /** Points needed before a forecast is made. */
  minPoints: number;
  /** Residual-bootstrap replicates of the curve fit. */
  bootstrap: number;
}

export interface GeneralizationForecast {
  estimate: GeneralizationEstimateName;
  step: number;
  horizon: number;
  /** Usable points of the estimate's curve. */
  points: number;
  /** The last point came from a held-out evaluation probe. */
  heldOut: boolean;
  /** Absent with fewer than minPoints points or when no curve fits. */
  value?: number;
  gain?: number;
  gainSpread?: number;
  gainToBudgetEnd?: number;
  gainToBudgetEndSpread?: number;
}

/**
 * G5's forecast at `step` from the run's points (this snapshot's included); undefined when the run has no estimate
 * the settings can read. The bootstrap is seeded by the step, so a replay draws the same numbers.
 */
export function forecastGeneralization(series: readonly GeneralizationPoint[], step: number, settings: ForecastSettings, budgetEnd?: number): GeneralizationForecast | undefined {
  const estimate = chooseEstimate(series, settings.estimate);
  if (estimate === undefined) return undefined;
  const points: CurvePoint[] = series.flatMap((p) => {
    const value = estimateValue(p, estimate);
    return value !== undefined && Number.isFinite(value) && p.step > 0 && p.step <= step ? [{ step: p.step, value }] : [];
  });
  const heldOut = estimate === 'eval_accuracy' && series[series.length - 1]?.heldOut === true;
  let H = (heldOut ? settings.heldOutHorizonFraction : settings.horizonFraction) * step;
  if (budgetEnd !== undefined && budgetEnd > 0) H = Math.min(H, budgetEnd - step);
  const out: GeneralizationForecast = { estimate, step, horizon: Math.max(0, H), points: points.length, heldOut };
  if (points.length < settings.minPoints) return out;
  const at = [step + out.horizon];
  if (budgetEnd !== undefined && budgetEnd > step) at.push(budgetEnd);
  const fc = extrapolateLearningCurve(points, at, { rng: mulberry32(0x9e3779b9 ^ step), bootstrap: settings.bootstrap, reference: step });
  if (fc === undefined) return out;
  out.value = fc.referenceValue;
  out.gain = fc.forecasts[0].gain;
  out.gainSpread = fc.forecasts[0].gainSpread;
  if (fc.forecasts.length > 1) {
    out.gainToBudgetEnd = fc.forecasts[1].gain;
    out.gainToBudgetEndSpread = fc.forecasts[1].gainSpread;
  }
  return out;
}
