/**
 * The contract every Gram accumulation backend implements (docs/design.md §6, docs/science.md A0): K += B Bᵀ for one
 * column block B of the Jacobian (or sketch), accumulated in float64 whatever the block's dtype.
 */
import { Code, snapshotError } from '../errors.js';

/** The Gram backends a user can choose (--backend); the one closed set the config, CLI and factory derive from. */
export const BACKEND_KINDS = ['auto', 'gpujs', 'wasm', 'reference'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** A block of B: size×cols, row-major. */
export type GramBlock = Float32Array | Float64Array;

export interface GramBackend {
  /** What actually runs: 'reference', 'wasm-simd-f64' / 'wasm-simd-f32', or 'gpujs-' + the gpu.js backend mode
   *  ('gpujs-webasm', 'gpujs-webgpu', …). */
  readonly name: string;
  /** Set by createGramBackend('auto') when it fell back: on the reference, why neither gpu.js nor the
   *  WebAssembly SIMD kernels were used; on the WebAssembly backend, why gpu.js failed. */
  readonly fallbackReason?: string;
  /**
   * k (size×size, row-major float64) += B Bᵀ, where B is size×cols row-major. Only the upper triangle
   * (i ≤ j) is written; the lower triangle of k is left as it was. Call finalizeGram(k, size) once after the
   * last block.
   */
  accumulate(k: Float64Array, size: number, block: GramBlock, cols: number): Promise<void>;
  /** Releases compiled kernels and worker threads. The backend must not be used afterwards. */
  dispose(): void;
}

export interface GramBackendOptions {
  /** gpujs: at most this many columns per kernel call. Products are summed in float32 over one call's
   *  columns, then added into the float64 K, so this bounds the float32 rounding (default 1024). */
  maxBlockCols?: number;
  /** gpujs: float32 outputs per kernel call (default 2^22, 16 MiB); a Gram with more upper-triangle tiles runs
   *  them in several calls, which bounds wasm memory for large N. */
  maxOutputValues?: number;
  /** gpujs: cap on gpu.js' webasm worker pool (default: gpu.js' own, the core count). */
  poolSize?: number;
  /** gpujs: gpu.js mode (default 'async': its own choice of webgpu / headless GL / webasm threads / cpu). */
  gpuMode?: 'async' | 'webasm' | 'cpu';
  /** wasm (and auto when it picks wasm): 'f64' (default) sums float64 products like the reference; 'f32' sums
   *  float32 products over panels of ≤ 256 columns into the float64 K (faster, float32-Gram accuracy). */
  wasmPrecision?: 'f64' | 'f32';
}

/** Validates the arguments of accumulate() and throws INVALID_ARGUMENT with the numbers when they disagree. */
export function checkAccumulateArgs(k: Float64Array, size: number, block: GramBlock, cols: number): void {
  if (!Number.isInteger(size) || size < 1) {
    throw snapshotError(Code.INVALID_ARGUMENT, `Gram size must be a positive integer, got ${size}`);
  }
  if (!Number.isInteger(cols) || cols < 0) {
    throw snapshotError(Code.INVALID_ARGUMENT, `Gram block columns must be a non-negative integer, got ${cols}`);
  }
  if (k.length !== size * size) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `kernel buffer holds ${k.length} values, expected size² = ${size}² = ${size * size}`,
    );
  }
  if (block.length !== size * cols) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `block holds ${block.length} values, expected size×cols = ${size}×${cols} = ${size * cols}`,
    );
  }
}
