/**
 * Replays a recorded run through a policy offline: every snapshot goes through the same analyzeKernelSnapshot()
 * and advanceRun() as on the server, so with the recording's own policy the decisions are the server's, and with
 * another policy they are what that policy would have decided (docs/design.md §4).
 */
import { analyzeKernelSnapshot, kernelSourceOf } from '../analysis/analyzeKernelSnapshot.js';
import type { AnalysisHistory } from '../analysis/analyzeSnapshot.js';
import { kernelEpsilon } from '../kernel/sourceEpsilon.js';
import { advanceRun, initialRunState, snapshotContext, type RunState } from '../policy/advanceRun.js';
import type { Verdict } from '../policy/verdict.js';
import type { Policy } from '../policy/policy.js';
import { decodeEvalTargets, decodeTargets, runLimitsOf, runSetupFrom } from '../server/runSetup.js';
import type { Recording } from './recording.js';

/** The JSON output format of `replay --json` (bench/stopping reads it). */
export const REPLAY_FORMAT = 1;

export interface ReplayedDecision extends Verdict {
  /** 0 for a decision brought by Scalars. */
  snapshotId: number;
  step: number;
  enforced: boolean;
}

export interface ReplayResult {
  format: typeof REPLAY_FORMAT;
  runId: string;
  policy: string;
  decisions: ReplayedDecision[];
  /** Step of the first STOP (enforced or not), null when the policy never stops the run. */
  stopStep: number | null;
  stopReason: string | null;
  snapshots: number;
  lastStep: number;
  /** The run's state after the last event (losses, detectors, latest verdict). */
  state: RunState;
}

export function replayRecording(recording: Recording, policy: Policy): ReplayResult {
  const { start, analysis } = recording.header;
  const samples = start.probe?.num_samples ?? 0;
  const outputs = start.probe?.num_outputs || 1;
  const run = {
    setup: runSetupFrom(start, samples, outputs),
    targets: decodeTargets(start, samples, outputs),
    evalTargets: decodeEvalTargets(start, outputs),
    learningRate: start.learning_rate,
  };
  let state = initialRunState(runLimitsOf(start));
  let history: AnalysisHistory = {};
  const decisions: ReplayedDecision[] = [];
  let snapshots = 0;
  let snapshotId = 0;
  for (const e of recording.events) {
    let verdict: Verdict | undefined;
    if (e.type === 'scalars') {
      ({ state, verdict } = advanceRun(state, { kind: 'scalars', step: e.step, trainLoss: e.trainLoss, computeSpent: e.computeSpent }, policy));
    } else {
      snapshots++;
      snapshotId = e.snapshotId;
      const context = snapshotContext(state, run, e, policy);
      const k = e.kernel;
      const result = analyzeKernelSnapshot(
        {
          kernel: k?.data,
          size: k?.size ?? 0,
          samples,
          outputs,
          reduction: k?.reduction ?? 'full',
          source: kernelSourceOf(k?.kind ?? ''),
          epsSrc: k ? kernelEpsilon(k.kind, k.dtype, analysis.backend) : 0,
          exactMax: analysis.exactMax,
          topK: analysis.topK,
          logits: e.logits,
          evalLogits: e.evalLogits,
          context,
        },
        history,
      );
      history = result.history;
      const event = { kind: 'snapshot', step: e.step, trainLoss: e.trainLoss, computeSpent: e.computeSpent, finite: result.finite, hasKernel: k !== undefined, diagnostics: result.diagnostics! } as const;
      ({ state, verdict } = advanceRun(state, event, policy));
    }
    if (verdict) decisions.push({ ...verdict, snapshotId: e.type === 'snapshot' ? e.snapshotId : snapshotId, step: e.step, enforced: policy.enforced });
  }
  const stop = decisions.find((d) => d.action === 'ACTION_STOP');
  return {
    format: REPLAY_FORMAT,
    runId: start.run_id,
    policy: policy.name,
    decisions,
    stopStep: stop?.step ?? null,
    stopReason: stop?.reason ?? null,
    snapshots,
    lastStep: state.lastStep,
    state,
  };
}
