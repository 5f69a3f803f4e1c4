/**
 * The observed-curve fallback of docs/science.md A14: when the kernel model is not trusted (or there is no kernel),
 * fit L(s) = L_∞ + A·s^{−b} to the observed losses and read K2, L(s_t) and L(s_t + H) off that curve.
 */
import type { LossPoint } from './detectors.js';
import { kessK2 } from './kess.js';
import { fitPowerLawLoss, smoothLoss } from './lossCurveFit.js';
import type { ObservedKessResult } from '../policy/stopping.js';

export function observedKess(losses: readonly LossPoint[], at: { step: number; horizon: number; rho: number }): ObservedKessResult {
  const lossNow = smoothLoss(losses) ?? Number.NaN;
  // s^{−b} is singular at 0; the offset-1 form A(s+1)^{−b} keeps the first logged step usable (A12 closed forms).
  const fit = fitPowerLawLoss(losses, { offset: 1 });
  if (!fit) return { lossNow };
  const first = losses.reduce((m, p) => Math.min(m, p.step), Number.POSITIVE_INFINITY);
  const L0 = losses.find((p) => p.step === first)?.loss;
  const kessStep = kessK2(fit.curve, { rho: at.rho, s0: 0, L0, sMax: Math.max(at.step, 1) });
  return {
    kessStep,
    // Both ends of the horizon gain come from the same fitted curve: comparing the smoothed data now with the fit
    // later reads the fit's offset from the data as a (possibly negative) gain.
    lossNow: fit.curve.loss(at.step),
    lossAtHorizon: fit.curve.loss(at.step + at.horizon),
    gainPerStep: fit.curve.gain(at.step),
  };
}
