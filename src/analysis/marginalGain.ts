/**
 * Marginal gain of training and its normalized forms (docs/science.md A10). g(s) = −dL/ds in loss units per step.
 */
import { theilSenSlope } from '../spectrum/powerLaw.js';

/** Median of pairwise slopes (y_j − y_i)/(x_j − x_i) over pairs with distinct x; NaN with no such pair. */
export { theilSenSlope };

/** Default window of the observed gain (docs/science.md A10: W = 20 logged points). */
export const GAIN_WINDOW = 20;

export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * Observed gain per step (docs/science.md A10): g_obs = −L̄·slope, the Theil–Sen slope of ln L against step over the
 * last `window` points (by step), L̄ their mean loss. Robust to isolated spikes (median of slopes).
 * undefined with fewer than 3 points or a non-positive/non-finite loss in the window.
 */
export function observedGain(points: readonly LossPoint[], window: number = GAIN_WINDOW): number | undefined {
  if (!Number.isInteger(window) || window < 3) throw new RangeError(`observedGain: window must be an integer ≥ 3, got ${window}`);
  const sorted = [...points].sort((p, q) => p.step - q.step);
  const last = sorted.slice(Math.max(0, sorted.length - window));
  if (last.length < 3) return undefined;
  const xs = new Float64Array(last.length);
  const ys = new Float64Array(last.length);
  let mean = 0;
  for (let i = 0; i < last.length; i++) {
    const { step, loss } = last[i];
    if (!(loss > 0) || !Number.isFinite(loss) || !Number.isFinite(step)) return undefined;
    xs[i] = step;
    ys[i] = Math.log(loss);
    mean += loss;
  }
  mean /= last.length;
  const slope = theilSenSlope(xs, ys);
  return Number.isFinite(slope) ? -mean * slope : undefined;
}

/**
 * Marginal-to-average ratio ρ(s) = g(s)·(s − s0)/(L(s0) − L(s)) (docs/science.md A10). NaN when no loss has been
 * gained yet (L(s0) − L(s) ≤ 0): the ratio has no meaning then.
 */
export function avgRatio(g: number, s: number, s0: number, L0: number, Ls: number): number {
  const gained = L0 - Ls;
  return gained > 0 ? (g * (s - s0)) / gained : NaN;
}

/** Remaining-gain fraction R(s) = (L(s) − L_∞)/(L(s0) − L_∞) (docs/science.md A10); NaN when L(s0) ≤ L_∞. */
export function remainingFraction(L: number, Linf: number, L0: number): number {
  const span = L0 - Linf;
  return span > 0 ? (L - Linf) / span : NaN;
}

/** Horizon gain ΔL_H(s) = L(s) − L(s + H) on a loss curve (docs/science.md A10). */
export function horizonGain(L: (s: number) => number, s: number, H: number): number {
  if (!(H >= 0) || !Number.isFinite(H)) throw new RangeError(`horizonGain: horizon H must be finite and ≥ 0, got ${H}`);
  return L(s) - L(s + H);
}

/** Gain per unit of compute g/c_step (docs/science.md A10); NaN when the cost is unknown (≤ 0). */
export function gainPerCompute(g: number, costPerStep: number): number {
  return costPerStep > 0 ? g / costPerStep : NaN;
}
