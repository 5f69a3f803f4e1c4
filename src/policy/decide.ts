/**
 * Per-run decision after each accepted snapshot: divergence and spent budgets STOP at once; then warm-up; then,
 * when the caller supplies `analysis` (snapshot evaluations), the A14 chain of src/policy/stopping.ts. Without
 * `analysis` (e.g. a Scalars message) only divergence, budgets and warm-up can speak. STOP latches.
 */
import type { DetectorFlags, LossPoint } from '../analysis/detectors.js';
import type { ObservedKess } from '../analysis/observedKess.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';
import type { Action, Verdict } from './verdict.js';
import type { Policy } from './policy.js';
import { evaluateStopping, stopVotesOf } from './stopping.js';
import { evaluateGeneralizationStopping } from './generalizationRule.js';
import type { GeneralizationForecast, GeneralizationPoint } from '../analysis/generalizationForecast.js';

/** What the A14 chain reads at a snapshot (docs/science.md A13/A14). */
export interface StoppingAnalysis {
  /** Kernel-bearing snapshots of the run, oldest first; empty = logits-only run (docs/science.md B). */
  history: readonly SnapshotDiagnostics[];
  /** updateDetectors(…) for this snapshot, with the policy's `stopping` thresholds. */
  flags: DetectorFlags;
  /** Observed (step, loss) from snapshots and Scalars, ordered by step. */
  losses: readonly LossPoint[];
  /** A fixed observed-curve estimator for tests; default observedKess (docs/science.md A14). */
  observedKess?: ObservedKess;
  /** Generalisation estimates of the run's snapshots, oldest first (docs/generalization.md G5). */
  generalization?: readonly GeneralizationPoint[];
  /** This snapshot's G5 forecast, when the policy's rule is `generalization` and the run has an estimate. */
  forecast?: GeneralizationForecast;
}

export interface DecisionInput {
  step: number;
  computeSpent: number;
  trainLoss: number;
  /** false when any streamed tensor held NaN/Inf. */
  dataFinite: boolean;
  /** Accepted snapshots so far, this one included. */
  snapshots: number;
  /** Snapshots that carried a kernel (Jacobian, sketch or Gram). */
  kernelSnapshots: number;
  /** Run-level limits from RunStart; 0 = none. */
  run: { warmupSteps: number; maxSteps: number; maxCompute: number };
  /** Present on snapshot evaluations: enables the A14 chain after divergence, budgets and warm-up. */
  analysis?: StoppingAnalysis;
}

/** The step budget of a run under a policy: the tighter of the two; 0 = none. */
export function budgetSteps(policy: Pick<Policy, 'maxSteps'>, run: { maxSteps: number }): number {
  return tighter(policy.maxSteps, run.maxSteps);
}

/** The smaller of two limits where 0 means "none". */
function tighter(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * `previous` is the run's last recorded verdict: a STOP is returned unchanged (latched), and a STOP_PENDING carries
 * the A14 vote count (evidence.stop_votes), so the hysteresis needs no other state.
 */
export function decide(input: DecisionInput, policy: Policy, previous: Verdict | undefined): Verdict {
  if (previous?.action === 'ACTION_STOP') return previous;
  const { step, computeSpent, trainLoss } = input;

  // A diverged run never recovers on its own: stop at once (a finding, not an RPC error; docs/design.md §3).
  if (!input.dataFinite || Number.isNaN(trainLoss) || !Number.isFinite(trainLoss)) {
    const what = input.dataFinite ? `train_loss is ${trainLoss}` : 'the snapshot data holds NaN or Inf';
    return {
      action: 'ACTION_STOP',
      reason: 'REASON_DIVERGED',
      detail: `Diverged at step ${step}: ${what}. Lower the learning rate or restore the last good checkpoint.`,
      evidence: { step, train_loss: trainLoss, data_finite: input.dataFinite ? 1 : 0, would_stop_step: step },
    };
  }

  const warmup = Math.max(policy.warmupSteps, input.run.warmupSteps);
  const maxSteps = budgetSteps(policy, input.run);
  const maxCompute = tighter(policy.maxCompute, input.run.maxCompute);
  if (step >= warmup) {
    if (maxSteps > 0 && step >= maxSteps) {
      return {
        action: 'ACTION_STOP',
        reason: 'REASON_BUDGET',
        detail: `Step budget spent: step ${step} ≥ max_steps ${maxSteps}.`,
        evidence: { step, max_steps: maxSteps, would_stop_step: step },
      };
    }
    if (maxCompute > 0 && computeSpent >= maxCompute) {
      return {
        action: 'ACTION_STOP',
        reason: 'REASON_BUDGET',
        detail: `Compute budget spent: ${computeSpent} ≥ max_compute ${maxCompute}.`,
        evidence: { step, compute_spent: computeSpent, max_compute: maxCompute, would_stop_step: step },
      };
    }
  }

  if (step < warmup || input.snapshots < policy.minSnapshots) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_WARMUP',
      detail: step < warmup
        ? `Warming up: step ${step} < warm-up ${warmup}.`
        : `Warming up: ${input.snapshots} of ${policy.minSnapshots} snapshots needed before analysis.`,
      evidence: { step, warmup_steps: warmup, snapshots: input.snapshots, min_snapshots: policy.minSnapshots },
    };
  }
  if (input.analysis) {
    const { history, flags, losses, observedKess, generalization, forecast } = input.analysis;
    const votes = stopVotesOf(previous);
    if (policy.rule !== 'loss' && generalization) {
      const verdict = evaluateGeneralizationStopping(
        { step, flags, logitsOnly: history.length === 0, series: generalization, forecast, votes, computePerStep: step > 0 && computeSpent > 0 ? computeSpent / step : undefined },
        policy,
      );
      // No estimate the rule can read (no targets, logits or evaluation probe): the training-loss chain decides.
      if (verdict) return verdict;
    }
    return evaluateStopping({ step, history, flags, losses, observedKess, votes }, policy.stopping);
  }
  if (input.kernelSnapshots === 0) {
    return {
      action: 'ACTION_CONTINUE',
      reason: 'REASON_NO_DATA',
      detail: 'No kernel yet: send a Jacobian, sketch or Gram with a snapshot to enable kernel analysis.',
      evidence: { step, snapshots: input.snapshots },
    };
  }
  return {
    action: 'ACTION_CONTINUE',
    reason: 'REASON_COLLECTING',
    detail: `Kernel spectrum tracked over ${input.kernelSnapshots} snapshot(s); no stopping criterion has fired.`,
    evidence: { step, kernel_snapshots: input.kernelSnapshots },
  };
}

/**
 * One decision for all ranks of a job (CheckStop by job_id): every rank must stop on the same step, so the
 * job stops as soon as any rank's enforced decision is STOP; otherwise the most recent rank decision stands.
 */
export function jobVerdict<T extends { action: Action; enforced: boolean; decidedAtMs: number }>(ranks: readonly T[]): T | undefined {
  let latest: T | undefined;
  let stop: T | undefined;
  for (const d of ranks) {
    if (d.action === 'ACTION_STOP' && d.enforced && (!stop || d.decidedAtMs < stop.decidedAtMs)) stop = d;
    if (!latest || d.decidedAtMs > latest.decidedAtMs) latest = d;
  }
  return stop ?? latest;
}
