/** Run state → wire messages (GetRun, ListRuns, decisions). */
import type { Decision } from '../gen/ntksidecar/v1/Decision.js';
import type { RunReport } from '../gen/ntksidecar/v1/RunReport.js';
import type { RunSummary } from '../gen/ntksidecar/v1/RunSummary.js';
import type { SpectrumReport } from '../gen/ntksidecar/v1/SpectrumReport.js';
import type { Verdict } from '../policy/verdict.js';
import type { KernelSpectrum } from '../worker/protocol.js';
import { MAX_EIGEN_RANK } from '../metrics/sidecarMetrics.js';
import { shadowSavings, type Run } from './runTable.js';
import type { PredictionDiagnostics, SnapshotDiagnostics } from '../analysis/types.js';
import { GENERALIZATION_FIELDS, snakeCase } from '../analysis/generalization.js';
import type { DetectorFlags } from '../analysis/detectors.js';
import type { DiagnosticsReport } from '../gen/ntksidecar/v1/DiagnosticsReport.js';
import { eosBand } from '../analysis/sharpness.js';

export function decisionMessage(run: Run, verdict: Verdict, snapshotId: number, step: number, decidedAtMs: number, prediction?: PredictionDiagnostics): Decision {
  // Only a trusted prediction speaks for the sweet spot on a decision (its K2 is what A14 used).
  const kess = prediction?.valid ? prediction.kess.K2 : undefined;
  return {
    kess_step: kess,
    predicted_loss_at_kess: kess === undefined ? undefined : prediction?.predictedLossAtKess,
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

export function diagnosticsReport(d: SnapshotDiagnostics, f: DetectorFlags | undefined): DiagnosticsReport {
  const p = d.prediction;
  return {
    detectors: f && {
      loss_spike: f.lossSpike,
      catapult_in_progress: f.catapultInProgress,
      catapult_confirmed: f.catapultConfirmed,
      edge_of_stability: f.edgeOfStability,
      imminent_instability: f.imminentInstability,
      progressive_sharpening: f.progressiveSharpening,
      plateau: f.plateau,
      loaded_plateau: f.loadedPlateau,
      kernel_moving: f.kernelMoving,
      kernel_frozen: f.kernelFrozen,
      regime: f.regime,
      catapult_events: f.catapultEvents,
    },
    stability: d.stability && {
      gn_sharpness: d.stability.gnSharpness,
      threshold: d.stability.threshold,
      eos_ratio: d.stability.eosRatio,
      preconditioned: d.stability.preconditioned,
      band: eosBand(d.stability.eosRatio),
    },
    drift: d.drift && {
      distance_prev: d.drift.distancePrev,
      distance_init: d.drift.distanceInit,
      velocity_per_kstep: d.drift.velocityPerKstep,
      relative_change_init: d.drift.relativeChangeInit,
      trace_ratio: d.drift.traceRatio,
      subspace_overlap: d.drift.subspaceOverlap,
      sketch_floor: d.drift.sketchFloor,
      comparable: d.drift.comparable,
    },
    alignment: d.alignment && { uncentered: d.alignment.uncentered, centered: d.alignment.centered, curve: d.alignment.curve },
    residual: d.residual && {
      topk: d.residual.topk.map((t) => ({ k: t.k, value: t.fraction })),
      rayleigh: d.residual.rayleigh,
      residual_norm: d.residual.residualNorm,
      learned_modes: d.residual.learnedModes,
      linearization_gap: d.residual.linearizationGap,
    },
    generalization: d.generalization && {
      ...Object.fromEntries(GENERALIZATION_FIELDS.map((k) => [snakeCase(k), d.generalization![k]])),
      held_out: d.generalization.heldOut,
    },
    prediction: p && {
      valid: p.valid,
      time_scale: p.timeScale,
      time_r2: p.timeR2,
      kess_k1: p.kess.K1,
      kess_k2: p.kess.K2,
      kess_k3: p.kess.K3,
      kess_k4: p.kess.K4,
      predicted_loss_at_kess: p.predictedLossAtKess,
      loss_at_horizon: p.lossAtHorizon,
      gain_per_step: p.gain.perStep,
      gain_avg_ratio: p.gain.avgRatio,
      gain_remaining: p.gain.remaining,
      loss_floor: p.floor,
    },
  };
}

/** Identity fields shared by RunReport and RunSummary. */
function runIdentity(run: Run) {
  return { run_id: run.id, job_id: run.start.job_id, cohort: run.start.cohort, rank: run.start.rank, state: run.state };
}

export function runReport(run: Run): RunReport {
  const shadow = shadowSavings(run);
  const latest = run.latest;
  return {
    ...runIdentity(run),
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
      diagnostics: diagnosticsReport(latest.diagnostics, run.flags),
    },
    decision: run.decision?.message,
    decisions_by_reason: Object.fromEntries(run.decisionsByReason),
    backend: latest?.backend ?? '',
    policy: run.policy.name,
    num_samples: run.samples,
    num_outputs: run.outputs,
    last_train_loss: run.lastLoss,
    recent_decisions: run.recentDecisions,
    would_stop_step: shadow?.wouldStopStep,
    compute_after_would_stop: shadow?.computeAfter ?? 0,
    steps_after_would_stop: shadow?.stepsAfter ?? 0,
  };
}

export function runSummary(run: Run): RunSummary {
  return {
    ...runIdentity(run),
    last_step: run.lastStep,
    action: run.decision?.action ?? 'ACTION_UNSPECIFIED',
    reason: run.verdict?.reason ?? 'REASON_UNSPECIFIED',
  };
}
