/**
 * The STOP/CONTINUE chain of docs/science.md A14, evaluated at each snapshot after decide() has handled divergence,
 * budgets and warm-up. Pure: the caller supplies the kernel history, the detector flags (src/analysis/detectors.ts),
 * the observed losses and an observed-curve KESS estimator (the curve-fit module, wired by the integrator).
 *
 *   catapult in progress / R_EoS > eosHigh      → CONTINUE  REASON_CATAPULT / REASON_UNSTABLE
 *   loaded plateau                              → CONTINUE  REASON_LOADED_PLATEAU
 *   kernel moving in any of the last M          → CONTINUE  REASON_FEATURE_LEARNING
 *   curve = prediction if valid (valid, R²_time ≥ 0.8, g_lin ≤ 0.3, not EoS), else the observed-curve fallback
 *   s_t < s*_K2(curve)                          → CONTINUE  REASON_BEFORE_KESS
 *   (L(s_t) − L(s_t+H))/L(s_t) ≥ δ_H            → CONTINUE  REASON_LARGE_PREDICTED_GAIN
 *   price p > 0 and g(s_t) > p                  → CONTINUE  REASON_LARGE_PREDICTED_GAIN (the proto has no price reason)
 *   otherwise one STOP vote: votes < stopVotes  → CONTINUE  REASON_STOP_PENDING, else STOP REASON_KESS_REACHED
 * Logits-only runs (docs/science.md B) have no kernel guards: catapult (spike only), then no plateau (a flat loss may be a
 * loaded plateau we cannot see), then K2 and the horizon gain on the observed curve, with at least logitsPatience votes.
 * The vote count travels in the verdict (evidence.stop_votes of a STOP_PENDING verdict); any other verdict resets it.
 */
import { observedKess, type ObservedKess } from '../analysis/observedKess.js';
import { DEFAULT_DETECTOR_CONFIG, type DetectorConfig, type DetectorFlags, type LossPoint } from '../analysis/detectors.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';
import type { Verdict } from './verdict.js';

export interface StoppingConfig extends DetectorConfig {
  /** ρ of K2 (A12); passed to the observed-curve estimator. */
  rho: number;
  /** H = horizonFraction·s_t. */
  horizonFraction: number;
  /** δ_H: keep going while the relative horizon gain is at least this. */
  deltaH: number;
  /** M_consec: consecutive STOP votes before STOP latches. */
  stopVotes: number;
  /** K3 price in loss units per step; 0 = none (A14 "optional price"). */
  price: number;
  /** The kernel prediction is used only while g_lin ≤ validGap (A8: > 0.3 = kernel model invalid). */
  validGap: number;
  /** … and R²_time ≥ timeR2Min (A11). */
  timeR2Min: number;
  /** Logits-only mode: STOP votes needed, never fewer than 2 (docs/science.md A14, last paragraph). */
  logitsPatience: number;
}

export const DEFAULT_STOPPING_CONFIG: StoppingConfig = {
  ...DEFAULT_DETECTOR_CONFIG,
  rho: 0.1,
  horizonFraction: 0.2,
  deltaH: 0.02,
  stopVotes: 2,
  price: 0,
  validGap: 0.3,
  timeR2Min: 0.8,
  logitsPatience: 2,
};

export interface StoppingInput {
  step: number;
  /** Kernel-bearing snapshots, oldest first; empty = logits-only mode. */
  history: readonly SnapshotDiagnostics[];
  flags: DetectorFlags;
  losses: readonly LossPoint[];
  /** The observed-curve estimator; tests substitute a fixed one, everything else uses observedKess. */
  observedKess?: ObservedKess;
  /** STOP votes so far (stopVotesOf(previous verdict)). */
  votes: number;
}

/** Votes carried by the previous verdict: only an uninterrupted run of STOP_PENDING verdicts keeps them. */
export function stopVotesOf(previous: Verdict | undefined): number {
  return previous?.reason === 'REASON_STOP_PENDING' ? previous.evidence.stop_votes ?? 0 : 0;
}

/** Short number for sentences: 4 significant digits, no exponent for ordinary magnitudes. */
function fmt(x: number | undefined): string {
  if (x === undefined) return 'n/a';
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

function pct(x: number): string {
  return `${fmt(100 * x)}%`;
}

/** Evidence record without absent values. */
function ev(values: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}

function cont(reason: Verdict['reason'], detail: string, evidence: Record<string, number | undefined>): Verdict {
  return { action: 'ACTION_CONTINUE', reason, detail, evidence: ev(evidence) };
}

interface Curve {
  predicted: boolean;
  kessStep?: number;
  lossNow: number;
  lossAtHorizon?: number;
  gainPerStep?: number;
  /** Why the prediction was not used (for the detail sentence). */
  fallbackWhy?: string;
}

/** A14 "valid = kernel_model_valid and g_lin ≤ 0.3 and R2_time ≥ 0.8 and not EoS". */
function chooseCurve(input: StoppingInput, cfg: StoppingConfig, horizon: number): Curve {
  const latest = input.history.length ? input.history[input.history.length - 1] : undefined;
  const p = latest?.prediction;
  const gLin = latest?.residual?.linearizationGap;
  let why: string | undefined;
  if (!p) why = 'no kernel prediction';
  else if (!p.valid) why = 'kernel model marked invalid';
  // NaN R²_time = no fit yet (< 5 losses since the previous anchor): the prediction runs at the A11 default scale and
  // its own `valid` already says whether that is allowed (η_eff known). Only a measured R² below the gate rejects it.
  else if (p.timeR2 < cfg.timeR2Min) why = `R²_time ${fmt(p.timeR2)} < ${cfg.timeR2Min}`;
  else if (gLin === undefined) why = 'linearization gap not measured';
  else if (gLin > cfg.validGap) why = `g_lin ${fmt(gLin)} > ${cfg.validGap}`;
  else if (input.flags.edgeOfStability) why = 'edge of stability';
  if (p && latest && why === undefined) {
    // The anchor's observed loss stands in for L(s_t) on the predicted curve (types.ts has no probe loss at the anchor).
    return { predicted: true, kessStep: p.kess.K2, lossNow: latest.trainLoss, lossAtHorizon: p.lossAtHorizon, gainPerStep: p.gain.perStep };
  }
  const o = (input.observedKess ?? observedKess)(input.losses, { step: input.step, horizon, rho: cfg.rho });
  if (o.diverging) return { predicted: false, lossNow: o.lossNow, fallbackWhy: `${why ? `${why}; ` : ''}observed loss rising, no sweet spot` };
  return { predicted: false, kessStep: o.kessStep, lossNow: o.lossNow, lossAtHorizon: o.lossAtHorizon, gainPerStep: o.gainPerStep, fallbackWhy: why };
}

/** The stability guards of A14 (catapult in progress, R_EoS above eosHigh): no rule stops a run inside them. */
export function stabilityGuard(step: number, flags: DetectorFlags, logitsOnly: boolean, cfg: StoppingConfig): Verdict | undefined {
  const e = flags.evidence;
  const theta = cfg.spikeTheta;
  if (flags.catapultInProgress) {
    return cont('REASON_CATAPULT',
      `Catapult in progress since step ${fmt(e.catapultOnsetStep)}: loss ${fmt(e.lossNow)} vs pre-spike minimum ${fmt(e.preSpikeMin)}; `
      + `waiting until it is back within ${pct(theta / 5)} of that minimum${logitsOnly ? '' : ` and λ_1 changes < ${pct(cfg.catapultSettle)} between snapshots`}`
      + `${e.lambdaRatio !== undefined ? ` (λ_1 is ${fmt(e.lambdaRatio)}× its pre-spike value)` : ''}.`,
      { step, catapult_onset_step: e.catapultOnsetStep, loss: e.lossNow, pre_spike_min: e.preSpikeMin, lambda_ratio: e.lambdaRatio, eos_ratio: e.eosRatio, catapult_events: flags.catapultEvents });
  }
  if (flags.imminentInstability) {
    return cont('REASON_UNSTABLE',
      `Unstable: edge-of-stability ratio R_EoS = ${fmt(e.eosRatio)} > ${cfg.eosHigh}; expect a catapult or divergence, so no stop now.`,
      { step, eos_ratio: e.eosRatio });
  }
  return undefined;
}

/** docs/science.md A14 from the guards on; decide() runs divergence, budgets and warm-up first. */
export function evaluateStopping(input: StoppingInput, cfg: StoppingConfig = DEFAULT_STOPPING_CONFIG): Verdict {
  const { step, flags } = input;
  const e = flags.evidence;
  const logitsOnly = input.history.length === 0;

  const guard = stabilityGuard(step, flags, logitsOnly, cfg);
  if (guard) return guard;

  if (logitsOnly) {
    if (flags.plateau) {
      return cont('REASON_LOADED_PLATEAU',
        `Loss flat (change ${pct(e.plateauChange ?? 0)} over the last ${cfg.plateauWindow} points, < ${pct(cfg.plateauRel)}) and no kernel to tell a finished run from a loaded plateau; logits-only mode does not stop on a plateau.`,
        { step, plateau_change: e.plateauChange });
    }
    // "Still decreasing" needs evidence: a full window that fell by at least the plateau threshold.
    if (e.plateauChange === undefined || e.plateauChange > -cfg.plateauRel) {
      return cont('REASON_COLLECTING',
        e.plateauChange === undefined
          ? `Logits-only: fewer than ${cfg.plateauWindow} loss points; cannot yet tell whether the loss is still decreasing.`
          : `Logits-only: loss not decreasing (change ${pct(e.plateauChange)} over the last ${cfg.plateauWindow} points); no stop without a kernel.`,
        { step, plateau_change: e.plateauChange });
    }
  } else {
    if (flags.loadedPlateau) {
      return cont('REASON_LOADED_PLATEAU',
        `Loaded plateau: loss flat (change ${pct(e.plateauChange ?? 0)} over the last ${cfg.plateauWindow} points) while the kernel still moves `
        + `(distance ${fmt(e.distancePrev)}, velocity ${fmt(e.velocity)}/kstep, tr K growth ${e.traceGrowth === undefined ? 'n/a' : pct(e.traceGrowth)}, ΔA_c ${fmt(e.alignmentChange)}); a drop may follow.`,
        { step, plateau_change: e.plateauChange, distance: e.distancePrev, velocity: e.velocity, trace_growth: e.traceGrowth, alignment_change: e.alignmentChange });
    }
    if (flags.kernelMovingRecently) {
      return cont('REASON_FEATURE_LEARNING',
        `Feature learning: the kernel moved within the last ${cfg.frozenWindow} kernel snapshots (quiet for ${e.quietStreak}); latest distance ${fmt(e.distancePrev)} `
        + `(limit ${cfg.distanceAbs}), velocity ${fmt(e.velocity)} vs ${cfg.velocityRel}×peak ${fmt(e.peakVelocity)}, overlap O_10 ${fmt(e.overlap)}, ΔA_c ${fmt(e.alignmentChange)}.`,
        { step, distance: e.distancePrev, velocity: e.velocity, peak_velocity: e.peakVelocity, overlap: e.overlap, alignment_change: e.alignmentChange, quiet_snapshots: e.quietStreak });
    }
  }

  const horizon = cfg.horizonFraction * step;
  const curve = chooseCurve(input, cfg, horizon);
  const curveName = curve.predicted ? 'kernel-predicted curve' : `observed curve${curve.fallbackWhy ? ` (${curve.fallbackWhy})` : ''}`;
  const base = { step, kess_step: curve.kessStep, predicted_curve: curve.predicted ? 1 : 0, eos_ratio: e.eosRatio };

  if (curve.kessStep === undefined || step < curve.kessStep) {
    return cont('REASON_BEFORE_KESS',
      curve.kessStep === undefined
        ? `Before KESS: the ${curveName} has not reached the K2 point (ρ = ${cfg.rho}) yet.`
        : `Before KESS: step ${step} < K2 step ${fmt(curve.kessStep)} on the ${curveName} (ρ = ${cfg.rho}).`,
      base);
  }
  const gain = curve.lossAtHorizon === undefined ? undefined : curve.lossNow > 0 ? (curve.lossNow - curve.lossAtHorizon) / curve.lossNow : 0;
  if (gain === undefined || gain >= cfg.deltaH) {
    return cont('REASON_LARGE_PREDICTED_GAIN',
      gain === undefined
        ? `Past KESS (K2 step ${fmt(curve.kessStep)}) but the ${curveName} gives no loss at the horizon s + ${fmt(horizon)}; not stopping blind.`
        : `Past KESS (K2 step ${fmt(curve.kessStep)}) but the ${curveName} still gains ${pct(gain)} ≥ δ_H ${pct(cfg.deltaH)} over the next ${fmt(horizon)} steps `
          + `(L ${fmt(curve.lossNow)} → ${fmt(curve.lossAtHorizon)}).`,
      { ...base, horizon_steps: horizon, horizon_gain: gain, loss: curve.lossNow, loss_at_horizon: curve.lossAtHorizon });
  }
  if (cfg.price > 0 && !(curve.gainPerStep !== undefined && curve.gainPerStep <= cfg.price)) {
    return cont('REASON_LARGE_PREDICTED_GAIN',
      `Past KESS with horizon gain ${pct(gain)}, but the gain per step ${fmt(curve.gainPerStep)} is ${curve.gainPerStep === undefined ? 'unknown' : 'above'} the price ${fmt(cfg.price)}.`,
      { ...base, horizon_gain: gain, gain_per_step: curve.gainPerStep, price: cfg.price });
  }

  const votes = input.votes + 1;
  const needed = logitsOnly ? Math.max(cfg.stopVotes, cfg.logitsPatience, 2) : cfg.stopVotes;
  const evidence = { ...base, horizon_steps: horizon, horizon_gain: gain, loss: curve.lossNow, loss_at_horizon: curve.lossAtHorizon, stop_votes: votes, votes_needed: needed };
  const why = `step ${step} ≥ K2 step ${fmt(curve.kessStep)} on the ${curveName} and the gain over the next ${fmt(horizon)} steps is ${pct(gain)} < δ_H ${pct(cfg.deltaH)}`;
  if (votes < needed) return cont('REASON_STOP_PENDING', `STOP vote ${votes} of ${needed}: ${why}.`, evidence);
  return {
    action: 'ACTION_STOP',
    reason: 'REASON_KESS_REACHED',
    detail: `KESS reached after ${votes} consecutive votes: ${why}.`,
    evidence: ev({ ...evidence, would_stop_step: step }),
  };
}
