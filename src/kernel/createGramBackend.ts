/**
 * Backend selection (docs/design.md §6): 'reference' (float64 TypeScript), 'gpujs' (gpu.js, float32 products
 * added into float64), 'wasm' (WebAssembly SIMD kernels, float64 by default), and 'auto' = gpujs when it
 * reaches a GPU backend and passes a self-check against the reference, else wasm when the runtime has
 * WebAssembly SIMD and it passes the same self-check, else the reference; `fallbackReason` says why the
 * first choice was not taken when gpu.js failed outright (nothing is logged here; the edge reports it).
 */
import { Code, SidecarError } from '../errors.js';
import { mulberry32, normalArray } from '../random.js';
import { BACKEND_KINDS, type BackendKind, type GramBackend, type GramBackendOptions } from './gramBackend.js';
import type { GpujsGramBackend } from './gpujsGram.js';
import { ReferenceGramBackend, accumulateGramReference } from './referenceGram.js';
import { WasmGramBackend } from './wasmGram.js';

/**
 * Self-check block: 160 rows is big enough that gpu.js takes its threaded path (≥ 4096 threads), so the
 * check covers what real blocks run; 24 columns keep it to a few milliseconds once compiled.
 */
const CHECK_SIZE = 160;
const CHECK_COLS = 24;
const CHECK_SEED = 0x5eed;
/**
 * Per-entry tolerance relative to √(K_ii K_jj): float32 products summed over 24 columns err by at most
 * ~24·2⁻²⁴ ≈ 1.4e-6 of that scale (Cauchy–Schwarz bounds Σ|a_c b_c| by it); 1e-5 leaves room for rounding
 * the float64 input to float32, and still catches any wrong index or dropped tile (errors of order 1).
 */
const CHECK_TOL = 1e-5;

/** Largest |Δ K_ij| / √(K_ii K_jj) over the upper triangle; exported for tests of other backends. */
export function maxScaledError(k: Float64Array, ref: Float64Array, size: number): number {
  let worst = 0;
  for (let i = 0; i < size; i++) {
    for (let j = i; j < size; j++) {
      const scale = Math.sqrt(ref[i * size + i] * ref[j * size + j]);
      const err = Math.abs(k[i * size + j] - ref[i * size + j]);
      const e = scale > 0 ? err / scale : err;
      if (!(e <= worst)) worst = e; // NaN-safe: a NaN error becomes the worst
    }
  }
  return worst;
}

/** Runs one block through the backend and the reference; returns the failure, or null when it agrees. */
async function selfCheck(backend: GramBackend): Promise<string | null> {
  const block = Float32Array.from(normalArray(mulberry32(CHECK_SEED), CHECK_SIZE * CHECK_COLS));
  const got = new Float64Array(CHECK_SIZE * CHECK_SIZE);
  const want = new Float64Array(CHECK_SIZE * CHECK_SIZE);
  await backend.accumulate(got, CHECK_SIZE, block, CHECK_COLS);
  accumulateGramReference(want, CHECK_SIZE, block, CHECK_COLS);
  const err = maxScaledError(got, want, CHECK_SIZE);
  return err <= CHECK_TOL
    ? null
    : `self-check on a ${CHECK_SIZE}×${CHECK_COLS} block: max |ΔK_ij|/√(K_ii K_jj) = ${err} > ${CHECK_TOL}`;
}

/** gpu.js (and its optional native GL/WebGPU bindings) is loaded only when its backend is tried. */
async function newGpujs(opts: GramBackendOptions): Promise<GpujsGramBackend> {
  const { GpujsGramBackend } = await import('./gpujsGram.js');
  return new GpujsGramBackend(opts);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A WebAssembly SIMD backend that passed the self-check; throws with the reason otherwise. */
async function checkedWasm(opts: GramBackendOptions, fallbackReason?: string): Promise<WasmGramBackend> {
  const backend = new WasmGramBackend({ precision: opts.wasmPrecision, fallbackReason });
  try {
    const failure = await selfCheck(backend);
    if (failure) throw new Error(failure);
  } catch (err) {
    backend.dispose();
    throw err;
  }
  return backend;
}

export async function createGramBackend(kind: BackendKind, opts: GramBackendOptions = {}): Promise<GramBackend> {
  switch (kind) {
    case 'reference':
      return new ReferenceGramBackend();
    case 'gpujs': {
      const backend = await newGpujs(opts);
      try {
        const failure = await selfCheck(backend);
        if (failure) throw new Error(failure);
      } catch (err) {
        backend.dispose();
        throw new SidecarError(Code.FAILED_PRECONDITION, `gpu.js Gram backend (${backend.name}) unusable: ${describe(err)}`);
      }
      return backend;
    }
    case 'wasm':
      try {
        return await checkedWasm(opts);
      } catch (err) {
        if (err instanceof SidecarError && err.code === Code.INVALID_ARGUMENT) throw err;
        throw new SidecarError(Code.FAILED_PRECONDITION, `WebAssembly SIMD Gram backend unusable: ${describe(err)}`);
      }
    case 'auto': {
      let backend: GpujsGramBackend | undefined;
      let gpuFailure: string | undefined;
      let onCpu: string;
      try {
        backend = await newGpujs(opts);
        const failure = await selfCheck(backend);
        if (failure) throw new Error(failure);
        // On the CPU, gpu.js (webasm: float32 loop indices converted at every access; cpu: transpiled float32
        // JavaScript) measured no faster than the float64 reference (bench/gram.bench.ts), and is less exact.
        // auto therefore keeps gpu.js only where it reached a GPU (webgpu, headless GL); --backend gpujs forces it.
        if (backend.name !== 'gpujs-cpu' && backend.name !== 'gpujs-webasm') return backend;
        onCpu = `gpu.js would run on the CPU (${backend.name}: ${backend.degradedReason ?? 'no GPU backend (WebGPU or GL) answered'})`;
        backend.dispose();
      } catch (err) {
        backend?.dispose();
        gpuFailure = `gpu.js (${backend?.name ?? 'not started'}) failed: ${describe(err)}`;
        onCpu = gpuFailure;
      }
      // On the CPU the WebAssembly SIMD kernels are the fast path (bench/gram.bench.ts): no fallback to report
      // when gpu.js merely found no GPU; a gpu.js that broke is reported.
      try {
        return await checkedWasm(opts, gpuFailure);
      } catch (err) {
        return new ReferenceGramBackend(`${onCpu}; WebAssembly SIMD kernels unusable: ${describe(err)}`);
      }
    }
    default: {
      const unknown: never = kind;
      throw new SidecarError(Code.INVALID_ARGUMENT, `unknown Gram backend "${String(unknown)}": expected one of ${BACKEND_KINDS.join(', ')}`);
    }
  }
}
