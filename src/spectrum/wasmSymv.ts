/**
 * The panel mat-vec of the blocked tridiagonalisation (eigh.ts) through the WebAssembly SIMD kernel of
 * src/spectrum/wasm/symv.wat: p = A u for the leading i×i block of a symmetric matrix whose lower triangle is
 * stored row-major (stride n).
 *
 * The eigensolver's working matrix itself lives in the instance's memory (WasmSymmetricMatrix.w is a Float64Array
 * view of it), so the product reads it in place: no copy per panel and no second n×n buffer. Each solve gets its own
 * instance of the compiled module (instantiation is cheap next to an O(n³) solve) whose memory, 8·n² + 8·n bytes,
 * the garbage collector frees with the view, exactly like the Float64Array it replaces; WebAssembly memory never
 * shrinks, so a shared instance would hold its high-water mark in an idle worker.
 */
import { SYMV_WASM_BASE64 } from './wasm/symvWasm.js';
import { WasmKernelModule, reserveWasmMemory, type WasmMemory } from '../wasmRuntime.js';

interface SymvExports {
  memory: WasmMemory;
  symv_lower(a: number, lda: number, n: number, u: number, p: number): void;
}

const SYMV_MODULE = new WasmKernelModule<SymvExports>(SYMV_WASM_BASE64);

/** Whether this runtime has WebAssembly SIMD (the symv module validates). */
export function wasmSymvSupported(): boolean {
  return SYMV_MODULE.supported;
}

/** An n×n Float64Array in WebAssembly memory with a SIMD symmetric mat-vec over its lower triangle. */
export class WasmSymmetricMatrix {
  /** The matrix (row-major, n×n); valid as long as this object is (the memory never grows after construction). */
  readonly w: Float64Array;
  private readonly exp: SymvExports;
  private readonly p: Float64Array;
  private readonly pByte = 0;
  private readonly wByte: number;

  /** undefined when the runtime has no WebAssembly SIMD or cannot grow the memory. */
  static create(n: number): WasmSymmetricMatrix | undefined {
    if (!SYMV_MODULE.supported) return undefined;
    try {
      return new WasmSymmetricMatrix(n);
    } catch (err) {
      if (err instanceof RangeError) return undefined;
      throw err;
    }
  }

  private constructor(readonly n: number) {
    this.exp = SYMV_MODULE.instantiate();
    // p (n doubles, rounded to 16 bytes) | w (n·n doubles)
    this.wByte = 8 * (n + (n & 1));
    reserveWasmMemory(this.exp.memory, this.wByte + 8 * n * n, `symv n = ${n}`);
    this.p = new Float64Array(this.exp.memory.buffer, this.pByte, n);
    this.w = new Float64Array(this.exp.memory.buffer, this.wByte, n * n);
  }

  /** p[0..i−1] = (leading i×i block of w)·u with u = entries 0..i−1 of w's row i. */
  apply(i: number, p: Float64Array): void {
    const rowBytes = 8 * this.n;
    this.exp.symv_lower(this.wByte, rowBytes, i, this.wByte + i * rowBytes, this.pByte);
    p.set(this.p.subarray(0, i));
  }
}
