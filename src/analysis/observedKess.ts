/**
 * The observed-curve fallback of docs/science.md A14: when the kernel model is not trusted (or there is no kernel),
 * fit L(s) = L_∞ + A·s^{−b} to the observed losses and read K2 and the horizon gain off it, with the horizon gain
 * capped by what the recent losses themselves support (issue 11).
 */
import type { LossPoint } from './detectors.js';
import { kessK2 } from './kess.js';
import { fitPowerLawLoss, smoothLoss } from './lossCurveFit.js';
import { GAIN_WINDOW, observedGain } from './marginalGain.js';
import type { ObservedKessResult } from '../policy/stopping.js';

/**
 * K2 on the fitted curve, s_0 = 0 and L(s_0) read off the SAME curve (A12): mixing the first raw loss with a fit
 * that starts below it made "L(s_0) − L(s) > 0" true at s → 0 and put K2 at ~1e-14.
 *
 * Horizon gain ΔL_H = min(fit gain, cap), cap = max(0, g_obs)·H, g_obs the A10 observed gain (−L̄ × Theil–Sen slope
 * of ln L over the last W = 20 points). Rule: a decelerating loss gains at most its current rate times H over the next
 * H steps, and a trailing window's rate is at least the current one, so the cap never cuts a true gain of a convex
 * curve; it stops a global power law (which cannot bend into a plateau) from predicting a gain on a loss that the
 * recent window shows is flat. L(s_t) is the smoothed observed loss (median of the last 5), L(s_t + H) = L(s_t) − ΔL_H,
 * so the gain is never negative and its denominator is the loss the run is actually at.
 */
export function observedKess(losses: readonly LossPoint[], at: { step: number; horizon: number; rho: number }): ObservedKessResult {
  const lossNow = smoothLoss(losses) ?? Number.NaN;
  // s^{−b} is singular at 0; the offset-1 form A(s+1)^{−b} keeps the first logged step usable (A12 closed forms).
  const fit = fitPowerLawLoss(losses, { offset: 1 });
  if (!fit) return { lossNow };
  const kessStep = kessK2(fit.curve, { rho: at.rho, s0: 0, L0: fit.curve.loss(0), sMax: Math.max(at.step, 1) });
  const fitGain = Math.max(0, fit.curve.loss(at.step) - fit.curve.loss(at.step + at.horizon));
  const recent = observedGain(losses, GAIN_WINDOW);
  const rate = recent === undefined ? undefined : Math.max(0, recent);
  const gain = rate === undefined ? fitGain : Math.min(fitGain, rate * at.horizon);
  const fitRate = fit.curve.gain(at.step);
  return {
    kessStep,
    lossNow,
    lossAtHorizon: lossNow - gain,
    gainPerStep: rate === undefined ? fitRate : Math.min(fitRate, rate),
  };
}
