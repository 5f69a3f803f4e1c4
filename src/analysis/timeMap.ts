/**
 * Mapping NTK time to network steps (docs/science.md A11): τ(s) = a·Σ_{s_a ≤ s' < s} η_eff(s'), with the scale â
 * fitted on the observed losses since the anchor.
 */
import { rSquared, scanGoldenMinimum } from './scanGoldenMinimum.js';
import type { OptimizerKind } from './types.js';

/** Fewer usable points than this since the anchor and the scale is not fitted (docs/science.md A11). */
export const TIME_FIT_MIN_POINTS = 5;
/** Search interval of ln a (docs/science.md A11: a ∈ [1e-3, 1e3]). */
export const TIME_SCALE_RANGE: readonly [number, number] = [1e-3, 1e3];
/** R²_time below this marks the kernel model invalid (docs/science.md A11/A14). */
export const TIME_R2_VALID = 0.8;

/** Coarse scan points over ln a before golden section (guards against a local minimum of the SSE). */
const SCAN_POINTS = 31;
/** Golden-section stop: bracket width in ln a (relative precision ~1e-10 in â). */
const LN_A_TOL = 1e-10;
/** Floor on a predicted loss before taking its log (an underflowed prediction must not give −∞). */
const LOSS_FLOOR = 1e-300;

/**
 * η_eff per step (docs/science.md A11, E2): η for SGD, η/(1−β) for heavy-ball momentum (steady state, small η),
 * undefined for Adam (the scale is fitted on the learning rate instead).
 */
export function etaEff(opt: { kind: OptimizerKind; lr: number; momentum: number }): number | undefined {
  if (!(opt.lr > 0) || !Number.isFinite(opt.lr)) throw new RangeError(`etaEff: learning rate must be finite and > 0, got ${opt.lr}`);
  switch (opt.kind) {
    case 'sgd':
      return opt.lr;
    case 'momentum':
      if (!(opt.momentum >= 0 && opt.momentum < 1)) throw new RangeError(`etaEff: momentum β must be in [0, 1), got ${opt.momentum}`);
      return opt.lr / (1 - opt.momentum);
    case 'adam':
      return undefined;
  }
}

/** η per step: a constant, or a schedule η(s) evaluated at integer steps. */
export type EtaSchedule = number | ((step: number) => number);

/**
 * Σ_{s_a ≤ s' < s} η(s') at each step (unscaled model time, docs/science.md A11). A constant η gives η·(s − s_a) for
 * any real s; a schedule needs integer steps. Steps before the anchor are rejected.
 */
export function cumulativeEta(steps: ArrayLike<number>, anchorStep: number, eta: EtaSchedule): Float64Array {
  const out = new Float64Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    if (!(steps[i] >= anchorStep)) throw new RangeError(`cumulativeEta: step ${steps[i]} is before the anchor ${anchorStep}`);
  }
  if (typeof eta === 'number') {
    if (!(eta > 0) || !Number.isFinite(eta)) throw new RangeError(`cumulativeEta: η must be finite and > 0, got ${eta}`);
    for (let i = 0; i < steps.length; i++) out[i] = eta * (steps[i] - anchorStep);
    return out;
  }
  if (!Number.isInteger(anchorStep)) throw new RangeError(`cumulativeEta: a schedule needs an integer anchor, got ${anchorStep}`);
  const order = Array.from({ length: steps.length }, (_, i) => i).sort((i, j) => steps[i] - steps[j]);
  let s = anchorStep;
  let acc = 0;
  for (const i of order) {
    if (!Number.isInteger(steps[i])) throw new RangeError(`cumulativeEta: a schedule needs integer steps, got ${steps[i]}`);
    for (; s < steps[i]; s++) {
      const e = eta(s);
      if (!(e >= 0) || !Number.isFinite(e)) throw new RangeError(`cumulativeEta: η(${s}) = ${e} must be finite and ≥ 0`);
      acc += e;
    }
    out[i] = acc;
  }
  return out;
}

export interface TimeFitOptions {
  /** s_a: model time starts here. Points before it are ignored. */
  anchorStep: number;
  /** η_eff per step (or the learning rate for Adam, whose factor a then absorbs). */
  eta: EtaSchedule;
  /** true = spike-flagged point, excluded from the fit (same order as `points`). */
  exclude?: ArrayLike<boolean>;
  /** Minimum usable points after the anchor (default 5). */
  minPoints?: number;
  /** Search interval of a (default [1e-3, 1e3]). */
  range?: readonly [number, number];
  /** Vectorized `predict` (same values): losses at ascending τ into `out`. Much faster for sums of exponentials. */
  predictMany?: (taus: Float64Array, out: Float64Array) => void;
}

export interface TimeFit {
  /** â; 1 when not fitted. */
  a: number;
  /** R² of ln L (observed vs predicted at â); NaN when not fitted. */
  r2: number;
  fitted: boolean;
  /** Points that entered the fit (after the anchor, not excluded). */
  points: number;
  /** Σ[ln L_obs − ln L_pred]² at â (NaN when not fitted). */
  sse: number;
}

/**
 * â = argmin_a Σ_j [ln L_obs(s_j) − ln L_pred(a·E(s_j))]² with E(s) = Σ_{s_a ≤ s' < s} η(s') (docs/science.md A11):
 * coarse scan on ln a, then golden section inside the best bracket. `predict` maps model time τ to the loss.
 * Uses points with s_j ≥ s_a that are not excluded and have a positive finite loss; at least `minPoints` of
 * them must lie strictly after the anchor (points at the anchor do not depend on a), else {a: 1, fitted: false}.
 */
export function fitTimeScale(points: ReadonlyArray<{ step: number; loss: number }>, predict: (tau: number) => number, opts: TimeFitOptions): TimeFit {
  const minPoints = opts.minPoints ?? TIME_FIT_MIN_POINTS;
  const [aLo, aHi] = opts.range ?? TIME_SCALE_RANGE;
  if (!(aLo > 0) || !(aHi > aLo) || !Number.isFinite(aHi)) throw new RangeError(`fitTimeScale: bad range [${aLo}, ${aHi}]`);
  if (opts.exclude !== undefined && opts.exclude.length !== points.length) {
    throw new RangeError(`fitTimeScale: exclude mask has ${opts.exclude.length} entries for ${points.length} points`);
  }
  const steps: number[] = [];
  const lnObs: number[] = [];
  let after = 0;
  for (let j = 0; j < points.length; j++) {
    const { step, loss } = points[j];
    if (!(step >= opts.anchorStep) || opts.exclude?.[j] === true || !(loss > 0) || !Number.isFinite(loss)) continue;
    steps.push(step);
    lnObs.push(Math.log(loss));
    if (step > opts.anchorStep) after++;
  }
  const none: TimeFit = { a: 1, r2: NaN, fitted: false, points: steps.length, sse: NaN };
  if (after < minPoints) return none;
  const E = cumulativeEta(steps, opts.anchorStep, opts.eta);

  // Points in step order so that τ ascends for predictMany.
  const order = Array.from(E.keys()).sort((i, j) => E[i] - E[j]);
  const Es = Float64Array.from(order, (i) => E[i]);
  const lnObsSorted = Float64Array.from(order, (i) => lnObs[i]);
  const taus = new Float64Array(Es.length);
  const preds = new Float64Array(Es.length);
  const sse = (lnA: number): number => {
    const a = Math.exp(lnA);
    for (let j = 0; j < Es.length; j++) taus[j] = a * Es[j];
    if (opts.predictMany !== undefined) opts.predictMany(taus, preds);
    else for (let j = 0; j < Es.length; j++) preds[j] = predict(taus[j]);
    let s = 0;
    for (let j = 0; j < Es.length; j++) {
      const p = preds[j];
      const d = lnObsSorted[j] - Math.log(p > LOSS_FLOOR ? p : LOSS_FLOOR);
      s += d * d;
    }
    return Number.isNaN(s) ? Infinity : s;
  };

  const lo = Math.log(aLo);
  const hi = Math.log(aHi);
  const { x: lnA, value: fit } = scanGoldenMinimum(sse, lo, hi, SCAN_POINTS, LN_A_TOL);
  // An exact fit (kernel regime, noise-free) has R² = 1 even on a flat window (issue 11, docs/science.md A11).
  const r2 = rSquared(fit, lnObs);
  return { a: Math.exp(lnA), r2, fitted: true, points: steps.length, sse: fit };
}
