/**
 * Regime and event detectors (docs/science.md A13), evaluated incrementally once per snapshot:
 *   const { flags, state } = updateDetectors(state, { history, losses }, cfg)
 * `history` holds the run's kernel-bearing SnapshotDiagnostics, oldest first (the latest kernel snapshot last);
 * `losses` is the observed loss series (snapshots and Scalars merged), ordered by step. Loss points newer than
 * the last call are scanned one by one, so a spike that rises and falls between two snapshots is still seen;
 * kernel streaks advance only when a new kernel snapshot arrives. Everything a flag used is returned as evidence.
 * With no kernel snapshot at all the detectors run in logits-only mode (docs/science.md B): spike, catapult onset and
 * recovery, and plateau on the observed loss only.
 *
 * Spikes vs minibatch noise (issue 11): a spike must clear both the A13 ratio (L > (1+θ)·window min) and the loss's own
 * noise level (ln L above its running median by more than spikeNoiseK robust standard deviations of the residuals
 * about that median over the last spikeNoiseWindow points). With a kernel, a spike is a catapult only
 * with kernel support (A13/C10): R_EoS ≥ eosLow at or during the spike, or λ_1 dropping / E_k jumping afterwards.
 */
import type { SnapshotDiagnostics } from './types.js';

export interface LossPoint {
  step: number;
  loss: number;
}

/** A13/A14 defaults; the policy file can override each (src/policy/policy.ts, `stopping:`). */
export interface DetectorConfig {
  /** θ_spike: a point is a spike when L > (1+θ)·min of the W points before it and itself. */
  spikeTheta: number;
  /** W, in logged points. */
  spikeWindow: number;
  /** Kernel moving when v_t > velocityRel·v_peak (A6). */
  velocityRel: number;
  /** … or S(K_{t−1},K_t) > distanceAbs per interval (A6). */
  distanceAbs: number;
  /** … or |ΔA_c| > alignmentDelta per interval (A7). */
  alignmentDelta: number;
  /** … or O_10 < overlapMin (A6). */
  overlapMin: number;
  /** Plateau: |relative loss change| over the last plateauWindow points < plateauRel. */
  plateauRel: number;
  plateauWindow: number;
  /** M: frozen needs M consecutive quiet kernel snapshots; A14 "kernel moving in any of the last M". */
  frozenWindow: number;
  /** Lazy iff frozen and D_t < lazyDistance and g_lin ≤ lazyGap. */
  lazyDistance: number;
  lazyGap: number;
  /** Loaded plateau: tr K growth above this per interval. */
  traceGrowth: number;
  /** EoS band [eosLow, eosHigh] (A5); imminent instability is R_EoS > eosHigh; sharpening needs R_EoS < eosLow. */
  eosLow: number;
  eosHigh: number;
  /** EoS needs this many consecutive in-band kernel snapshots. */
  eosSnapshots: number;
  /** Progressive sharpening: λ_1 rising over this many kernel snapshots. */
  sharpeningSnapshots: number;
  /** Sketch guard (E7): no "kernel moving" while S < sketchFloorFactor·(PR+1)/m; 0 disables. */
  sketchFloorFactor: number;
  /** Catapult confirmed when λ_1 after the onset ≤ catapultDrop·λ_1 before it. */
  catapultDrop: number;
  /** Catapult over once a post-spike snapshot has |Δλ_1/λ_1| < catapultSettle (and the loss recovered). */
  catapultSettle: number;
  /**
   * Alternative confirmation (A8 catapult signature): E_k, k = the largest reported k ≤ energyK, rose by at least
   * energyJump between the last pre-spike snapshot and one during the spike. The spec names no number; 0.1 is ours.
   */
  energyJump: number;
  energyK: number;
  /**
   * A spike must also exceed the running median of ln L (spikeWindow points before it) by spikeNoiseK robust σ of
   * the residuals about that running median over the spikeNoiseWindow points before it (1.4826·MAD); 0 disables.
   * A Gaussian-noise point clears 6σ about once in 10⁹, so heavy tails (hard batches) get room; catapults rise 10–100× (C10).
   */
  spikeNoiseK: number;
  spikeNoiseWindow: number;
}

export const DEFAULT_DETECTOR_CONFIG: DetectorConfig = {
  spikeTheta: 0.5,
  spikeWindow: 5,
  velocityRel: 0.05,
  distanceAbs: 0.02,
  alignmentDelta: 0.005,
  overlapMin: 0.9,
  plateauRel: 0.01,
  plateauWindow: 5,
  frozenWindow: 3,
  lazyDistance: 0.1,
  lazyGap: 0.1,
  traceGrowth: 0.05,
  eosLow: 0.9,
  eosHigh: 1.1,
  eosSnapshots: 3,
  sharpeningSnapshots: 3,
  sketchFloorFactor: 3,
  catapultDrop: 0.9,
  catapultSettle: 0.05,
  energyJump: 0.1,
  energyK: 5,
  spikeNoiseK: 6,
  spikeNoiseWindow: 20,
};

export type Regime = 'lazy' | 'rich' | 'unknown';

/** The numbers behind the flags (absent = not measured). Streaks count kernel snapshots. */
export interface DetectorEvidence {
  lossNow?: number;
  /** Largest L/min-window ratio among the spike points of this update. */
  spikeRatio?: number;
  spikeStep?: number;
  catapultOnsetStep?: number;
  preSpikeMin?: number;
  lambdaBeforeSpike?: number;
  /** λ_1 now / λ_1 before the spike. */
  lambdaRatio?: number;
  /** Step at which the loss came back within (1+θ/5) of the pre-spike minimum (or within its noise band). */
  recoveredStep?: number;
  /** Robust per-point noise σ of ln L before the latest spike candidate (0 = smooth or too few points). */
  lossNoise?: number;
  /** 1 while a spike is open that the kernel does not (yet) call a catapult (no R_EoS ≥ eosLow, no λ_1 drop/E_k jump). */
  spikeWithoutKernelSupport?: number;
  eosRatio?: number;
  eosStreak: number;
  /** d ln λ_1/ds over the sharpening window. */
  sharpeningRate?: number;
  /** Relative loss change over the plateau window (signed: negative = falling). */
  plateauChange?: number;
  velocity?: number;
  peakVelocity?: number;
  distancePrev?: number;
  distanceInit?: number;
  sketchFloor?: number;
  /** 1 when the sketch guard suppressed "kernel moving" on the latest kernel snapshot. */
  sketchSuppressed?: number;
  alignmentChange?: number;
  overlap?: number;
  traceGrowth?: number;
  linearizationGap?: number;
  frozenStreak: number;
  quietStreak: number;
}

export interface DetectorFlags {
  mode: 'kernel' | 'logits';
  /** Some loss point since the previous update was a spike. */
  lossSpike: boolean;
  catapultInProgress: boolean;
  /** A catapult was confirmed by this update (an event; counted once per catapult). */
  catapultConfirmed: boolean;
  edgeOfStability: boolean;
  imminentInstability: boolean;
  progressiveSharpening: boolean;
  plateau: boolean;
  loadedPlateau: boolean;
  /** The latest kernel snapshot shows drift (an unmeasurable pair counts as moving). */
  kernelMoving: boolean;
  /** A6: quiet by velocity and distance for frozenWindow consecutive kernel snapshots. */
  kernelFrozen: boolean;
  /** A14 guard: the kernel moved in at least one of the last frozenWindow kernel snapshots. */
  kernelMovingRecently: boolean;
  regime: Regime;
  catapultEvents: number;
  evidence: DetectorEvidence;
}

interface CatapultTrack {
  onsetStep: number;
  preSpikeMin: number;
  /** Recovered once L ≤ this: max((1+θ/5)·pre-spike min, pre-spike level·e^{2σ}) (back inside the noise band). */
  recoverBelow: number;
  /** R_EoS ≥ eosLow on a kernel snapshot at or after the last one before the spike (A13: catapult window). */
  eosSupport: boolean;
  lambdaBefore?: number;
  energyBefore?: number;
  confirmed: boolean;
  recoveredStep?: number;
  settled: boolean;
}

/** The kernel-side result of the latest kernel snapshot, kept until the next one arrives. */
interface KernelEvaluation {
  moving: boolean;
  quiet: boolean; // A6 frozen criterion held on this snapshot
  measured: boolean; // a comparable drift pair existed
  evidence: Omit<DetectorEvidence, 'eosStreak' | 'frozenStreak' | 'quietStreak'>;
  alignmentRise: boolean;
  traceRise: boolean;
  eosRatio?: number;
}

export interface DetectorState {
  /** Step of the newest loss point already scanned. */
  lastLossStep: number;
  lastKernelSnapshotId?: number;
  peakVelocity: number;
  frozenStreak: number;
  /** Consecutive kernel snapshots without "kernel moving". */
  quietStreak: number;
  /** Kernel snapshots with a comparable drift measurement so far. */
  measuredSnapshots: number;
  eosStreak: number;
  eosStartStep?: number;
  /** The loss rose at least once since eosStartStep; eosLastLoss is the last loss seen in the streak. */
  eosNonMonotone: boolean;
  eosLastLoss?: number;
  catapult?: CatapultTrack;
  catapultEvents: number;
  kernel?: KernelEvaluation;
}

export function initialDetectorState(): DetectorState {
  return { lastLossStep: -Infinity, peakVelocity: 0, frozenStreak: 0, quietStreak: 0, measuredSnapshots: 0, eosStreak: 0, eosNonMonotone: false, catapultEvents: 0 };
}

export interface DetectorInput {
  /** Kernel-bearing snapshots, oldest first; empty in logits-only runs. */
  history: readonly SnapshotDiagnostics[];
  /** Observed (step, loss), non-decreasing steps; non-finite losses are skipped (divergence is decide()'s job). */
  losses: readonly LossPoint[];
}

/**
 * Indices of the finite loss points this update reads, oldest first: every point newer than `lastStep`, `older`
 * finite points before them (spike windows) and at least `tail` points (plateau window). Windows count logged
 * points and skip NaN/Inf. Only the scanned suffix is read, so a long series costs O(new points) per update.
 */
function neededFinite(losses: readonly LossPoint[], lastStep: number, older: number, tail: number): number[] {
  const out: number[] = [];
  let olderSeen = 0;
  for (let i = losses.length - 1; i >= 0; i--) {
    if (i + 1 < losses.length && losses[i].step > losses[i + 1].step) {
      throw new RangeError(`loss series must be ordered by step: point ${i + 1} has step ${losses[i + 1].step} after step ${losses[i].step}`);
    }
    const fresh = losses[i].step > lastStep;
    if (!fresh && olderSeen >= older && out.length >= tail) break;
    if (Number.isFinite(losses[i].loss)) {
      out.push(i);
      if (!fresh) olderSeen++;
    }
  }
  return out.reverse();
}

/** Latest snapshot before `step` (strictly), scanning from the end. */
function lastBefore(history: readonly SnapshotDiagnostics[], step: number): SnapshotDiagnostics | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].step < step) return history[i];
  return undefined;
}

/** Latest snapshot at or before `step`. */
function lastAtOrBefore(history: readonly SnapshotDiagnostics[], step: number): SnapshotDiagnostics | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].step <= step) return history[i];
  return undefined;
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const h = v.length >> 1;
  return v.length % 2 === 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/**
 * Noise band of ln L at finite point f: the running median m_j of ln L over the spikeWindow points before j, and the
 * robust scale of the residuals r_j = ln L_j − m_j over the spikeNoiseWindow points before f (centre = their median,
 * σ = 1.4826·MAD). Residuals about a running median follow the trend, so a smooth curve has σ ≈ 0 and minibatch
 * noise (including periodic hard batches) sets its own σ. undefined when disabled, with < 5 residuals or a
 * non-positive loss. Spike test: ln L_f − m_f > centre + spikeNoiseK·σ.
 */
function noiseBand(losses: readonly LossPoint[], finite: readonly number[], f: number, cfg: DetectorConfig): { median: number; centre: number; sigma: number } | undefined {
  if (!(cfg.spikeNoiseK > 0)) return undefined;
  const W = cfg.spikeWindow;
  const from = Math.max(0, f - cfg.spikeNoiseWindow - W);
  const logs: number[] = [];
  for (let w = from; w < f; w++) {
    const l = losses[finite[w]].loss;
    if (!(l > 0)) return undefined;
    logs.push(Math.log(l));
  }
  const runningMedian = (j: number) => median(logs.slice(Math.max(0, j - W), j)); // j indexes logs; j = length → f
  const residuals: number[] = [];
  for (let j = Math.max(W, logs.length - cfg.spikeNoiseWindow); j < logs.length; j++) residuals.push(logs[j] - runningMedian(j));
  if (residuals.length < 5) return undefined;
  const centre = median(residuals);
  const sigma = 1.4826 * median(residuals.map((r) => Math.abs(r - centre)));
  return { median: runningMedian(logs.length), centre, sigma };
}

/** E_k for the largest reported k ≤ kMax (A8), if the snapshot has residual projections. */
function energyAt(d: SnapshotDiagnostics | undefined, kMax: number): number | undefined {
  let best: { k: number; fraction: number } | undefined;
  for (const e of d?.residual?.topk ?? []) if (e.k <= kMax && (!best || e.k > best.k)) best = e;
  return best?.fraction;
}

/** A6/A7/A13 drift evaluation of the newest kernel snapshot `d` against its predecessor `prev`. */
function evaluateKernel(d: SnapshotDiagnostics, prev: SnapshotDiagnostics | undefined, peakVelocity: number, cfg: DetectorConfig): { kernel: KernelEvaluation; peakVelocity: number } {
  const drift = d.drift;
  const evidence: KernelEvaluation['evidence'] = {
    distanceInit: drift?.distanceInit,
    linearizationGap: d.residual?.linearizationGap,
  };
  const ratio = drift?.traceRatio ?? (d.trace !== undefined && prev?.trace ? d.trace / prev.trace : undefined);
  if (ratio !== undefined) evidence.traceGrowth = ratio - 1;
  const ac = d.alignment?.centered;
  const acPrev = prev?.alignment?.centered;
  if (ac !== undefined && acPrev !== undefined) evidence.alignmentChange = ac - acPrev;
  const alignmentRise = (evidence.alignmentChange ?? 0) > cfg.alignmentDelta;
  const traceRise = (evidence.traceGrowth ?? 0) > cfg.traceGrowth;
  const eosRatio = d.stability?.eosRatio;

  const S = drift?.distancePrev;
  const v = drift?.velocityPerKstep;
  // No comparable pair (first kernel, changed sketch or parameter set): we cannot say it is still, so "moving".
  if (!drift || !drift.comparable || S === undefined || v === undefined) {
    return { kernel: { moving: true, quiet: false, measured: false, evidence, alignmentRise, traceRise, eosRatio }, peakVelocity };
  }
  const peak = Math.max(peakVelocity, v);
  Object.assign(evidence, { velocity: v, peakVelocity: peak, distancePrev: S, overlap: drift.subspaceOverlap, sketchFloor: drift.sketchFloor });
  // E7: with independent sketches S has a floor ≈ (PR+1)/m; below 3·floor the "change" is sketch noise.
  const floor = drift.sketchFloor;
  if (floor !== undefined && cfg.sketchFloorFactor > 0 && S < cfg.sketchFloorFactor * floor) {
    evidence.sketchSuppressed = 1;
    return { kernel: { moving: false, quiet: true, measured: true, evidence, alignmentRise, traceRise, eosRatio }, peakVelocity: peak };
  }
  const quiet = v <= cfg.velocityRel * peak && S <= cfg.distanceAbs; // A6 frozen criterion
  const moving = v > cfg.velocityRel * peak || S > cfg.distanceAbs
    || Math.abs(evidence.alignmentChange ?? 0) > cfg.alignmentDelta
    || (drift.subspaceOverlap !== undefined && drift.subspaceOverlap < cfg.overlapMin);
  return { kernel: { moving, quiet, measured: true, evidence, alignmentRise, traceRise, eosRatio }, peakVelocity: peak };
}

/** docs/science.md A13, one snapshot's worth. Pure: returns a new state, never mutates the one given. */
export function updateDetectors(prior: DetectorState, input: DetectorInput, cfg: DetectorConfig = DEFAULT_DETECTOR_CONFIG): { flags: DetectorFlags; state: DetectorState } {
  const { history, losses } = input;
  const state: DetectorState = { ...prior, catapult: prior.catapult ? { ...prior.catapult } : undefined };
  const mode: DetectorFlags['mode'] = history.length > 0 ? 'kernel' : 'logits';
  const finite = neededFinite(losses, prior.lastLossStep, cfg.spikeWindow + (cfg.spikeNoiseK > 0 ? cfg.spikeNoiseWindow : 0), cfg.plateauWindow);
  const recoveryLevel = 1 + cfg.spikeTheta / 5; // A13 catapult in progress: until L ≤ (1+θ/5)·pre-spike min

  // --- Loss points new since the last update: spikes, catapult onset and recovery.
  let lossSpike = false;
  let spikeRatio: number | undefined;
  let spikeStep: number | undefined;
  let first = finite.length;
  while (first > 0 && losses[finite[first - 1]].step > prior.lastLossStep) first--;
  let lossNoise: number | undefined;
  for (let f = first; f < finite.length; f++) {
    const { step, loss } = losses[finite[f]];
    let windowMin = Infinity;
    for (let w = Math.max(0, f - cfg.spikeWindow); w < f; w++) windowMin = Math.min(windowMin, losses[finite[w]].loss);
    const ratio = loss / Math.min(windowMin, loss);
    const noise = noiseBand(losses, finite, f, cfg);
    let spike = Number.isFinite(windowMin) && loss > (1 + cfg.spikeTheta) * Math.min(windowMin, loss);
    if (spike && noise !== undefined) {
      lossNoise = noise.sigma;
      spike = Math.log(loss) - noise.median > noise.centre + cfg.spikeNoiseK * noise.sigma;
    }
    // EoS needs a non-monotone loss inside the current in-band streak (tracked point by point).
    if (state.eosStartStep !== undefined && step >= state.eosStartStep) {
      if (state.eosLastLoss !== undefined && loss > state.eosLastLoss) state.eosNonMonotone = true;
      state.eosLastLoss = loss;
    }
    const track = state.catapult;
    if (spike) {
      lossSpike = true;
      if (spikeRatio === undefined || ratio > spikeRatio) { spikeRatio = ratio; spikeStep = step; }
      if (!track) {
        const before = lastBefore(history, step);
        const atOrBefore = lastAtOrBefore(history, step);
        const band = noise === undefined ? 0 : Math.exp(noise.median + noise.centre + 2 * noise.sigma);
        state.catapult = {
          onsetStep: step, preSpikeMin: windowMin, recoverBelow: Math.max(recoveryLevel * windowMin, band),
          eosSupport: (atOrBefore?.stability?.eosRatio ?? 0) >= cfg.eosLow,
          lambdaBefore: before?.lambdaMax, energyBefore: energyAt(before, cfg.energyK), confirmed: false, settled: false,
        };
      } else {
        track.recoveredStep = undefined; // up again: the recovery has to happen after this point
        track.settled = false;
      }
    } else if (track && track.recoveredStep === undefined && loss <= track.recoverBelow) {
      track.recoveredStep = step;
    }
  }
  if (finite.length) state.lastLossStep = Math.max(prior.lastLossStep, losses[finite[finite.length - 1]].step);

  // --- A new kernel snapshot: drift, streaks, EoS, catapult confirmation and settling.
  let catapultConfirmed = false;
  const latest = history.length ? history[history.length - 1] : undefined;
  if (latest && latest.snapshotId !== prior.lastKernelSnapshotId) {
    const prev = history.length > 1 ? history[history.length - 2] : undefined;
    const { kernel, peakVelocity } = evaluateKernel(latest, prev, prior.peakVelocity, cfg);
    state.kernel = kernel;
    state.peakVelocity = peakVelocity;
    state.lastKernelSnapshotId = latest.snapshotId;
    state.frozenStreak = kernel.quiet ? prior.frozenStreak + 1 : 0;
    state.quietStreak = kernel.moving ? 0 : prior.quietStreak + 1;
    if (kernel.measured) state.measuredSnapshots = prior.measuredSnapshots + 1;
    const r = kernel.eosRatio;
    if (r !== undefined && r >= cfg.eosLow && r <= cfg.eosHigh) {
      state.eosStreak = prior.eosStreak + 1;
      if (prior.eosStreak === 0) {
        state.eosStartStep = latest.step;
        state.eosNonMonotone = false;
        state.eosLastLoss = undefined;
        for (const i of finite) {
          if (losses[i].step < latest.step) continue;
          if (state.eosLastLoss !== undefined && losses[i].loss > state.eosLastLoss) state.eosNonMonotone = true;
          state.eosLastLoss = losses[i].loss;
        }
      }
    } else {
      state.eosStreak = 0;
      state.eosStartStep = undefined;
      state.eosNonMonotone = false;
      state.eosLastLoss = undefined;
    }
    const track = state.catapult;
    // R_EoS in the catapult window while the spike is still open also supports it (the snapshot may lag the spike).
    if (track && track.recoveredStep === undefined && (latest.stability?.eosRatio ?? 0) >= cfg.eosLow) track.eosSupport = true;
    if (track && latest.step >= track.onsetStep) {
      if (!track.confirmed) {
        const lambdaDrop = track.lambdaBefore !== undefined && latest.lambdaMax !== undefined && latest.lambdaMax <= cfg.catapultDrop * track.lambdaBefore;
        const eNow = energyAt(latest, cfg.energyK);
        const energyJump = track.energyBefore !== undefined && eNow !== undefined && eNow - track.energyBefore >= cfg.energyJump;
        if (lambdaDrop || energyJump) {
          track.confirmed = true;
          catapultConfirmed = true;
          state.catapultEvents = prior.catapultEvents + 1;
        }
      }
      if (track.recoveredStep !== undefined && latest.step >= track.recoveredStep) {
        const l1 = latest.lambdaMax;
        const l0 = prev?.lambdaMax;
        // Without λ_1 on both sides there is nothing to wait for.
        track.settled = l1 === undefined || !l0 ? true : Math.abs(l1 - l0) / l0 < cfg.catapultSettle;
      }
    }
  }
  // In logits-only runs the loss recovery alone ends a catapult (docs/science.md B: spike only).
  const track = state.catapult;
  let ended: CatapultTrack | undefined;
  if (track && track.recoveredStep !== undefined && (track.settled || mode === 'logits')) {
    ended = track;
    state.catapult = undefined;
  }

  // --- Flags that read the current loss window and the kept kernel evaluation.
  const kernel = state.kernel;
  const tail = finite.slice(-cfg.plateauWindow).map((i) => losses[i].loss);
  let plateauChange: number | undefined;
  if (tail.length >= cfg.plateauWindow && tail[0] !== 0) plateauChange = (tail[tail.length - 1] - tail[0]) / Math.abs(tail[0]);
  const plateau = plateauChange !== undefined && Math.abs(plateauChange) < cfg.plateauRel;
  const kernelMoving = mode === 'kernel' && (kernel?.moving ?? true);
  const loadedPlateau = plateau && mode === 'kernel' && (kernelMoving || !!kernel?.traceRise || !!kernel?.alignmentRise);

  const eosRatio = kernel?.eosRatio;
  const edgeOfStability = state.eosStreak >= cfg.eosSnapshots && state.eosNonMonotone;
  const imminentInstability = eosRatio !== undefined && eosRatio > cfg.eosHigh;

  // Progressive sharpening: ln λ_1 strictly rising across the last few kernel snapshots, below the EoS band.
  let sharpeningRate: number | undefined;
  let rising = false;
  const withLambda: SnapshotDiagnostics[] = [];
  for (let i = history.length - 1; i >= 0 && withLambda.length < cfg.sharpeningSnapshots; i--) {
    const l = history[i].lambdaMax;
    if (l !== undefined && l > 0) withLambda.unshift(history[i]);
  }
  if (withLambda.length >= cfg.sharpeningSnapshots && withLambda.length >= 2) {
    rising = withLambda.every((h, i) => i === 0 || h.lambdaMax! > withLambda[i - 1].lambdaMax!);
    const a = withLambda[0];
    const b = withLambda[withLambda.length - 1];
    if (b.step > a.step) sharpeningRate = (Math.log(b.lambdaMax!) - Math.log(a.lambdaMax!)) / (b.step - a.step);
  }
  const progressiveSharpening = rising && (sharpeningRate ?? 0) > 0 && eosRatio !== undefined && eosRatio < cfg.eosLow;

  const kernelFrozen = mode === 'kernel' && state.frozenStreak >= cfg.frozenWindow;
  const kernelMovingRecently = mode === 'kernel' && state.quietStreak < cfg.frozenWindow;
  const D = kernel?.evidence.distanceInit;
  const gLin = kernel?.evidence.linearizationGap;
  let regime: Regime = 'unknown';
  if (mode === 'kernel' && state.measuredSnapshots >= cfg.frozenWindow) {
    const richSign = !kernelFrozen || (D !== undefined && D >= cfg.lazyDistance) || (gLin !== undefined && gLin > cfg.lazyGap);
    if (richSign) regime = 'rich';
    else if (D !== undefined && gLin !== undefined) regime = 'lazy';
  }

  const active = state.catapult;
  // With a kernel, a spike is a catapult only with kernel support (A13/C10); logits-only runs have the spike alone (B).
  const supported = active !== undefined && (mode === 'logits' || active.confirmed || active.eosSupport);
  const shown = active ?? ended; // a catapult that ended in this update still reports its numbers
  const lastLoss = finite.length ? losses[finite[finite.length - 1]].loss : undefined;
  const evidence: DetectorEvidence = {
    ...(kernel?.evidence ?? {}),
    lossNow: lastLoss,
    spikeRatio,
    spikeStep,
    catapultOnsetStep: shown?.onsetStep,
    preSpikeMin: shown?.preSpikeMin,
    lambdaBeforeSpike: shown?.lambdaBefore,
    lambdaRatio: shown?.lambdaBefore && latest?.lambdaMax !== undefined ? latest.lambdaMax / shown.lambdaBefore : undefined,
    recoveredStep: shown?.recoveredStep,
    lossNoise,
    spikeWithoutKernelSupport: active !== undefined && !supported ? 1 : undefined,
    eosRatio,
    eosStreak: state.eosStreak,
    sharpeningRate,
    plateauChange,
    frozenStreak: state.frozenStreak,
    quietStreak: state.quietStreak,
  };
  return {
    state,
    flags: {
      mode,
      lossSpike,
      catapultInProgress: supported,
      catapultConfirmed,
      edgeOfStability,
      imminentInstability,
      progressiveSharpening,
      plateau,
      loadedPlateau,
      kernelMoving,
      kernelFrozen,
      kernelMovingRecently,
      regime,
      catapultEvents: state.catapultEvents,
      evidence,
    },
  };
}

/** Logits-only detectors (docs/science.md B): spike, catapult onset/recovery and plateau on the observed loss. */
export function updateLossDetectors(prior: DetectorState, losses: readonly LossPoint[], cfg: DetectorConfig = DEFAULT_DETECTOR_CONFIG): { flags: DetectorFlags; state: DetectorState } {
  return updateDetectors(prior, { history: [], losses }, cfg);
}
