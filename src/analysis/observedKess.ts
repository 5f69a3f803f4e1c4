/**
 * The observed-curve fallback of docs/science.md A14: when the kernel model is not trusted (or there is no kernel),
 * fit L(s) = L_∞ + A·s^{−b} to the observed losses and read K2 and the horizon gain off it, with the horizon gain
 * capped by what the recent losses themselves support (issue 11).
 */
import type { LossPoint } from './detectors.js';
import { kessK2 } from './kess.js';
import { fitPowerLawLoss, smoothLoss } from './lossCurveFit.js';
import { GAIN_WINDOW, observedGain, theilSenSlope } from './marginalGain.js';

/** What the observed-curve fallback (fit L_∞ + A·s^{−b} to the smoothed loss) reports. */
export interface ObservedKessResult {
  /** s*_K2 on the observed curve; absent while the curve has not reached it (or cannot be fitted yet). */
  kessStep?: number;
  /** Smoothed L(s_t). */
  lossNow: number;
  /** L(s_t + H) on the fitted curve; absent = no extrapolation possible (counts as a large gain). */
  lossAtHorizon?: number;
  /** g(s_t) = −dL/ds, needed only when a price is set. */
  gainPerStep?: number;
  /** The observed loss rises (or nothing was learnt): no KESS, horizon or gain is read off it (issue 11). */
  diverging?: boolean;
}

/** An observed-curve estimator (observedKess, or a fixed one in tests); it may ignore `at` (step s_t, horizon H, ρ). */
export type ObservedKess = (losses: readonly LossPoint[], at: { step: number; horizon: number; rho: number }) => ObservedKessResult;

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
/** A recent rise above this fraction of the loss over the gain window marks the observed curve diverging (A13 plateau 1 %). */
const RISE_TOL = 0.01;

/**
 * The last W = 20 points rise: the Theil–Sen trend of ln L over the window exceeds both RISE_TOL and 3 standard errors
 * of that trend (σ = 1.4826·MAD of the residuals about the line, SE(slope·span) ≈ 1.1·σ·√(12/n), Theil–Sen's
 * efficiency), so minibatch noise on a plateau is not read as divergence.
 */
function rising(losses: readonly LossPoint[]): boolean {
  const w = [...losses].filter((p) => p.loss > 0 && Number.isFinite(p.loss)).sort((p, q) => p.step - q.step).slice(-GAIN_WINDOW);
  if (w.length < 5) return false;
  const xs = w.map((p) => p.step);
  const ys = w.map((p) => Math.log(p.loss));
  const slope = theilSenSlope(xs, ys);
  if (!(slope > 0)) return false;
  const res = ys.map((y, i) => y - slope * xs[i]);
  const mid = median(res);
  const sigma = 1.4826 * median(res.map((r) => Math.abs(r - mid)));
  const rise = slope * (xs[xs.length - 1] - xs[0]);
  return rise > RISE_TOL && rise > 3 * 1.1 * sigma * Math.sqrt(12 / w.length);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

export function observedKess(losses: readonly LossPoint[], at: { step: number; horizon: number; rho: number }): ObservedKessResult {
  const lossNow = smoothLoss(losses) ?? Number.NaN;
  // s^{−b} is singular at 0; the offset-1 form A(s+1)^{−b} keeps the first logged step usable (A12 closed forms).
  const fit = fitPowerLawLoss(losses, { offset: 1 });
  if (!fit) return { lossNow };
  const recent = observedGain(losses, GAIN_WINDOW);
  // A rising loss or a fit with nothing learnt (A = 0) has no sweet spot and no horizon gain: a non-increasing fit
  // would read it as "past KESS, nothing left" (issue 11).
  if (!(fit.A > 0) || rising(losses)) return { lossNow, diverging: true };
  const kessStep = kessK2(fit.curve, { rho: at.rho, s0: 0, L0: fit.curve.loss(0), sMax: Math.max(at.step, 1) });
  const fitGain = Math.max(0, fit.curve.loss(at.step) - fit.curve.loss(at.step + at.horizon));
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
