/**
 * The pictures the CLI writes with --svg (issue 16), made of the run page's charts: `analyze` draws the spectrum,
 * `replay` the loss against the kernel prediction with KESS and the STOP, and the decision timeline.
 */
import type { SnapshotDiagnostics } from '../analysis/types.js';
import { lossChart, stackCharts, timelineChart, type LossChartInput, type TimelineDecision } from './charts.js';

/** The prediction of the latest kernel snapshot that has one, anchored at that snapshot's step and loss. */
export function latestPrediction(diagnostics: readonly SnapshotDiagnostics[]): LossChartInput['prediction'] {
  for (let i = diagnostics.length - 1; i >= 0; i--) {
    const d = diagnostics[i];
    const p = d.prediction;
    if (!p) continue;
    return {
      anchorStep: d.step,
      anchorLoss: d.trainLoss,
      valid: p.valid,
      kess: p.kess,
      predictedLossAtKess: p.predictedLossAtKess,
      lossAtHorizon: p.lossAtHorizon,
      floor: p.floor,
    };
  }
  return undefined;
}

export interface RunPictureInput {
  runId: string;
  policy: string;
  observed: ReadonlyArray<{ step: number; loss: number }>;
  diagnostics: readonly SnapshotDiagnostics[];
  decisions: readonly TimelineDecision[];
  stop?: { step: number; reason: string; enforced: boolean };
}

/** Loss (observed, predicted, KESS, STOP) above the decision timeline, as one SVG document. */
export function runPicture(r: RunPictureInput): string {
  return stackCharts([
    lossChart({ observed: r.observed, prediction: latestPrediction(r.diagnostics), stop: r.stop, title: `Run ${r.runId} (policy ${r.policy}): observed and kernel-predicted loss` }),
    timelineChart(r.decisions, { title: `Decisions of policy ${r.policy}` }),
  ]);
}
