/** Messages between the event loop and a compute worker. Plain data: they cross a structured clone. */
import type { DType__Output } from '../gen/ntksidecar/v1/DType.js';
import type { TensorKind__Output } from '../gen/ntksidecar/v1/TensorKind.js';
import type { AcceptedChunk } from '../ingest/snapshotAssembler.js';
import type { BackendKind } from '../kernel/gramBackend.js';
import type { SpectrumSummary } from '../spectrum/summarizeSpectrum.js';
import type { RunSetup, SnapshotDiagnostics } from '../analysis/types.js';

export interface SnapshotPlan {
  samples: number;
  outputs: number;
  reduction: 'full' | 'trace';
  /** The one kernel-bearing tensor of the snapshot, if any, and the logits, if sent. */
  kernel?: { kind: TensorKind__Output; dtype: DType__Output; rows: number; cols: number };
  logits?: { dtype: DType__Output; rows: number; cols: number };
  exactMax: number;
  topK: number;
}

/** A validated chunk (ingest's AcceptedChunk); `data` is an owned copy whose buffer is transferred to the worker. */
export type ChunkWork = Omit<AcceptedChunk, 'layout'>;

export interface KernelSpectrum extends SpectrumSummary {
  kernel: 'full' | 'traced';
}

/** What the worker needs besides the tensors to analyse a snapshot (docs/science.md A5–A12). */
export interface AnalysisContext {
  setup: RunSetup;
  snapshotId: number;
  step: number;
  trainLoss: number;
  learningRate: number;
  /** n×C targets (one-hot for classification), when the run sent them. */
  targets?: Float64Array;
  /** Every observed loss of the run so far (snapshots and scalars), oldest first. */
  observed: Array<{ step: number; loss: number; spike?: boolean }>;
  /** The kernel is Adam-preconditioned K_P (SnapshotHeader.kernel_preconditioned). */
  preconditioned: boolean;
  /** KESS settings of the run's policy (docs/science.md A12/A14); budgetStep from RunStart.budget.max_steps. */
  kess: { rho: number; eps: number; price?: number; horizonFraction: number; budgetStep?: number };
}

export interface SnapshotAnalysis {
  spectra: KernelSpectrum[];
  diagnostics: SnapshotDiagnostics;
  /** Why the training-dynamics analysis failed, when it did; the snapshot and its spectrum still count. */
  analysisError?: string;
  /** n×C logits (row-major float64), when sent. */
  logits?: Float64Array;
  /** false when any tensor held NaN or Inf; spectra are then empty. */
  finite: boolean;
  accumulateSeconds: number;
  spectrumSeconds: number;
}

export type WorkerRequest =
  | { id: number; op: 'begin'; run: string; plan: SnapshotPlan }
  | { id: number; op: 'chunk'; run: string; chunk: ChunkWork }
  | { id: number; op: 'end'; run: string; context: AnalysisContext }
  | { id: number; op: 'abort'; run: string }
  | { id: number; op: 'drop'; run: string };

export type WorkerResponse =
  | { id: number; ok: true; analysis?: SnapshotAnalysis }
  | { id: number; ok: false; code: number; message: string }
  | { id: -1; ready: true; backend: string; fallbackReason?: string }
  | { id: -1; ready: false; message: string };

export interface WorkerInit {
  backend: BackendKind;
}
