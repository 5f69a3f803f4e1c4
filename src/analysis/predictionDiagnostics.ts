/**
 * Prediction, marginal gain and KESS at one kernel snapshot, the anchor (docs/science.md A9–A12, used by A14).
 *
 * The anchor's modal state (MSE) or kernel + logits (CE) predicts the loss as a function of NTK time
 * τ = a·η_eff·(s − s_a) (A9, A11); the scale â is fitted on the observed losses after the anchor. KESS and the
 * gain forms are evaluated on the curve stitched from the observed history (s_0 ≤ s < s_a) and the prediction
 * (s ≥ s_a), in network steps.
 */
import { avgRatio, remainingFraction, theilSenSlope } from './marginalGain.js';
import { kessK1, kessK2, kessK3, kessK4, tabulatedCurve } from './kess.js';
import type { LossCurve } from './kess.js';
import { smoothLoss } from './lossCurveFit.js';
import { choosePredictionMode, compileMse, discreteDiverges, nullSpaceFloor, powerLambdaMax, solveCeTrajectory } from './prediction.js';
import type { ModalState, PredictionMode } from './prediction.js';
import { TIME_FIT_MIN_POINTS, TIME_R2_VALID, TIME_SCALE_RANGE, fitTimeScale } from './timeMap.js';
import type { TimeFit } from './timeMap.js';
import type { LossKind, PredictionDiagnostics } from './types.js';

export interface PredictionInput {
  /** s_a (network steps). */
  anchorStep: number;
  /**
   * Modal state at the anchor (A9): eigenvalues of the raw full kernel, c_i², unknown-mode energy, null tol.
   * For CE only λ_1 = max(lambda) is used (the RK4 step bound); empty → power iteration on `ce.kernel`.
   */
  lambda: Float64Array;
  coeff2: Float64Array;
  restEnergy: number;
  tol: number;
  /** MSE c_L (> 0); unused (may be undefined) for CE. */
  cL?: number;
  loss: LossKind;
  /** η_eff per step (A11); undefined (Adam) → τ = a·lr·Δ with a fitted. */
  etaEff: number | undefined;
  lr: number;
  /** All observed losses of the run so far (any order). Spike-flagged points are left out of every fit. */
  observed: Array<{ step: number; loss: number; spike?: boolean }>;
  /** s_0, start of training (usually 0). */
  firstStep: number;
  kess: {
    rho: number;
    eps: number;
    price?: number;
    /** H = horizonFraction·s_t (A14: 0.2). */
    horizonFraction: number;
    /** Training budget s_budget: horizon of the search, K4's range end and K1's L_∞ := L(s_budget) (A12). */
    budgetStep?: number;
  };
  /** CE only: full kernel (N×N, raw), logits and one-hot targets at the anchor (length N = n·C, sample-major). */
  ce?: { kernel: Float64Array; logits: Float64Array; targets: Float64Array; samples: number; outputs: number; maxSteps?: number };
  /**
   * Time scale carried over from the previous anchor's window (`fitAnchorTimeScale` on the previous anchor with the
   * observations since it). At a live snapshot there are no observations after the anchor yet, so this is how a
   * fitted â (needed for Adam) reaches the current prediction. Used only when < 5 points follow this anchor.
   */
  priorTimeScale?: { a: number; r2: number };
  /** s_t, the current step (default: max(anchorStep, last observed step)). */
  currentStep?: number;
}

/**
 * RK4 steps allowed for one CE trajectory (`ce.maxSteps` overrides). Cost 4·N² flops per step: 400 steps at
 * N = n·C = 1000 is ≈ 1.6 GFlop (a few seconds in the worker). A9 estimates ≈ 100 steps per horizon; the rest
 * pays for the fit's longer model times and the geometric table nodes.
 */
const CE_DEFAULT_MAX_STEPS = 400;
/** The slowest learnable MSE mode is followed until its energy has decayed by e^{−28} ≈ 7e-13. */
const SLOWEST_MODE_DECAY = 28;
/** Window of the observed gain (A10: W = 20) and of the median-smoothed loss in the history scan. */
const HISTORY_GAIN_WINDOW = 20;
const HISTORY_SMOOTH = 5;
/** A history gain needs at least ±2 points (5 in all); fewer and one noisy pair decides. */
const HISTORY_MIN_HALF = 2;

/** Loss and gain as functions of NTK time τ (gain = −dL/dτ), valid on [0, tauMax]. */
interface TauModel {
  loss(tau: number): number;
  gain(tau: number): number;
  lossMany?: (taus: Float64Array, out: Float64Array) => void;
  tauMax: number;
  mode: PredictionMode;
}

interface Prepared {
  input: PredictionInput;
  /** Time per network step before the scale: η_eff, or lr for Adam. */
  e: number;
  points: Array<{ step: number; loss: number; spike: boolean }>;
  since: Array<{ step: number; loss: number; spike: boolean }>;
  state?: ModalState;
}

function prepare(input: PredictionInput): Prepared {
  const { anchorStep, firstStep, lr, etaEff } = input;
  if (!Number.isFinite(anchorStep) || !Number.isFinite(firstStep) || firstStep > anchorStep) {
    throw new RangeError(`predictionDiagnostics: need finite firstStep ≤ anchorStep, got firstStep = ${firstStep}, anchorStep = ${anchorStep}`);
  }
  if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`predictionDiagnostics: learning rate must be finite and > 0, got ${lr}`);
  if (etaEff !== undefined && (!(etaEff > 0) || !Number.isFinite(etaEff))) {
    throw new RangeError(`predictionDiagnostics: η_eff must be finite and > 0 or undefined (Adam), got ${etaEff}`);
  }
  const k = input.kess;
  if (!(k.rho > 0) || !(k.eps > 0 && k.eps < 1) || !(k.horizonFraction >= 0)) {
    throw new RangeError(`predictionDiagnostics: need ρ > 0, 0 < ε < 1, horizonFraction ≥ 0; got ρ = ${k.rho}, ε = ${k.eps}, horizonFraction = ${k.horizonFraction}`);
  }
  const points = input.observed
    .filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss))
    .map((p) => ({ step: p.step, loss: p.loss, spike: p.spike === true }))
    .sort((p, q) => p.step - q.step);
  const since = points.filter((p) => p.step >= anchorStep);
  const prepared: Prepared = { input, e: etaEff ?? lr, points, since };
  if (input.loss === 'mse') {
    if (input.cL === undefined || !(input.cL > 0)) {
      throw new RangeError(`predictionDiagnostics: MSE needs the loss scale c_L > 0 (docs/science.md E4), got ${input.cL}`);
    }
    prepared.state = { lambda: input.lambda, coeff2: input.coeff2, cL: input.cL, tol: input.tol, restEnergy: input.restEnergy };
    nullSpaceFloor(prepared.state); // validates the state with the numbers
  } else if (input.ce === undefined) {
    throw new RangeError('predictionDiagnostics: cross-entropy needs `ce` (kernel, logits, targets): there is no closed form (docs/science.md A9)');
  }
  return prepared;
}

/**
 * MSE model in τ (A9). With e = η_eff (or lr for Adam) the curve is the compiled A9 form at Δ = τ/e steps:
 * continuous depends on η·Δ only; discrete takes τ/η steps of size η.
 */
function mseModel(p: Prepared): TauModel {
  const state = p.state as ModalState;
  const eta = p.input.etaEff;
  // Adam: no per-step η, so no discrete form; the fitted scale absorbs the rest (A11).
  const mode: PredictionMode = eta === undefined ? 'continuous' : choosePredictionMode(state, eta);
  const e = p.e;
  const compiled = compileMse(state, e, mode);
  let scratch = new Float64Array(0);
  return {
    loss: (tau) => compiled.loss(tau / e),
    gain: (tau) => compiled.gain(tau / e) / e,
    lossMany: (taus, out) => {
      if (scratch.length !== taus.length) scratch = new Float64Array(taus.length);
      for (let j = 0; j < taus.length; j++) scratch[j] = taus[j] / e;
      compiled.lossMany(scratch, out);
    },
    tauMax: Infinity,
    mode,
  };
}

/**
 * CE model in τ (A9): RK4 once, with η = 1 so "steps" are τ, up to min(tauWanted, what the RK4 budget reaches),
 * on a geometric node grid (24 per decade, from 1e-6·τ_max) interpolated by cubic Hermite with the exact gains.
 */
function ceModel(p: Prepared, tauWanted: number): TauModel {
  const ce = p.input.ce as NonNullable<PredictionInput['ce']>;
  const N = ce.samples * ce.outputs;
  let lambda1 = 0;
  for (let i = 0; i < p.input.lambda.length; i++) if (p.input.lambda[i] > lambda1) lambda1 = p.input.lambda[i];
  if (!(lambda1 > 0)) lambda1 = powerLambdaMax(ce.kernel, N);
  const maxSteps = ce.maxSteps ?? CE_DEFAULT_MAX_STEPS;
  const sigma = lambda1 / (2 * ce.samples);
  // Reserve a quarter of the budget for the grid nodes themselves (each needs ≥ 1 RK4 step).
  const tauBudget = sigma > 0 ? (0.75 * maxSteps) / sigma : Infinity;
  const tauMax = Math.min(tauWanted, tauBudget);
  const perDecade = 24;
  const decades = 6;
  const count = Math.min(Math.floor(maxSteps / 4), perDecade * decades);
  const nodes = new Float64Array(count + 1);
  for (let i = 1; i <= count; i++) nodes[i] = tauMax * 10 ** (-decades + (decades * (i - 1)) / (count - 1));
  const problem = { kernel: ce.kernel, logits: ce.logits, targets: ce.targets, samples: ce.samples, outputs: ce.outputs };
  const traj = solveCeTrajectory(problem, 1, nodes, { lambdaMax: lambda1, maxSteps: maxSteps + count + 1 });
  const curve = tabulatedCurve(nodes, traj.loss, traj.gain);
  // sMax is mapped back from tauMax, so the far end can overshoot it by a rounding error.
  const clamp = (t: number): number => (t > tauMax && t <= tauMax * (1 + 1e-9) ? tauMax : t);
  return { loss: (t) => curve.loss(clamp(t)), gain: (t) => curve.gain(clamp(t)), tauMax, mode: 'continuous' };
}

function fitWith(p: Prepared, model: TauModel): TimeFit {
  const { anchorStep } = p.input;
  let dMax = 0;
  for (const q of p.since) if (!q.spike) dMax = Math.max(dMax, q.step - anchorStep);
  let range = TIME_SCALE_RANGE;
  if (Number.isFinite(model.tauMax) && dMax > 0) {
    // CE: only scales whose model time the RK4 table covers can be tried.
    const hi = Math.min(TIME_SCALE_RANGE[1], model.tauMax / (p.e * dMax));
    if (!(hi > 10 * TIME_SCALE_RANGE[0])) return { a: 1, r2: NaN, fitted: false, points: 0, sse: NaN };
    range = [TIME_SCALE_RANGE[0], hi];
  }
  return fitTimeScale(p.since, (tau) => model.loss(tau), {
    anchorStep,
    eta: p.e,
    exclude: p.since.map((q) => q.spike),
    range,
    ...(model.lossMany === undefined ? {} : { predictMany: model.lossMany }),
  });
}

function usableAfter(p: Prepared): number {
  return p.since.filter((q) => !q.spike && q.step > p.input.anchorStep && q.loss > 0).length;
}

function ceTauForFit(p: Prepared): number {
  let dMax = 0;
  for (const q of p.since) if (!q.spike) dMax = Math.max(dMax, q.step - p.input.anchorStep);
  return usableAfter(p) >= TIME_FIT_MIN_POINTS ? TIME_SCALE_RANGE[1] * p.e * dMax : 0;
}

/**
 * The time-scale fit of A11 for this anchor alone: â and R²_time on the observations after the anchor (spikes
 * excluded). Call it on the previous anchor with the observations since then and pass the result as
 * `priorTimeScale` of the current anchor.
 */
export function fitAnchorTimeScale(input: PredictionInput): TimeFit {
  const p = prepare(input);
  if (usableAfter(p) < TIME_FIT_MIN_POINTS) return { a: 1, r2: NaN, fitted: false, points: usableAfter(p), sse: NaN };
  const model = input.loss === 'mse' ? mseModel(p) : ceModel(p, ceTauForFit(p));
  return fitWith(p, model);
}

/** Observed history entry: raw loss, centered-median loss and centered Theil–Sen gain (A10). */
interface HistoryPoint {
  step: number;
  raw: number;
  loss: number;
  gain: number | undefined;
}

/**
 * The non-spike observations in [s0, s_a]. Looking back, windows can be SYMMETRIC around each point, which removes
 * the lag (and the first-order bias) a one-sided window has on a decelerating curve: a trailing 20-point window put
 * K2 of the linear-model test at 33 instead of 18.8, a symmetric one at 20. Gain = −L̃·(Theil–Sen slope of ln L
 * over ±h points), h = min(10, points available on both sides) ≥ 2 (else no gain); L̃ = median of ±min(2, h).
 */
function historyOf(p: Prepared, s0: number): HistoryPoint[] {
  const used = p.points.filter((q) => !q.spike && q.step <= p.input.anchorStep && q.step >= s0);
  const last = used.length - 1;
  const out: HistoryPoint[] = [];
  for (let j = 0; j <= last; j++) {
    const h = Math.min(HISTORY_GAIN_WINDOW >> 1, j, last - j);
    const hs = Math.min(HISTORY_SMOOTH >> 1, h);
    const near = used.slice(j - hs, j + hs + 1);
    const loss = smoothLoss(near, near.length) as number;
    const win = used.slice(j - h, j + h + 1);
    let gain: number | undefined;
    if (h >= HISTORY_MIN_HALF && win.every((q) => q.loss > 0)) {
      const slope = theilSenSlope(
        win.map((q) => q.step),
        win.map((q) => Math.log(q.loss)),
      );
      if (Number.isFinite(slope)) gain = -loss * slope;
    }
    out.push({ step: used[j].step, raw: used[j].loss, loss, gain });
  }
  return out;
}

/** Network-step curve for s ≥ s_a: L(s) = L_τ(â·e·(s − s_a)), g(s) = â·e·g_τ. */
function stepCurve(model: TauModel, a: number, e: number, anchorStep: number): LossCurve {
  const k = a * e;
  return {
    loss: (s) => model.loss(k * (s - anchorStep)),
    gain: (s) => k * model.gain(k * (s - anchorStep)),
  };
}

/**
 * The predicted loss curve in network steps for s ≥ s_a at time scale `timeScale` (A9 + A11). For CE the RK4
 * table reaches `horizonSteps` after the anchor or as far as the step budget allows (see `reach`).
 */
export function predictedCurve(input: PredictionInput, timeScale: number, horizonSteps: number): LossCurve & { reach: number } {
  const p = prepare(input);
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`predictedCurve: time scale must be finite and > 0, got ${timeScale}`);
  if (!(horizonSteps > 0)) throw new RangeError(`predictedCurve: horizon must be > 0 steps, got ${horizonSteps}`);
  const model = input.loss === 'mse' ? mseModel(p) : ceModel(p, timeScale * p.e * horizonSteps);
  const curve = stepCurve(model, timeScale, p.e, input.anchorStep);
  return { ...curve, reach: input.anchorStep + Math.min(horizonSteps, model.tauMax / (timeScale * p.e)) };
}

/** MSE: steps after the anchor until the slowest learnable mode has decayed by e^{−28} (A9 rates × â). */
function mseSettleSteps(p: Prepared, model: TauModel, a: number): number {
  const state = p.state as ModalState;
  let rate = Infinity;
  for (let i = 0; i < state.lambda.length; i++) {
    if (state.coeff2[i] === 0 || state.lambda[i] <= state.tol) continue;
    let r: number;
    if (model.mode === 'continuous') {
      r = 4 * state.cL * a * p.e * state.lambda[i];
    } else {
      const q = Math.abs(1 - 2 * state.cL * p.e * state.lambda[i]);
      if (q === 0 || q >= 1) continue;
      r = -2 * a * Math.log(q);
    }
    if (r < rate) rate = r;
  }
  return Number.isFinite(rate) ? SLOWEST_MODE_DECAY / rate : 0;
}

/**
 * docs/science.md A9–A12 at one anchor. Steps are network steps.
 *
 * Stitching for KESS (A12 needs L(s_0) at the start of training and g(s) at the candidate s):
 * - L(s_0) is the loss of the FIRST observation (the prediction only exists from s_a on), s_0 = firstStep.
 *   With no observation at all, the curve starts at the anchor: s_0 := s_a, L(s_0) := L_pred(s_a).
 * - For s ≥ s_a the prediction gives L and g. If a criterion already holds at s_a, the crossing happened in the
 *   past and is located on the observed history: first non-spike observation s_j ≤ s_a where the criterion holds
 *   with the Theil–Sen gain of ln L (A10, up to 20 points symmetric around s_j) and the median of the losses
 *   around s_j; s_a when the noisy history never satisfies it.
 * - The prediction is not rescaled to meet the observed loss at s_a: the two are the same quantity when the probe
 *   set is the training batch, and a level mismatch is what R²_time reports.
 * Time scale: fitted on ≥ 5 non-spike observations after the anchor; else `priorTimeScale`; else a = 1 when η_eff
 * is known (valid, timeR2 = NaN says the scale is the A11 default); else (Adam, nothing fitted) no curve at all.
 * Discrete GD that diverges (2 c_L η λ_1 > 2) is reported but never valid.
 */
export function predictionDiagnostics(input: PredictionInput): PredictionDiagnostics {
  const p = prepare(input);
  const { anchorStep: sa, kess } = input;
  const floor = p.state === undefined ? undefined : nullSpaceFloor(p.state);
  const lastObserved = p.points.length > 0 ? p.points[p.points.length - 1].step : sa;
  const st = Math.max(sa, input.currentStep ?? lastObserved);
  const H = kess.horizonFraction * st;
  const wanted = Math.max(kess.budgetStep ?? -Infinity, st + H, sa + 1);

  // Model in τ; CE needs its table long enough for the fit and the horizon (at the prior or default scale).
  let model: TauModel;
  if (input.loss === 'mse') {
    model = mseModel(p);
  } else {
    const aGuess = input.priorTimeScale?.a ?? 1;
    const ceHorizon = Math.max(wanted, st + Math.max(st - input.firstStep, 100)) - sa;
    model = ceModel(p, Math.max(ceTauForFit(p), aGuess * p.e * ceHorizon));
  }

  const fit = fitWith(p, model);
  let a: number;
  let r2: number;
  let valid: boolean;
  if (fit.fitted) {
    a = fit.a;
    r2 = fit.r2;
    valid = r2 >= TIME_R2_VALID;
  } else if (input.priorTimeScale !== undefined && input.priorTimeScale.a > 0) {
    a = input.priorTimeScale.a;
    r2 = input.priorTimeScale.r2;
    valid = Number.isNaN(r2) ? input.etaEff !== undefined : r2 >= TIME_R2_VALID;
  } else if (input.etaEff !== undefined) {
    a = 1;
    r2 = NaN;
    valid = true;
  } else {
    const out: PredictionDiagnostics = { valid: false, timeScale: NaN, timeR2: NaN, kess: {}, gain: {} };
    if (floor !== undefined) out.floor = floor;
    return out;
  }
  if (p.state !== undefined && input.etaEff !== undefined && model.mode === 'discrete' && discreteDiverges(p.state, input.etaEff)) {
    // Past the stability edge the predicted loss rises: no sweet spot, horizon or gain can be read off it.
    const out: PredictionDiagnostics = { valid: false, timeScale: a, timeR2: r2, kess: {}, gain: {} };
    if (floor !== undefined) out.floor = floor;
    return out;
  }

  const pred = stepCurve(model, a, p.e, sa);
  // Horizon of every search: the budget if given, else until the slowest MSE mode has settled; CE: the table.
  let sMax: number;
  if (kess.budgetStep !== undefined) {
    sMax = wanted;
  } else if (input.loss === 'mse') {
    sMax = Math.max(wanted, sa + Math.min(mseSettleSteps(p, model, a), 1e12 * Math.max(1, sa - input.firstStep)));
  } else {
    sMax = Math.max(wanted, st + Math.max(st - input.firstStep, 100));
  }
  sMax = Math.min(sMax, sa + model.tauMax / (a * p.e));
  if (!(sMax > sa)) sMax = sa + 1e-9 * Math.max(1, sa); // degenerate table: nothing ahead can be searched

  const first = p.points.find((q) => !q.spike) ?? p.points[0];
  const s0 = first === undefined ? sa : Math.min(input.firstStep, first.step);
  const L0 = first === undefined ? pred.loss(sa) : first.loss;
  const history = historyOf(p, s0);
  const fromHistory = (holds: (h: HistoryPoint) => boolean): number => history.find((h) => h.step > s0 && holds(h))?.step ?? sa;

  const out: PredictionDiagnostics = { valid, timeScale: a, timeR2: r2, kess: {}, gain: {} };
  if (floor !== undefined) out.floor = floor;

  // K2 (default).
  let K2 = kessK2(pred, { rho: kess.rho, s0, L0, from: sa, sMax });
  if (K2 === sa && sa > s0) K2 = fromHistory((h) => h.gain !== undefined && h.gain * (h.step - s0) <= kess.rho * (L0 - h.loss));
  if (K2 !== undefined) {
    out.kess.K2 = K2;
    out.predictedLossAtKess = K2 >= sa ? pred.loss(K2) : (history.find((h) => h.step === K2) as HistoryPoint).loss;
  }

  // K1: L_∞ from the budget horizon when given, else the null-space floor (MSE) or the end of the CE table.
  const Linf = kess.budgetStep !== undefined ? pred.loss(Math.max(kess.budgetStep, sa)) : (floor ?? pred.loss(sMax));
  let K1 = L0 > Linf ? kessK1(pred, { eps: kess.eps, Linf, s0: sa, L0, sMax }) : undefined;
  if (K1 === sa && sa > s0) K1 = fromHistory((h) => h.loss - Linf <= kess.eps * (L0 - Linf));
  if (K1 !== undefined) out.kess.K1 = K1;

  if (kess.price !== undefined) {
    let K3 = kessK3(pred, { price: kess.price, s0: sa, sMax });
    if (K3 === sa && sa > s0) K3 = fromHistory((h) => h.gain !== undefined && h.gain <= (kess.price as number));
    if (K3 !== undefined) out.kess.K3 = K3;
  }

  // K4 (report only) on the stitched loss: piecewise-linear through the observed (non-spike) history, then the
  // prediction. Raw values: a median would flatten the early fast drop that sets the normalization.
  const stitched = (s: number): number => {
    if (s >= sa || history.length === 0) return pred.loss(Math.max(s, sa));
    if (s <= history[0].step) return history[0].raw;
    const j = history.findIndex((h) => h.step >= s);
    if (j < 0) {
      const last = history[history.length - 1];
      return last.raw + ((pred.loss(sa) - last.raw) * (s - last.step)) / (sa - last.step);
    }
    const h0 = history[j - 1];
    const h1 = history[j];
    return h0.raw + ((h1.raw - h0.raw) * (s - h0.step)) / (h1.step - h0.step);
  };
  const sMin = s0 > 0 ? s0 : 1;
  if (sMax > sMin) {
    const K4 = kessK4(stitched, { sMin, sMax });
    if (K4 !== undefined) out.kess.K4 = K4;
  }

  if (st + H <= sMax) out.lossAtHorizon = pred.loss(st + H);
  const Lt = pred.loss(st);
  const gt = pred.gain(st);
  out.gain.perStep = gt;
  const ratio = avgRatio(gt, st, s0, L0, Lt);
  if (!Number.isNaN(ratio)) out.gain.avgRatio = ratio;
  const remaining = remainingFraction(Lt, Linf, L0);
  if (!Number.isNaN(remaining)) out.gain.remaining = remaining;
  return out;
}

