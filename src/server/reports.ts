/** Run state → wire messages (GetRun, ListRuns, decisions). */
import type { Decision } from '../gen/ntksidecar/v1/Decision.js';
import type { RunReport } from '../gen/ntksidecar/v1/RunReport.js';
import type { RunSummary } from '../gen/ntksidecar/v1/RunSummary.js';
import type { SpectrumReport } from '../gen/ntksidecar/v1/SpectrumReport.js';
import type { Verdict } from '../policy/decide.js';
import type { KernelSpectrum } from '../worker/protocol.js';
import { MAX_EIGEN_RANK } from '../metrics/sidecarMetrics.js';
import type { Run } from './runTable.js';

export function decisionMessage(run: Run, verdict: Verdict, snapshotId: number, step: number, decidedAtMs: number): Decision {
  return {
    run_id: run.id,
    job_id: run.start.job_id,
    snapshot_id: snapshotId,
    step,
    action: verdict.action,
    enforced: run.policy.enforced,
    reason: verdict.reason,
    detail: verdict.detail,
    evidence: verdict.evidence,
    policy: run.policy.name,
    decided_at_unix_ms: decidedAtMs,
  };
}

export function spectrumReport(s: KernelSpectrum, samples: number): SpectrumReport {
  const top = Array.from(s.eigenvalues.subarray(0, MAX_EIGEN_RANK));
  return {
    kernel: s.kernel,
    size: s.size,
    solver: s.solver,
    trace: s.trace,
    trace_per_output: s.tracePerOutput,
    lambda_max: s.lambdaMax,
    eigenvalues: top,
    eigenvalues_normalized: top.map((v) => v / samples),
    numerical_rank: s.numericalRank,
    rank_deficiency: s.rankDeficiency,
    tolerance: s.tolerance,
    condition_pos: s.conditionPos,
    condition_reg: s.conditionReg,
    decay_exponent: s.decay.exponent,
    decay_r2: s.decay.r2,
    decay_window_lo: s.decay.lo,
    decay_window_hi: s.decay.hi,
    decay_max_abs_residual: s.decay.maxAbsResidual,
    esd_alpha: s.esd.alpha,
    esd_ks: s.esd.ks,
    esd_xmin: s.esd.xmin,
    effective_rank_entropy: s.effectiveRank.entropy,
    effective_rank_participation: s.effectiveRank.participation,
    effective_rank_stable: s.effectiveRank.stable,
    max_residual: s.maxResidual,
    computed_pairs: s.computedPairs,
  };
}

export function runReport(run: Run): RunReport {
  const latest = run.latest;
  return {
    run_id: run.id,
    job_id: run.start.job_id,
    cohort: run.start.cohort,
    rank: run.start.rank,
    state: run.state,
    status: run.status,
    snapshots_accepted: run.snapshotsAccepted,
    snapshots_rejected: run.snapshotsRejected,
    last_step: run.lastStep,
    latest: latest && {
      snapshot_id: latest.snapshotId,
      step: latest.step,
      train_loss: latest.trainLoss,
      source: latest.source,
      spectra: latest.spectra.map((s) => spectrumReport(s, run.samples)),
      analysis_seconds: latest.analysisSeconds,
      backend: latest.backend,
      received_bytes: latest.receivedBytes,
      finite: latest.finite,
    },
    decision: run.decision?.message,
    decisions_by_reason: Object.fromEntries(run.decisionsByReason),
    backend: latest?.backend ?? '',
    policy: run.policy.name,
    num_samples: run.samples,
    num_outputs: run.outputs,
    last_train_loss: run.lastLoss,
  };
}

export function runSummary(run: Run): RunSummary {
  return {
    run_id: run.id,
    job_id: run.start.job_id,
    cohort: run.start.cohort,
    rank: run.start.rank,
    state: run.state,
    last_step: run.lastStep,
    action: run.decision?.action ?? 'ACTION_UNSPECIFIED',
    reason: run.decision?.verdict.reason ?? 'REASON_UNSPECIFIED',
  };
}
