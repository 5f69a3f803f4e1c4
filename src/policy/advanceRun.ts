/**
 * One run, one event: the whole per-run bookkeeping of the decision (docs/science.md A13/A14) as a pure function.
 * The server, `replay`, the stopping evaluation and the tests all call advanceRun(), so a recorded run replays to
 * the decisions the server sent. Transport, acks, metrics and persistence stay with the caller.
 */
import { initialDetectorState, updateDetectors, updateLossDetectors, type DetectorFlags, type DetectorState, type LossPoint } from '../analysis/detectors.js';
import type { AnalysisContext } from '../analysis/analyzeKernelSnapshot.js';
import type { RunSetup, SnapshotDiagnostics } from '../analysis/types.js';
import { budgetSteps, decide } from './decide.js';
import type { Verdict } from './verdict.js';
import type { GeneralizationPoint } from '../analysis/generalizationForecast.js';
import type { Policy } from './policy.js';

/** Observed losses kept per run for curve fits and detectors (oldest dropped beyond this). */
export const MAX_OBSERVED = 4096;
/** Kernel-snapshot diagnostics kept per run (the detectors look back a few snapshots). */
export const MAX_DIAGNOSTICS_KEPT = 64;
/** Generalisation points kept per run: the learning-curve fit of G5 reads them all. */
export const MAX_GENERALIZATION_KEPT = 256;

/** ε of KESS definition K1 (docs/science.md A12), reported only. */
const KESS_K1_EPS = 0.05;

/** Run-level limits from RunStart; 0 = none. */
export interface RunLimits {
  warmupSteps: number;
  maxSteps: number;
  maxCompute: number;
}

/** What a run carries from one decision to the next. Plain data: it is persisted as JSON. */
export interface RunState {
  limits: RunLimits;
  /** Losses from snapshots and scalars, oldest first, at most MAX_OBSERVED. */
  observed: LossPoint[];
  /** Diagnostics of recent kernel snapshots, oldest first (the policy's window). */
  diagnostics: SnapshotDiagnostics[];
  /** Generalisation estimates of recent snapshots, oldest first, at most MAX_GENERALIZATION_KEPT (G5). */
  generalization: GeneralizationPoint[];
  /** A13 detector state carried across snapshots, and the latest flags. */
  detectorState: DetectorState;
  flags?: DetectorFlags;
  snapshotsAccepted: number;
  kernelSnapshots: number;
  lastStep: number;
  lastLoss: number;
  computeSpent: number;
  /** The latest verdict: a STOP latches, a STOP_PENDING carries the vote count. */
  verdict?: Verdict;
  /** Shadow mode: the step and compute at which STOP latched without being enforced. */
  wouldStop?: { step: number; compute: number };
}

/** An accepted snapshot, analysed (analyzeKernelSnapshot), or a Scalars message. */
export type RunEvent =
  | { kind: 'snapshot'; step: number; trainLoss: number; computeSpent: number; finite: boolean; hasKernel: boolean; diagnostics: SnapshotDiagnostics }
  | { kind: 'scalars'; step: number; trainLoss: number; computeSpent: number };

export function initialRunState(limits: RunLimits): RunState {
  return {
    limits,
    observed: [],
    diagnostics: [],
    generalization: [],
    detectorState: initialDetectorState(),
    snapshotsAccepted: 0,
    kernelSnapshots: 0,
    lastStep: 0,
    lastLoss: Number.NaN,
    computeSpent: 0,
  };
}

/** The observed losses with (step, loss) added; a non-finite loss is a finding (DIVERGED), not a point. */
export function observeLoss(observed: readonly LossPoint[], step: number, loss: number): LossPoint[] {
  if (!Number.isFinite(loss)) return observed.slice();
  const last = observed[observed.length - 1];
  const out = last && last.step === step ? [...observed.slice(0, -1), { step, loss }] : [...observed, { step, loss }];
  return out.length > MAX_OBSERVED ? out.slice(out.length - MAX_OBSERVED) : out;
}

/** compute_spent is monotone by contract; a NaN, infinite or negative report is ignored rather than kept forever. */
function spent(before: number, reported: number): number {
  return Number.isFinite(reported) && reported >= 0 ? Math.max(before, reported) : before;
}

/**
 * The run after `event` and the verdict to send. Scalars only speak up when they bring news (a STOP: divergence
 * or a spent budget); `verdict` is then undefined and the state's verdict unchanged.
 */
export function advanceRun(state: RunState, event: RunEvent, policy: Policy): { state: RunState; verdict?: Verdict } {
  const observed = observeLoss(state.observed, event.step, event.trainLoss);
  const base: RunState = {
    ...state,
    observed,
    lastStep: Math.max(state.lastStep, event.step),
    lastLoss: event.trainLoss,
    computeSpent: spent(state.computeSpent, event.computeSpent),
  };
  const input = {
    step: event.step,
    computeSpent: base.computeSpent,
    trainLoss: event.trainLoss,
    run: state.limits,
  };
  if (event.kind === 'scalars') {
    const verdict = decide({ ...input, dataFinite: true, snapshots: base.snapshotsAccepted, kernelSnapshots: base.kernelSnapshots }, policy, state.verdict);
    if (verdict.action !== 'ACTION_STOP' || state.verdict?.action === 'ACTION_STOP') return { state: base };
    return { state: latch(base, verdict, event.step, policy), verdict };
  }

  const next: RunState = {
    ...base,
    snapshotsAccepted: state.snapshotsAccepted + 1,
    kernelSnapshots: state.kernelSnapshots + (event.hasKernel ? 1 : 0),
    diagnostics: event.hasKernel ? [...state.diagnostics, event.diagnostics].slice(-MAX_DIAGNOSTICS_KEPT) : state.diagnostics,
    generalization: event.diagnostics.generalization
      ? [...(state.generalization ?? []), { step: event.step, ...event.diagnostics.generalization }].slice(-MAX_GENERALIZATION_KEPT)
      : state.generalization,
  };
  // A13: detectors once per snapshot — on the kernel history, or on the loss alone for logits-only runs (§B).
  const losses = [...observed].sort((a, b) => a.step - b.step);
  const detected = next.kernelSnapshots > 0
    ? updateDetectors(state.detectorState, { history: next.diagnostics, losses }, policy.stopping)
    : updateLossDetectors(state.detectorState, losses, policy.stopping);
  next.detectorState = detected.state;
  next.flags = detected.flags;
  const verdict = decide(
    {
      ...input,
      dataFinite: event.finite,
      snapshots: next.snapshotsAccepted,
      kernelSnapshots: next.kernelSnapshots,
      analysis: { history: next.diagnostics, flags: detected.flags, losses, generalization: next.generalization, forecast: event.diagnostics.generalizationForecast },
    },
    policy,
    state.verdict,
  );
  return { state: latch(next, verdict, event.step, policy), verdict };
}

/** The state with `verdict` as the latest; a STOP under a shadow policy records where it would have stopped. */
export function latch(state: RunState, verdict: Verdict, step: number, policy: Policy): RunState {
  const wouldStop = state.wouldStop ?? (verdict.action === 'ACTION_STOP' && !policy.enforced ? { step, compute: state.computeSpent } : undefined);
  return { ...state, verdict, wouldStop };
}

/** The run constants a snapshot's analysis reads (from RunStart). */
export interface RunConstants {
  setup: RunSetup;
  targets?: Float64Array;
  evalTargets?: Float64Array;
  /** RunStart.learning_rate: the header's learning rate wins when set. */
  learningRate: number;
}

export interface SnapshotFacts {
  snapshotId: number;
  step: number;
  trainLoss: number;
  /** SnapshotHeader.learning_rate; 0 = the run's. */
  learningRate: number;
  preconditioned: boolean;
}

/** The analysis context of one snapshot: the same for the server's worker and for replay. */
export function snapshotContext(state: RunState, run: RunConstants, snap: SnapshotFacts, policy: Policy): AnalysisContext {
  const { stopping } = policy;
  return {
    setup: run.setup,
    snapshotId: snap.snapshotId,
    step: snap.step,
    trainLoss: snap.trainLoss,
    learningRate: snap.learningRate || run.learningRate,
    targets: run.targets,
    evalTargets: run.evalTargets,
    // The snapshot's own loss is part of the curve its prediction is fitted to.
    observed: observeLoss(state.observed, snap.step, snap.trainLoss),
    preconditioned: snap.preconditioned,
    // G5's learning-curve fit runs with the analysis, off the event loop, on the points so far.
    forecast: policy.rule === 'generalization'
      ? { series: state.generalization ?? [], settings: policy.generalization, budgetEnd: budgetSteps(policy, state.limits) || undefined }
      : undefined,
    kess: {
      rho: stopping.rho,
      eps: KESS_K1_EPS,
      price: stopping.price || undefined,
      horizonFraction: stopping.horizonFraction,
      budgetStep: state.limits.maxSteps || undefined,
    },
  };
}
