/**
 * The panel mat-vec of the blocked tridiagonalisation (eigh.ts) through the WebAssembly SIMD kernel of
 * src/spectrum/wasm/symv.wat: p = A u for the leading i×i block of a symmetric matrix whose lower triangle is
 * stored row-major in a Float64Array (stride n).
 *
 * begin(rows) copies rows 0..rows−1 of the lower triangle into wasm memory packed by rows (row j at j(j+1)/2, so
 * every leading block is a prefix): O(rows²/2) once per panel, against one O(i²) product per reflector of the
 * panel. apply() copies u in and p out (O(i) each). One instance per thread, created on first use, needing
 * 4·n² + 16·n bytes (4 MiB at n = 1024, 16 MiB at 2048); WebAssembly memory never shrinks, so release() drops an
 * instance above KEEP_BYTES after each reduction (the garbage collector frees it; the next one re-instantiates
 * the compiled module) instead of holding the high-water mark in an idle worker.
 */
import { SYMV_WASM_BASE64 } from './wasm/symvWasm.js';
import { WasmKernelModule, reserveWasmMemory, type WasmMemory } from '../wasmRuntime.js';

interface SymvExports {
  memory: WasmMemory;
  symv_packed(a: number, n: number, u: number, p: number): void;
}

const SYMV_MODULE = new WasmKernelModule<SymvExports>(SYMV_WASM_BASE64);
/** An instance whose memory is at most this large is kept for the next reduction. */
const KEEP_BYTES = 4 * 1024 * 1024;
let instance: SymvExports | undefined;

/** Whether this runtime has WebAssembly SIMD (the symv module validates). */
export function wasmSymvSupported(): boolean {
  return SYMV_MODULE.supported;
}

/** Symmetric mat-vec on a snapshot of the leading block of `w` (n×n, lower triangle, row-major). */
export class WasmSymv {
  private readonly exp: SymvExports;
  private mem: Float64Array;
  /** Element offsets: u (n) | p (n) | packed triangle. */
  private readonly uOff = 0;
  private readonly pOff: number;
  private readonly aOff: number;

  constructor(
    private readonly w: Float64Array,
    private readonly n: number,
  ) {
    if (!SYMV_MODULE.supported) throw new Error('WasmSymv: this runtime has no WebAssembly SIMD');
    instance ??= SYMV_MODULE.instantiate();
    this.exp = instance;
    this.pOff = n;
    this.aOff = 2 * n;
    reserveWasmMemory(this.exp.memory, 8 * (2 * n + (n * (n + 1)) / 2), `symv n = ${n}`);
    this.mem = new Float64Array(this.exp.memory.buffer);
  }

  begin(rows: number): void {
    const { w, n } = this;
    this.mem = new Float64Array(this.exp.memory.buffer);
    const mem = this.mem;
    let o = this.aOff;
    for (let j = 0; j < rows; j++) {
      mem.set(w.subarray(j * n, j * n + j + 1), o);
      o += j + 1;
    }
  }

  /** Called when the reduction is done: lets a large instance go (see the header). */
  release(): void {
    if (instance === this.exp && this.exp.memory.buffer.byteLength > KEEP_BYTES) instance = undefined;
    this.mem = new Float64Array(0);
  }

  apply(i: number, ri: number, p: Float64Array): void {
    const mem = this.mem;
    mem.set(this.w.subarray(ri, ri + i), this.uOff);
    this.exp.symv_packed(8 * this.aOff, i, 8 * this.uOff, 8 * this.pOff);
    p.set(mem.subarray(this.pOff, this.pOff + i));
  }
}

/** p[0..n) = A u for a packed lower triangle (tests hold it against a scalar product). */
export function wasmSymvPacked(packed: Float64Array, n: number, u: Float64Array): Float64Array {
  instance ??= SYMV_MODULE.instantiate();
  const need = 8 * (2 * n + packed.length);
  reserveWasmMemory(instance.memory, need, `symv n = ${n}`);
  const mem = new Float64Array(instance.memory.buffer);
  mem.set(u.subarray(0, n), 0);
  mem.set(packed, 2 * n);
  instance.symv_packed(16 * n, n, 0, 8 * n);
  return mem.slice(n, 2 * n);
}
