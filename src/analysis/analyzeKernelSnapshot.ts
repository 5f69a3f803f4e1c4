/**
 * One snapshot, from its assembled kernel and logits to spectra and diagnostics (docs/science.md A1–A12). Pure:
 * the compute worker, the `analyze` CLI and `replay` all call it, so a recorded run replays to the same numbers.
 */
import type { KernelReduction } from '../kernel/kernelAccumulator.js';
import { reduceToTraced } from '../kernel/reduceToTraced.js';
import { summarizeSpectrum, type SpectrumSummary } from '../spectrum/summarizeSpectrum.js';
import { analyzeSnapshot, type AnalysisHistory, type AnalyzedKernel } from './analyzeSnapshot.js';
import { OVERLAP_K, type KernelState } from './kernelDrift.js';
import type { PredictionInput } from './predictionDiagnostics.js';
import type { RunSetup, SnapshotDiagnostics } from './types.js';
import type { ForecastSettings, GeneralizationPoint } from './generalizationForecast.js';

export interface KernelSpectrum extends SpectrumSummary {
  kernel: 'full' | 'traced';
}

/** What the analysis needs besides the tensors (docs/science.md A5–A12); built by snapshotContext(). */
export interface AnalysisContext {
  setup: RunSetup;
  snapshotId: number;
  step: number;
  trainLoss: number;
  learningRate: number;
  /** n×C targets (one-hot for classification), when the run sent them. */
  targets?: Float64Array;
  /** n_eval×C targets of the evaluation probe (docs/generalization.md G4). */
  evalTargets?: Float64Array;
  /** Every observed loss of the run so far (snapshots and scalars), oldest first. */
  observed: PredictionInput['observed'];
  /** The kernel is Adam-preconditioned K_P (SnapshotHeader.kernel_preconditioned). */
  preconditioned: boolean;
  /** G5's forecast inputs (docs/generalization.md G5): the run's points so far and the policy's settings. */
  forecast?: { series: readonly GeneralizationPoint[]; settings: ForecastSettings; budgetEnd?: number };
  /** KESS settings of the run's policy (docs/science.md A12/A14); budgetStep from RunStart.budget.max_steps. */
  kess: PredictionInput['kess'];
}

export interface KernelSnapshotInput {
  /** The assembled kernel, row-major float64 (N×N for FULL, n×n for TRACE); absent for logits-only snapshots. */
  kernel?: Float64Array;
  size: number;
  samples: number;
  outputs: number;
  reduction: KernelReduction;
  source: KernelState['source'];
  /** docs/science.md A0 (sourceEpsilon). */
  epsSrc: number;
  exactMax: number;
  topK: number;
  logits?: Float64Array;
  /** n_eval×C logits on the evaluation probe (docs/generalization.md G4). */
  evalLogits?: Float64Array;
  /** Absent = spectra only (the CLI); present = the training-dynamics diagnostics too. */
  context?: AnalysisContext;
}

export interface KernelSnapshotResult {
  spectra: KernelSpectrum[];
  /** Absent without a context. */
  diagnostics?: SnapshotDiagnostics;
  /** Why the diagnostics failed, when they did: the snapshot and its spectrum still count. */
  analysisError?: string;
  /** false when the kernel or logits held NaN or Inf; spectra are then empty. */
  finite: boolean;
  history: AnalysisHistory;
}

const SOURCES: Readonly<Record<string, KernelState['source']>> = {
  TENSOR_KIND_JACOBIAN: 'jacobian',
  TENSOR_KIND_SKETCH: 'sketch',
  TENSOR_KIND_GRAM: 'gram',
};

/** TENSOR_KIND_SKETCH → 'sketch' (drift compares sketches only with sketches of the same seed, A6). */
export function kernelSourceOf(kind: string): KernelState['source'] {
  return SOURCES[kind] ?? 'jacobian';
}

function allFinite(a: Float64Array | undefined): boolean {
  if (!a) return true;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Alignment curve points beyond C (docs/science.md A7: a_k at k ∈ {1, C, 10, 100}). */
const ALIGNMENT_MAX_K = 100;

/**
 * Eigenvector columns the diagnostics read: every pair when the residual and generalisation blocks run (logits,
 * targets and a loss: A8–A12, G1–G3 use the whole spectrum), else the top max(topK, O_10 of drift, the alignment
 * curve's max(100, C) when targets came) — undefined = all. The exact solver then computes only those vectors.
 */
function vectorPairsNeeded(input: KernelSnapshotInput, context: AnalysisContext): number | undefined {
  if (input.logits && context.targets && context.setup.loss) return undefined;
  let k = Math.max(input.topK, OVERLAP_K);
  if (context.targets) k = Math.max(k, ALIGNMENT_MAX_K, input.outputs);
  return k;
}

/** The spectrum as analyzeSnapshot reads it: `computedPairs` counts the eigenvector columns it is given. */
function vectorView(k: AnalyzedKernel): AnalyzedKernel {
  const s = k.spectrum;
  if (s.vectors === undefined || s.vectorPairs === undefined || s.vectorPairs === s.computedPairs) return k;
  return { ...k, spectrum: { ...s, computedPairs: s.vectorPairs } };
}

/** Drift references keep the top OVERLAP_K eigenvector columns only (all the subspace overlap reads, A6). */
function trimDriftReferences(h: AnalysisHistory): AnalysisHistory {
  const trim = (st: KernelState | undefined): KernelState | undefined => {
    if (!st?.vectors || st.pairs <= OVERLAP_K) return st;
    const k = OVERLAP_K;
    const v = new Float64Array(st.size * k);
    for (let i = 0; i < st.size; i++) v.set(st.vectors.subarray(i * st.pairs, i * st.pairs + k), i * k);
    return { ...st, vectors: v, pairs: k };
  };
  const init = trim(h.init);
  // prev and init are the same object on a run's first snapshot: keep them one array.
  const prev = h.prev === h.init ? init : trim(h.prev);
  return { ...h, init, prev };
}

export function analyzeKernelSnapshot(input: KernelSnapshotInput, history: AnalysisHistory): KernelSnapshotResult {
  const { kernel, size, context } = input;
  const finite = allFinite(kernel) && allFinite(input.logits) && allFinite(input.evalLogits);
  let diagnostics: SnapshotDiagnostics | undefined = context && { snapshotId: context.snapshotId, step: context.step, trainLoss: context.trainLoss };
  const spectra: KernelSpectrum[] = [];
  if (!finite) return { spectra, diagnostics, finite, history };

  let head: AnalyzedKernel | undefined;
  let traced: AnalyzedKernel | undefined;
  const fullKernel = input.reduction === 'full';
  if (kernel) {
    const vectorPairs = context ? vectorPairsNeeded(input, context) : undefined;
    const common = { samples: input.samples, epsSrc: input.epsSrc, exactMax: input.exactMax, topK: input.topK, vectors: context !== undefined, vectorPairs };
    // The decay window starts at C + 1 to skip class outliers of the full kernel (docs/science.md A3).
    head = { kernel, size, spectrum: summarizeSpectrum(kernel, size, { ...common, outputs: fullKernel ? input.outputs : 1 }) };
    spectra.push({ kernel: fullKernel ? 'full' : 'traced', ...head.spectrum });
    traced = fullKernel ? (input.outputs === 1 ? head : undefined) : head;
    // docs/science.md A1: the traced kernel too when C > 1 and the full one is small enough.
    if (fullKernel && input.outputs > 1 && size <= input.exactMax) {
      const reduced = reduceToTraced(kernel, input.samples, input.outputs);
      traced = { kernel: reduced, size: input.samples, spectrum: summarizeSpectrum(reduced, input.samples, { ...common, outputs: 1 }) };
      spectra.push({ kernel: 'traced', ...traced.spectrum });
    }
  }
  let analysisError: string | undefined;
  let next = history;
  if (context) {
    // Diagnostics must never cost the snapshot: a failing analysis is reported, the spectrum still counts. Without
    // a kernel (logits only) only what needs none is computed (the evaluation probe, G4).
    try {
      const analyzed = analyzeSnapshot(
        { ...context, source: input.source, full: fullKernel ? head && vectorView(head) : undefined, traced: traced && vectorView(traced), logits: input.logits, evalLogits: input.evalLogits },
        history,
      );
      next = trimDriftReferences(analyzed.history);
      diagnostics = analyzed.diagnostics;
      analysisError = analyzed.warning;
    } catch (err) {
      analysisError = err instanceof Error ? err.message : String(err);
    }
  }
  return { spectra, diagnostics, analysisError, finite, history: next };
}
