/** Messages between the event loop and a compute worker. Plain data: they cross a structured clone. */
import type { DType__Output } from '../gen/ntksidecar/v1/DType.js';
import type { TensorKind__Output } from '../gen/ntksidecar/v1/TensorKind.js';
import type { AcceptedChunk } from '../ingest/snapshotAssembler.js';
import type { BackendKind } from '../kernel/gramBackend.js';
import type { KernelReduction } from '../kernel/kernelAccumulator.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';
import type { AnalysisContext, KernelSpectrum } from '../analysis/analyzeKernelSnapshot.js';

export interface SnapshotPlan {
  samples: number;
  outputs: number;
  reduction: KernelReduction;
  /** The one kernel-bearing tensor of the snapshot, if any, and the logits, if sent. */
  kernel?: { kind: TensorKind__Output; dtype: DType__Output; rows: number; cols: number };
  logits?: { dtype: DType__Output; rows: number; cols: number };
  evalLogits?: { dtype: DType__Output; rows: number; cols: number };
  exactMax: number;
  topK: number;
  /** Return the assembled kernel with the analysis (the run is recorded). */
  record?: boolean;
}

/**
 * A validated chunk (ingest's AcceptedChunk); `data`'s buffer is transferred to the worker (grpc-js' own message
 * buffer when the chunk owns it, else a copy). `crc32c` ≠ 0: the worker verifies it before decoding.
 */
export type ChunkWork = Omit<AcceptedChunk, 'layout'>;

export type { AnalysisContext, KernelSpectrum } from '../analysis/analyzeKernelSnapshot.js';

export interface SnapshotAnalysis {
  spectra: KernelSpectrum[];
  diagnostics: SnapshotDiagnostics;
  /** Why the training-dynamics analysis failed, when it did; the snapshot and its spectrum still count. */
  analysisError?: string;
  /** n×C logits (row-major float64), when sent. */
  logits?: Float64Array;
  /** n_eval×C logits on the evaluation probe, when sent. */
  evalLogits?: Float64Array;
  /** The assembled kernel, returned only when the plan asks for it (recording, docs/design.md §4). */
  kernel?: { data: Float64Array; size: number };
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
