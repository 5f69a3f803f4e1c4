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
  observed: PredictionInput['observed'];
  kess: PredictionInput['kess'];
}

export interface AnalysisHistory {
  init?: KernelState;
  prev?: KernelState;
  /** Residual and eigenpairs of the previous full-kernel snapshot (linearisation gap, A8). */
  prevResidual?: { step: number; r: Float64Array; lambda: Float64Array; vectors: Float64Array; pairs: number; size: number };
  /** The previous anchor's prediction input: its window since then fits â for the next anchor (A11). */
  prevAnchor?: PredictionInput;
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

export function analyzeSnapshot(input: AnalyzeInput, history: AnalysisHistory): { diagnostics: SnapshotDiagnostics; history: AnalysisHistory } {
  const { setup, step } = input;
  const main = input.full ?? input.traced;
  const diagnostics: SnapshotDiagnostics = { snapshotId: input.snapshotId, step, trainLoss: input.trainLoss };
  if (!main) return { diagnostics, history };
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
