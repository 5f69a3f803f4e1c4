/**
 * Gram accumulation through hand-written WebAssembly SIMD kernels (src/kernel/wasm/gram.wat; docs/design.md §6,
 * docs/science.md A0): k += B Bᵀ, upper triangle, accumulated in float64 whatever the precision of the products.
 *
 * Two precisions:
 * - 'f64': f64x2 products and sums. Every product is the float64 product the reference forms; only the order
 *   of the float64 additions differs, so it agrees with the reference to float64 rounding.
 * - 'f32': the block is rounded to float32 (exact for float32 blocks), f32x4 products are summed in float32
 *   over one panel of at most F32_PANEL_COLS columns, and each panel's sums are added into the float64 K, so
 *   float32 rounding is bounded per panel and never compounds across panels or blocks (like gpu.js).
 *   Subnormal float32 products (|a·b| < 2⁻¹²⁶) are slow on x86 and WebAssembly cannot flush them to zero;
 *   the f64 kernel never meets them for float32 data (widened, the products stay far above 2⁻¹⁰²²).
 *
 * Per call: column panels of B are copied into wasm memory (one memcpy per row) and regrouped there into the
 * packed layout the kernels stream (O(size·cols)); the product over the upper-triangle tiles is O(size²·cols).
 * Products go into a float64 accumulator in wasm memory, a band of rows at a time (≤ maxAccBytes), which is
 * added into k once per band and call.
 *
 * One thread: the numeric core may not import node:worker_threads, the compute pool already runs several
 * workers (--compute-workers, default 2) for concurrent runs, and the sidecar shares the trainer's host, whose
 * CPU time a second Gram thread would take.
 */
import { Code, SidecarError } from '../errors.js';
import { checkAccumulateArgs, type GramBackend, type GramBlock } from './gramBackend.js';
import { GRAM_WASM_BASE64 } from './wasm/gramWasm.js';
import { WasmKernelModule, reserveWasmMemory, type WasmMemory } from '../wasmRuntime.js';

export type WasmPrecision = 'f64' | 'f32';

/** Columns per panel of the f64 kernel (float64 sums: the width only trades cache against overhead). */
const F64_PANEL_COLS = 256;
/**
 * Columns per panel of the f32 kernel, i.e. the length of each float32 sum: its rounding error is at most
 * (128 + 1)·2⁻²⁴ ≈ 7.7e-6 of Σ|a_c b_c| (≈ √128·2⁻²⁴ ≈ 7e-7 on random-sign data), within the ε_src = 1e-6 that
 * docs/science.md A0 gives float32 Grams on typical data; 64 to 512 columns measured within noise of each other.
 */
const F32_PANEL_COLS = 128;
/** Stage + pack of one panel at most this many bytes: panels narrow for N > 4096 (f64), bounding memory. */
const PANEL_BYTES = 16 * 1024 * 1024;
/** Column block of the tile sweep (rows of B kept in L2 while every row group passes over them). */
const TILE_COLS = 256;
/**
 * Largest float64 accumulator band: Grams with N > 1448 run their rows in bands. Every band re-stages its rows
 * and those after it (O(N·cols) per band against the O(N²·cols) product: < 1 % at N = 8192, 32 bands), while
 * wasm memory, which never shrinks, stays at ≤ 32 MiB per backend with the panels.
 */
const DEFAULT_ACC_BYTES = 16 * 1024 * 1024;

interface GramExports {
  memory: WasmMemory;
  pack_f64_f64(src: number, dst: number, r0: number, np: number, kc: number): void;
  pack_f32_f64(src: number, dst: number, r0: number, np: number, kc: number): void;
  pack_f32_f32(src: number, dst: number, r0: number, np: number, kc: number): void;
  pack_f64_f32(src: number, dst: number, r0: number, np: number, kc: number): void;
  gram_f64(pack: number, acc: number, np: number, kc: number, ib: number, ie: number, jb: number): void;
  gram_f32(pack: number, acc: number, np: number, kc: number, ib: number, ie: number, jb: number): void;
}

const GRAM_MODULE = new WasmKernelModule<GramExports>(GRAM_WASM_BASE64);

/** Whether this runtime has WebAssembly with 128-bit SIMD (the module validates). */
export function wasmSimdSupported(): boolean {
  return GRAM_MODULE.supported;
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

export interface WasmGramOptions {
  /** Default 'f64'. */
  precision?: WasmPrecision;
  /** Largest float64 accumulator band in bytes (default 16 MiB); Grams with more rows run in several bands. */
  maxAccBytes?: number;
  /** Set by createGramBackend('auto') when gpu.js failed before it chose this backend. */
  fallbackReason?: string;
}

export class WasmGramBackend implements GramBackend {
  readonly name: string;
  readonly precision: WasmPrecision;
  readonly fallbackReason?: string;
  private readonly maxAccBytes: number;
  private wasm: GramExports | null;

  constructor(opts: WasmGramOptions = {}) {
    const precision = opts.precision ?? 'f64';
    if (precision !== 'f64' && precision !== 'f32') {
      throw new SidecarError(Code.INVALID_ARGUMENT, `wasm Gram precision must be f64 or f32, got "${String(precision)}"`);
    }
    const maxAccBytes = opts.maxAccBytes ?? DEFAULT_ACC_BYTES;
    if (!Number.isInteger(maxAccBytes) || maxAccBytes < 1) {
      throw new SidecarError(Code.INVALID_ARGUMENT, `maxAccBytes must be a positive integer, got ${maxAccBytes}`);
    }
    if (!wasmSimdSupported()) {
      throw new SidecarError(Code.FAILED_PRECONDITION, 'this runtime has no WebAssembly SIMD (the Gram kernel module does not validate)');
    }
    this.precision = precision;
    this.maxAccBytes = maxAccBytes;
    if (opts.fallbackReason !== undefined) this.fallbackReason = opts.fallbackReason;
    this.name = `wasm-simd-${precision}`;
    this.wasm = GRAM_MODULE.instantiate();
  }

  async accumulate(k: Float64Array, size: number, block: GramBlock, cols: number): Promise<void> {
    checkAccumulateArgs(k, size, block, cols);
    const wasm = this.wasm;
    if (!wasm) throw new SidecarError(Code.FAILED_PRECONDITION, 'wasm Gram backend used after dispose()');
    if (cols === 0) return;
    const f64 = this.precision === 'f64';
    const np = roundUp(size, 8);
    const es = block.BYTES_PER_ELEMENT;
    const fit = Math.max(8, Math.floor(PANEL_BYTES / (np * (es + (f64 ? 8 : 4)))));
    const kc = Math.min(cols, f64 ? F64_PANEL_COLS : F32_PANEL_COLS, fit);
    const bandRows = Math.min(np, Math.max(8, Math.floor(this.maxAccBytes / (8 * np)) & ~7));
    const stageOff = roundUp(bandRows * np * 8, 16);
    const packOff = roundUp(stageOff + np * kc * es, 16);
    try {
      reserveWasmMemory(wasm.memory, packOff + np * kc * (f64 ? 8 : 4), `wasm Gram of size ${size}`);
    } catch (err) {
      throw new SidecarError(Code.RESOURCE_EXHAUSTED, (err as Error).message);
    }

    const buf = wasm.memory.buffer;
    const acc = new Float64Array(buf, 0, bandRows * np);
    // Same element type as the block: the row copies below are memcpys; the pack widens or rounds.
    const stage: GramBlock = es === 8 ? new Float64Array(buf, stageOff, np * kc) : new Float32Array(buf, stageOff, np * kc);
    const f32Block = block instanceof Float32Array;
    const pack = f64
      ? f32Block ? wasm.pack_f32_f64 : wasm.pack_f64_f64
      : f32Block ? wasm.pack_f32_f32 : wasm.pack_f64_f32;
    const gram = f64 ? wasm.gram_f64 : wasm.gram_f32;

    for (let ib = 0; ib < size; ib += bandRows) {
      const ie = Math.min(np, ib + bandRows);
      acc.fill(0, 0, (ie - ib) * np);
      for (let c0 = 0; c0 < cols; c0 += kc) {
        const w = Math.min(kc, cols - c0);
        // Rows above the band never meet it (tiles have j ≥ i): only rows ≥ ib are staged.
        for (let r = ib; r < size; r++) stage.set(block.subarray(r * cols + c0, r * cols + c0 + w), r * w);
        stage.fill(0, size * w, np * w);
        pack(stageOff + ib * w * es, packOff, ib, np, w);
        gram(packOff, 0, np, w, ib, ie, TILE_COLS);
      }
      const iEnd = Math.min(ie, size);
      for (let i = ib; i < iEnd; i++) {
        const a = (i - ib) * np;
        const row = i * size;
        for (let j = i; j < size; j++) k[row + j] += acc[a + j];
      }
    }
  }

  dispose(): void {
    this.wasm = null;
  }
}
