/**
 * Compute worker: decodes chunk payloads, accumulates the kernel (float64) and solves its spectrum, off the
 * event loop so gRPC and /metrics stay responsive during an O(N³) solve (docs/design.md §2). It holds one snapshot
 * in progress per run; everything a run keeps across snapshots lives on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Code, SidecarError } from '../errors.js';
import { verifyChunkCrc32c } from '../ingest/crc32c.js';
import { decodeTensor } from '../ingest/decodeTensor.js';
import { createGramBackend, KernelAccumulator, symmetrizeGram, type GramBackend } from '../kernel/index.js';
import { kernelEpsilon } from '../kernel/sourceEpsilon.js';
import type { AnalysisContext, SnapshotAnalysis, SnapshotPlan, WorkerInit, WorkerRequest, WorkerResponse } from './protocol.js';
import type { AnalysisHistory } from '../analysis/analyzeSnapshot.js';
import { analyzeKernelSnapshot, kernelSourceOf } from '../analysis/analyzeKernelSnapshot.js';

interface Pending {
  plan: SnapshotPlan;
  accumulator?: KernelAccumulator;
  gram?: Float64Array;
  logits?: Float64Array;
  evalLogits?: Float64Array;
  accumulateSeconds: number;
}

const port = parentPort;
if (!port) throw new Error('computeWorker must run in a worker thread');
const init = workerData as WorkerInit;
const pending = new Map<string, Pending>();
/** Per-run analysis history: reference kernels K_0 and K_{t−1} with their eigenpairs (docs/science.md A6, A8, A11). */
const histories = new Map<string, AnalysisHistory>();
let backend: GramBackend;

function begin(run: string, plan: SnapshotPlan): void {
  const p: Pending = { plan, accumulateSeconds: 0 };
  const k = plan.kernel;
  if (k && (k.kind === 'TENSOR_KIND_JACOBIAN' || k.kind === 'TENSOR_KIND_SKETCH')) {
    p.accumulator = new KernelAccumulator(backend, plan.samples, plan.outputs, plan.reduction);
  } else if (k && k.kind === 'TENSOR_KIND_GRAM') {
    p.gram = new Float64Array(k.rows * k.cols);
  }
  if (plan.logits) p.logits = new Float64Array(plan.logits.rows * plan.logits.cols);
  if (plan.evalLogits) p.evalLogits = new Float64Array(plan.evalLogits.rows * plan.evalLogits.cols);
  pending.set(run, p);
}

async function chunk(run: string, req: Extract<WorkerRequest, { op: 'chunk' }>['chunk']): Promise<void> {
  const p = pending.get(run);
  if (!p) throw new SidecarError(Code.FAILED_PRECONDITION, `no snapshot in progress for run "${run}"`);
  // The event loop deferred the CRC-32C to here (issue 15): DATA_LOSS with the assembler's message, before any decoding.
  verifyChunkCrc32c(req.data, req.crc32c, req.where);
  const t0 = performance.now();
  const values = decodeTensor(aligned(req.data), req.dtype, req.rows * req.cols);
  switch (req.kind) {
    case 'TENSOR_KIND_JACOBIAN':
    case 'TENSOR_KIND_SKETCH':
      await p.accumulator!.addColumnBlock(values, req.cols);
      break;
    case 'TENSOR_KIND_GRAM':
      p.gram!.set(values, req.offset * req.cols);
      break;
    case 'TENSOR_KIND_LOGITS':
      p.logits!.set(values, req.offset * req.cols);
      break;
    case 'TENSOR_KIND_EVAL_LOGITS':
      p.evalLogits!.set(values, req.offset * req.cols);
      break;
    default:
      throw new SidecarError(Code.INVALID_ARGUMENT, `tensor kind ${req.kind} carries no data`);
  }
  p.accumulateSeconds += (performance.now() - t0) / 1000;
}

/**
 * A transferred chunk is a view into grpc-js' message buffer at an odd offset (after the gRPC prefix and the
 * TensorChunk's other fields), where float32/float64 cannot be viewed in place and decodeTensor would copy into a
 * fresh buffer per chunk. Copy into one reused, aligned scratch instead: the chunk is consumed (accumulated or set
 * into the snapshot's arrays) before the next request runs, so no fresh 4 MiB of garbage per chunk in this worker.
 */
let scratch = new Uint8Array(0);
function aligned(data: Uint8Array): Uint8Array {
  if (data.byteOffset % 8 === 0) return data;
  if (scratch.length < data.length) scratch = new Uint8Array(data.length);
  const view = scratch.subarray(0, data.length);
  view.set(data);
  return view;
}

function end(run: string, context: AnalysisContext): SnapshotAnalysis {
  const p = pending.get(run);
  if (!p) throw new SidecarError(Code.FAILED_PRECONDITION, `no snapshot in progress for run "${run}"`);
  pending.delete(run);
  const { plan } = p;
  let kernel: Float64Array | undefined;
  let size = 0;
  if (p.accumulator) {
    kernel = p.accumulator.finish();
    size = p.accumulator.size;
  } else if (p.gram) {
    size = plan.kernel!.rows;
    kernel = p.gram;
    symmetrizeGram(kernel, size);
  }
  const t0 = performance.now();
  const result = analyzeKernelSnapshot(
    {
      kernel,
      size,
      samples: plan.samples,
      outputs: plan.outputs,
      reduction: plan.reduction,
      source: kernelSourceOf(plan.kernel?.kind ?? ''),
      epsSrc: plan.kernel ? kernelEpsilon(plan.kernel.kind, plan.kernel.dtype, backend.name) : 0,
      exactMax: plan.exactMax,
      topK: plan.topK,
      logits: p.logits,
      evalLogits: p.evalLogits,
      context,
    },
    histories.get(run) ?? {},
  );
  histories.set(run, result.history);
  // Eigenvectors stay in the worker (the history holds them); only eigenvalues cross to the event loop.
  for (const s of result.spectra) delete s.vectors;
  return {
    spectra: result.spectra,
    diagnostics: result.diagnostics!,
    analysisError: result.analysisError,
    logits: p.logits,
    evalLogits: p.evalLogits,
    kernel: plan.record && kernel ? { data: kernel, size } : undefined,
    finite: result.finite,
    accumulateSeconds: p.accumulateSeconds,
    spectrumSeconds: (performance.now() - t0) / 1000,
  };
}

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  try {
    switch (req.op) {
      case 'begin':
        begin(req.run, req.plan);
        return { id: req.id, ok: true };
      case 'chunk':
        await chunk(req.run, req.chunk);
        return { id: req.id, ok: true };
      case 'end':
        return { id: req.id, ok: true, analysis: end(req.run, req.context) };
      case 'abort':
        pending.delete(req.run);
        return { id: req.id, ok: true };
      case 'drop':
        pending.delete(req.run);
        histories.delete(req.run);
        return { id: req.id, ok: true };
    }
  } catch (err) {
    const code = err instanceof SidecarError ? err.code : Code.INTERNAL;
    return { id: req.id, ok: false, code, message: err instanceof Error ? err.message : String(err) };
  }
}

// Requests of one run arrive in order and must be applied in order; the pool never sends a run's next
// request before the previous one answered, so a simple chain suffices.
let chain: Promise<void> = Promise.resolve();
try {
  backend = await createGramBackend(init.backend);
  port.on('message', (req: WorkerRequest) => {
    chain = chain.then(async () => {
      const res = await handle(req);
      // Copied, not transferred: the run's history in this worker keeps referencing eigenvalues and logits.
      port.postMessage(res);
    });
  });
  const ready: WorkerResponse = { id: -1, ready: true, backend: backend.name, fallbackReason: (backend as { fallbackReason?: string }).fallbackReason };
  port.postMessage(ready);
} catch (err) {
  const failed: WorkerResponse = { id: -1, ready: false, message: err instanceof Error ? err.message : String(err) };
  port.postMessage(failed);
}
