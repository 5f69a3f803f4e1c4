/**
 * A run of the run table → the plain data the pages render. Identity, state, decision, regime and shadow savings
 * come from GetRun's report builder (src/server/reports.ts), so the page says what GetRun and the metrics say;
 * the histories (losses, diagnostics per kernel snapshot, full spectra) come from the run itself.
 */
import { runReport } from '../server/reports.js';
import type { Run } from '../server/runTable.js';
import type { Decision } from '../gen/ntksidecar/v1/Decision.js';
import type { RunPageData, RunRow } from './pages.js';
import type { TimelineDecision } from './charts.js';
import { latestPrediction } from './pictures.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? NaN));

function rowFromReport(report: ReturnType<typeof runReport>): RunRow {
  const d = report.decision ?? undefined;
  return {
    id: report.run_id ?? '',
    jobId: report.job_id ?? '',
    cohort: report.cohort ?? '',
    state: report.state ?? '',
    status: String(report.status ?? ''),
    step: num(report.last_step),
    action: d?.action === undefined ? undefined : String(d.action),
    reason: d?.reason === undefined ? undefined : String(d.reason),
    detail: d?.detail,
    enforced: d?.enforced ?? true,
    regime: report.latest?.diagnostics?.detectors?.regime ?? undefined,
    policy: report.policy ?? '',
  };
}

/** The run-list row of a run (GET /). */
export function runRow(run: Run): RunRow {
  const row = rowFromReport(runReport(run));
  if (!run.decision) row.enforced = run.policy.enforced;
  return row;
}

function timelineDecision(d: Decision): TimelineDecision {
  return { step: num(d.step), action: String(d.action ?? ''), reason: String(d.reason ?? ''), detail: d.detail ?? '', enforced: d.enforced ?? true };
}

/** Everything GET /runs/{id} shows of a run. */
export function runPageData(run: Run): RunPageData {
  const report = runReport(run);
  const row = rowFromReport(report);
  if (!run.decision) row.enforced = run.policy.enforced;
  const decisions = (report.recent_decisions ?? []).map(timelineDecision);
  // Where STOP latched: shadow mode keeps the exact step (would_stop_step); otherwise the first STOP among the recent
  // decisions, else the latest decision when it is a STOP (older decisions fall out of the recent window).
  const wouldStop = report.would_stop_step === undefined ? undefined : num(report.would_stop_step);
  const stopDecision = decisions.find((d) => d.action === 'ACTION_STOP') ?? (report.decision?.action === 'ACTION_STOP' ? timelineDecision(report.decision) : undefined);
  const stop =
    wouldStop !== undefined
      ? { step: wouldStop, reason: stopDecision?.reason ?? String(run.verdict?.reason ?? 'REASON_UNSPECIFIED'), enforced: false }
      : stopDecision && { step: stopDecision.step, reason: stopDecision.reason, enforced: stopDecision.enforced };
  return {
    row,
    snapshotsAccepted: num(report.snapshots_accepted),
    snapshotsRejected: num(report.snapshots_rejected),
    samples: run.samples,
    outputs: run.outputs,
    backend: report.backend ?? '',
    lastTrainLoss: num(report.last_train_loss),
    spectra: (run.latest?.spectra ?? []).map((s) => ({ kernel: s.kernel, eigenvalues: s.eigenvalues, decay: s.decay })),
    loss: {
      observed: run.observed,
      prediction: latestPrediction(run.diagnostics),
      stop,
    },
    history: run.diagnostics,
    decisions,
    shadow:
      wouldStop !== undefined ? { wouldStopStep: wouldStop, stepsAfter: num(report.steps_after_would_stop), computeAfter: num(report.compute_after_would_stop) } : undefined,
  };
}
