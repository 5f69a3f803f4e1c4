/**
 * One snapshot's training-dynamics diagnostics (docs/science.md A5–A12) from its kernels, spectra and logits, and
 * the run's analysis history (reference kernels, previous residual, previous anchor). Pure: the compute worker
 * owns the history between calls. Each block is computed only when its inputs exist — a loss convention, targets,
 * logits, a previous snapshot — and is otherwise absent, never guessed (docs/science.md E4).
 */
import type { SpectrumSummary } from '../spectrum/summarizeSpectrum.js';
import { alignmentDiagnostics } from './alignment.js';
import { driftDiagnostics, type KernelState } from './kernelDrift.js';
import { fitAnchorTimeScale, predictionDiagnostics, type PredictionInput } from './predictionDiagnostics.js';
import { learnedModes, linearizationGap, modalCoefficients, residualCe, residualDiagnostics, residualMse } from './residual.js';
import { eosRatio, gnSharpnessCe, gnSharpnessMse, stabilityThreshold } from './sharpness.js';
import { etaEff } from './timeMap.js';
import type { RunSetup, SnapshotDiagnostics, StabilityDiagnostics } from './types.js';
import { estimateGeneralization, evalProbeEstimates, type GeneralizationReportFields } from './generalization.js';
import { forecastGeneralization, type ForecastSettings, type GeneralizationPoint } from './generalizationForecast.js';

/** Prediction-change points kept for Label Wave (G4). */
const MAX_EVAL_CHANGED = 512;

export interface AnalyzedKernel {
  kernel: Float64Array;
  size: number;
  /** With eigenvectors (summarizeSpectrum(..., { vectors: true })). */
  spectrum: SpectrumSummary;
}

export interface AnalyzeInput {
  setup: RunSetup;
  snapshotId: number;
  step: number;
  trainLoss: number;
  learningRate: number;
  source: KernelState['source'];
  /** The N×N kernel, when the snapshot carried it (FULL reduction, or C = 1). */
  full?: AnalyzedKernel;
  /** The n×n traced kernel (the full one when C = 1). */
  traced?: AnalyzedKernel;
  /** Adam-preconditioned kernel K_P (the threshold of A5 then applies). */
  preconditioned: boolean;
  logits?: Float64Array;
  targets?: Float64Array;
  /** Evaluation probe logits and targets (docs/generalization.md G4). */
  evalLogits?: Float64Array;
  evalTargets?: Float64Array;
  observed: PredictionInput['observed'];
  kess: PredictionInput['kess'];
  forecast?: { series: readonly GeneralizationPoint[]; settings: ForecastSettings; budgetEnd?: number };
}

export interface AnalysisHistory {
  init?: KernelState;
  prev?: KernelState;
  /** Residual and eigenpairs of the previous full-kernel snapshot (linearisation gap, A8). */
  prevResidual?: { step: number; r: Float64Array; lambda: Float64Array; vectors: Float64Array; pairs: number; size: number };
  /** The previous anchor's prediction input: its window since then fits â for the next anchor (A11). */
  prevAnchor?: PredictionInput;
  /** Evaluation-probe predictions of the previous snapshot and the prediction-change series (G4, Label Wave). */
  evalPredictions?: Int32Array;
  evalChanged?: Array<{ step: number; changed: number }>;
}

function stability(input: AnalyzeInput, full: AnalyzedKernel): StabilityDiagnostics | undefined {
  const { setup, learningRate: lr } = input;
  const opt = setup.optimizer;
  // Adam's threshold applies to the preconditioned sharpness only (A5): without K_P there is no honest ratio.
  if (!(lr > 0) || (opt.kind === 'adam' && !input.preconditioned)) return undefined;
  let sharpness: number | undefined;
  if (setup.loss === 'mse' && setup.lossScale > 0) {
    sharpness = gnSharpnessMse(full.spectrum.lambdaMax, setup.lossScale, opt.weightDecay);
  } else if (setup.loss === 'cross_entropy' && input.logits) {
    sharpness = gnSharpnessCe(full.kernel, input.logits, setup.samples, setup.outputs) + opt.weightDecay;
  }
  if (sharpness === undefined) return undefined;
  const threshold = stabilityThreshold({ kind: opt.kind, lr, momentum: opt.momentum, beta1: opt.beta1 });
  return { gnSharpness: sharpness, threshold, eosRatio: eosRatio(sharpness, threshold), preconditioned: input.preconditioned };
}

/** Class labels of one-hot (or score) rows: the argmax of each row. */
function labelsOf(targets: Float64Array, n: number, C: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let c = 1; c < C; c++) if (targets[i * C + c] > targets[i * C + out[i]]) out[i] = c;
  return out;
}

/**
 * docs/generalization.md G1–G4: the kernel estimates need the traced (or full) kernel's eigenvectors, targets, logits
 * and a loss convention; the evaluation probe needs only its logits and labels. Updates the G4 series in `next`.
 */
function generalization(input: AnalyzeInput, kernel: AnalyzedKernel | undefined, history: AnalysisHistory, next: AnalysisHistory): GeneralizationReportFields | undefined {
  const { setup } = input;
  const C = setup.outputs;
  const task = setup.loss === 'mse' ? 'regression' : setup.loss === 'cross_entropy' ? 'classification' : undefined;
  const evalTask = task ?? (C > 1 ? 'classification' : undefined);
  const ev = input.evalLogits && input.evalTargets && evalTask === 'classification'
    ? {
        logits: input.evalLogits,
        labels: labelsOf(input.evalTargets, input.evalTargets.length / C, C),
        previousPredictions: history.evalPredictions,
        changedHistory: history.evalChanged,
        heldOut: setup.evalHeldOut,
      }
    : undefined;
  let report: GeneralizationReportFields | undefined;
  let predictions: Int32Array | undefined;
  const vectors = kernel?.spectrum.vectors;
  // LOO needs at least two probe samples.
  if (kernel && vectors && task && input.logits && input.targets && setup.samples >= 2) {
    const est = estimateGeneralization({
      kernel: { values: kernel.spectrum.eigenvalues, vectors, pairs: kernel.spectrum.computedPairs, kind: kernel.size === setup.samples ? 'traced' : 'full' },
      samples: setup.samples,
      outputs: C,
      targets: input.targets,
      logits: input.logits,
      task,
      step: input.step,
      fitTargetScale: task === 'classification',
      trainSetSize: setup.trainSetSize || undefined,
      labelNoiseSigma: setup.labelNoiseSigma || undefined,
      residual: task === 'classification' ? residualCe(input.logits, input.targets, setup.samples, C) : undefined,
      eval: ev,
    });
    report = est.report;
    predictions = est.evalPredictions;
  } else if (ev) {
    const probe = evalProbeEstimates(ev, C, input.step);
    report = { heldOut: setup.evalHeldOut, ...probe.report };
    predictions = probe.predictions;
  }
  if (predictions) next.evalPredictions = predictions;
  if (report?.evalChanged !== undefined) next.evalChanged = [...(history.evalChanged ?? []), { step: input.step, changed: report.evalChanged }].slice(-MAX_EVAL_CHANGED);
  return report;
}

/**
 * A5–A12 and G1–G4 of one snapshot. The generalisation estimates are isolated: when they fail, `warning` says why
 * and every other diagnostic stands.
 */
export function analyzeSnapshot(input: AnalyzeInput, history: AnalysisHistory): { diagnostics: SnapshotDiagnostics; history: AnalysisHistory; warning?: string } {
  const out = dynamics(input, history);
  try {
    const report = generalization(input, input.traced ?? input.full, history, out.history);
    out.diagnostics.generalization = report;
    if (input.forecast) {
      const { series, settings, budgetEnd } = input.forecast;
      const points = report ? [...series, { step: input.step, ...report }] : series;
      out.diagnostics.generalizationForecast = forecastGeneralization(points, input.step, settings, budgetEnd);
    }
    return out;
  } catch (err) {
    return { ...out, warning: `generalisation estimates: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function dynamics(input: AnalyzeInput, history: AnalysisHistory): { diagnostics: SnapshotDiagnostics; history: AnalysisHistory } {
  const { setup, step } = input;
  const main = input.full ?? input.traced;
  const diagnostics: SnapshotDiagnostics = { snapshotId: input.snapshotId, step, trainLoss: input.trainLoss };
  if (!main) return { diagnostics, history: { ...history } };
  const s = main.spectrum;
  diagnostics.lambdaMax = s.lambdaMax;
  diagnostics.trace = s.trace;
  diagnostics.participation = s.effectiveRank.participation;

  // A6: drift against the previous and the first kernel of the run.
  const state: KernelState = {
    step,
    kernel: main.kernel,
    size: main.size,
    vectors: s.vectors,
    pairs: s.computedPairs,
    trace: s.trace,
    participation: s.effectiveRank.participation,
    source: input.source,
    sketch: input.source === 'sketch' ? setup.sketch : undefined,
  };
  diagnostics.drift = driftDiagnostics(history.prev, history.init, state);
  const next: AnalysisHistory = { ...history, init: history.init ?? state, prev: state };

  // A7 on the traced kernel.
  if (input.traced && input.targets) {
    const t = input.traced;
    diagnostics.alignment = alignmentDiagnostics({ kernel: t.kernel, size: t.size, targets: input.targets, cols: setup.outputs, vectors: t.spectrum.vectors, pairs: t.spectrum.computedPairs });
  }

  const full = input.full;
  if (!full) return { diagnostics, history: next };
  diagnostics.stability = stability(input, full);

  // A8–A12 need the residual: logits, targets and a loss convention.
  if (!input.logits || !input.targets || !setup.loss || !full.spectrum.vectors) return { diagnostics, history: next };
  const mse = setup.loss === 'mse';
  const r = mse ? residualMse(input.logits, input.targets) : residualCe(input.logits, input.targets, setup.samples, setup.outputs);
  const { eigenvalues: lambda, vectors, computedPairs: pairs } = full.spectrum;
  const residual = residualDiagnostics({ lambda, vectors, pairs, size: full.size, r, outputs: setup.outputs, kernel: full.kernel });
  diagnostics.residual = residual;
  // No learning rate (0 or unknown): no kernel-GD dynamics to predict, only the static residual diagnostics.
  const lr = input.learningRate;
  const eta = lr > 0 ? etaEff({ kind: setup.optimizer.kind, lr, momentum: setup.optimizer.momentum }) : undefined;
  const cL = setup.lossScale;
  const prev = history.prevResidual;
  if (mse && cL > 0 && eta !== undefined && prev && prev.size === full.size && step > prev.step) {
    const steps = Math.round(step - prev.step);
    residual.learnedModes = learnedModes(prev.lambda, cL, eta, steps);
    residual.linearizationGap = linearizationGap({ lambda: prev.lambda, vectors: prev.vectors, pairs: prev.pairs, size: prev.size, rPrev: prev.r, cL, etaEff: eta, steps, rObs: r }).gap;
  }
  next.prevResidual = { step, r, lambda, vectors, pairs, size: full.size };

  if ((mse && !(cL > 0)) || !(lr > 0)) return { diagnostics, history: next };
  const c = modalCoefficients(vectors, pairs, full.size, r);
  const coeff2 = c.map((v) => v * v);
  let norm2 = 0;
  for (const v of r) norm2 += v * v;
  const captured = coeff2.reduce((a, b) => a + b, 0);
  const anchor: PredictionInput = {
    anchorStep: step,
    lambda: lambda.slice(0, pairs),
    coeff2,
    restEnergy: Math.max(0, norm2 - captured),
    tol: full.spectrum.tolerance,
    cL: mse ? cL : undefined,
    loss: setup.loss,
    etaEff: eta,
    lr: input.learningRate,
    observed: input.observed,
    firstStep: 0,
    kess: input.kess,
    ce: mse ? undefined : { kernel: full.kernel, logits: input.logits, targets: input.targets, samples: setup.samples, outputs: setup.outputs },
  };
  // â fitted on the window since the previous anchor carries over to this one (A11).
  const prior = history.prevAnchor && fitAnchorTimeScale({ ...history.prevAnchor, observed: input.observed });
  if (prior?.fitted) anchor.priorTimeScale = { a: prior.a, r2: prior.r2 };
  diagnostics.prediction = predictionDiagnostics(anchor);
  next.prevAnchor = anchor;
  return { diagnostics, history: next };
}
