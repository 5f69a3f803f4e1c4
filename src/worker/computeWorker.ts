/**
 * Compute worker: decodes chunk payloads, accumulates the kernel (float64) and solves its spectrum, off the
 * event loop so gRPC and /metrics stay responsive during an O(N³) solve (docs/design.md §2). It holds one snapshot
 * in progress per run; everything a run keeps across snapshots lives on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Code, SidecarError } from '../errors.js';
import { decodeTensor } from '../ingest/decodeTensor.js';
import { createGramBackend, KernelAccumulator, reduceToTraced, symmetrizeGram, type GramBackend } from '../kernel/index.js';
import { summarizeSpectrum } from '../spectrum/summarizeSpectrum.js';
import type { DType__Output } from '../gen/ntksidecar/v1/DType.js';
import type { AnalysisContext, KernelSpectrum, SnapshotAnalysis, SnapshotPlan, WorkerInit, WorkerRequest, WorkerResponse } from './protocol.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';
import { analyzeSnapshot, type AnalysisHistory, type AnalyzedKernel } from '../analysis/analyzeSnapshot.js';

interface Pending {
  plan: SnapshotPlan;
  accumulator?: KernelAccumulator;
  gram?: Float64Array;
  logits?: Float64Array;
  accumulateSeconds: number;
}

const port = parentPort;
if (!port) throw new Error('computeWorker must run in a worker thread');
const init = workerData as WorkerInit;
const pending = new Map<string, Pending>();
/** Per-run analysis history: reference kernels K_0 and K_{t−1} with their eigenpairs (docs/science.md A6, A8, A11). */
const histories = new Map<string, AnalysisHistory>();
let backend: GramBackend;

/** docs/science.md A0: ε_src by the precision the numbers travelled in. */
function epsSrc(dtype: DType__Output): number {
  if (dtype === 'DTYPE_F64') return 0;
  if (dtype === 'DTYPE_F32') return 1e-6;
  return 1e-3;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function begin(run: string, plan: SnapshotPlan): void {
  const p: Pending = { plan, accumulateSeconds: 0 };
  const k = plan.kernel;
  if (k && (k.kind === 'TENSOR_KIND_JACOBIAN' || k.kind === 'TENSOR_KIND_SKETCH')) {
    p.accumulator = new KernelAccumulator(backend, plan.samples, plan.outputs, plan.reduction);
  } else if (k && k.kind === 'TENSOR_KIND_GRAM') {
    p.gram = new Float64Array(k.rows * k.cols);
  }
  if (plan.logits) p.logits = new Float64Array(plan.logits.rows * plan.logits.cols);
  pending.set(run, p);
}

async function chunk(run: string, req: Extract<WorkerRequest, { op: 'chunk' }>['chunk']): Promise<void> {
  const p = pending.get(run);
  if (!p) throw new SidecarError(Code.FAILED_PRECONDITION, `no snapshot in progress for run "${run}"`);
  const t0 = performance.now();
  const values = decodeTensor(req.data, req.dtype, req.rows * req.cols);
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
    default:
      throw new SidecarError(Code.INVALID_ARGUMENT, `tensor kind ${req.kind} carries no data`);
  }
  p.accumulateSeconds += (performance.now() - t0) / 1000;
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
  const finite = (!kernel || allFinite(kernel)) && (!p.logits || allFinite(p.logits));
  const spectra: KernelSpectrum[] = [];
  const t0 = performance.now();
  let diagnostics: SnapshotDiagnostics = { snapshotId: context.snapshotId, step: context.step, trainLoss: context.trainLoss };
  let analysisError: string | undefined;
  if (kernel && finite) {
    const eps = epsSrc(plan.kernel!.dtype);
    const common = { samples: plan.samples, epsSrc: eps, exactMax: plan.exactMax, topK: plan.topK, vectors: true };
    const fullKernel = plan.reduction === 'full';
    const head: AnalyzedKernel = { kernel, size, spectrum: summarizeSpectrum(kernel, size, { ...common, outputs: fullKernel ? plan.outputs : 1 }) };
    spectra.push({ kernel: fullKernel ? 'full' : 'traced', ...head.spectrum });
    let traced: AnalyzedKernel | undefined = fullKernel ? (plan.outputs === 1 ? head : undefined) : head;
    // docs/science.md A1: export the traced kernel too when C > 1 and the full one is small enough.
    if (fullKernel && plan.outputs > 1 && size <= plan.exactMax) {
      const reduced = reduceToTraced(kernel, plan.samples, plan.outputs);
      traced = { kernel: reduced, size: plan.samples, spectrum: summarizeSpectrum(reduced, plan.samples, { ...common, outputs: 1 }) };
      spectra.push({ kernel: 'traced', ...traced.spectrum });
    }
    const kind = plan.kernel!.kind;
    // Diagnostics must never cost the snapshot: a failing analysis is reported, the spectrum still counts.
    try {
      const analyzed = analyzeSnapshot(
        {
          setup: context.setup,
          snapshotId: context.snapshotId,
          step: context.step,
          trainLoss: context.trainLoss,
          learningRate: context.learningRate,
          source: kind === 'TENSOR_KIND_SKETCH' ? 'sketch' : kind === 'TENSOR_KIND_GRAM' ? 'gram' : 'jacobian',
          full: fullKernel ? head : undefined,
          traced,
          preconditioned: context.preconditioned,
          logits: p.logits,
          targets: context.targets,
          observed: context.observed,
          kess: context.kess,
        },
        histories.get(run) ?? {},
      );
      histories.set(run, analyzed.history);
      diagnostics = analyzed.diagnostics;
    } catch (err) {
      analysisError = err instanceof Error ? err.message : String(err);
    }
    // Eigenvectors stay in the worker (the history holds them); only eigenvalues cross to the event loop.
    for (const s of spectra) delete s.vectors;
  }
  return {
    spectra,
    diagnostics,
    analysisError,
    logits: p.logits,
    finite,
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
