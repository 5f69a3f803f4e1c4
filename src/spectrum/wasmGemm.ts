/**
 * C = / += / −= A·B (float64) through the WebAssembly SIMD kernel of src/spectrum/wasm/gemm.wat, for the large
 * products of the eigensolver's blocked stages and Lanczos (gemm.ts dispatches here when the shape pays).
 *
 * Per k-panel of ≤ KC steps: the A panel (m × kc) and the B panel (kc × n) are copied into wasm memory (one
 * memcpy per row) and packed there (O((m + n)·kc)), then every 4×4 tile of C runs over the panel
 * (O(m·n·kc)). C lives in wasm memory for the whole call: copied in once (or zeroed for 'set') and out once.
 * Only the order of the float64 additions differs from the JS kernel (a product and then a sum per step).
 * One instance per thread, created on first use; its memory keeps its high-water mark.
 */
import { GEMM_WASM_BASE64 } from './wasm/gemmWasm.js';
import { WasmKernelModule, reserveWasmMemory, type WasmMemory } from '../wasmRuntime.js';
import type { GemmMode } from './gemm.js';

interface GemmExports {
  memory: WasmMemory;
  pack_a(src: number, dst: number, m4: number, kc: number, s: number): void;
  pack_b(src: number, dst: number, n4: number, kc: number): void;
  gemm_f64(apack: number, bpack: number, c: number, m4: number, n4: number, kc: number, jb: number): void;
}

/** Steps per panel: a packed 4-row group of A (4·256·8 B = 8 KiB) stays in L1 across a column block. */
const KC = 256;
/** Columns per block of the tile sweep: 128·256·8 B = 256 KiB of packed B, held in L2. */
const JB = 128;

const GEMM_MODULE = new WasmKernelModule<GemmExports>(GEMM_WASM_BASE64);
let instance: GemmExports | undefined;

/** Whether this runtime has WebAssembly SIMD (the gemm module validates). */
export function wasmGemmSupported(): boolean {
  return GEMM_MODULE.supported;
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}

/** Same contract as gemm() (src/spectrum/gemm.ts); throws when wasmGemmSupported() is false. */
export function wasmGemm(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  mode: GemmMode,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (mode === 'set') for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (!GEMM_MODULE.supported) throw new Error('wasmGemm: this runtime has no WebAssembly SIMD');
  instance ??= GEMM_MODULE.instantiate();
  const w = instance;
  const m4 = roundUp(m, 4);
  const n4 = roundUp(n, 4);
  const kc = Math.min(k, KC);
  // Layout in float64 elements: C (m4·n4) | A stage | A pack (m4·kc each) | B stage | B pack (kc·n4 each).
  const aStage = m4 * n4;
  const aPack = aStage + m4 * kc;
  const bStage = aPack + m4 * kc;
  const bPack = bStage + kc * n4;
  reserveWasmMemory(w.memory, 8 * (bPack + kc * n4), `gemm ${m}×${k}·${k}×${n}`);
  const mem = new Float64Array(w.memory.buffer);

  // C's padding rows and columns are never read back: they may hold anything.
  if (mode === 'set') mem.fill(0, 0, m4 * n4);
  else for (let i = 0; i < m; i++) mem.set(c.subarray(cOff + i * ldc, cOff + i * ldc + n), i * n4);
  const sign = mode === 'sub' ? -1 : 1;
  for (let p0 = 0; p0 < k; p0 += kc) {
    const w0 = Math.min(kc, k - p0);
    for (let i = 0; i < m; i++) {
      const src = aOff + i * lda + p0;
      mem.set(a.subarray(src, src + w0), aStage + i * w0);
    }
    mem.fill(0, aStage + m * w0, aStage + m4 * w0);
    w.pack_a(8 * aStage, 8 * aPack, m4, w0, sign);
    for (let p = 0; p < w0; p++) {
      const src = bOff + (p0 + p) * ldb;
      const dst = bStage + p * n4;
      mem.set(b.subarray(src, src + n), dst);
      if (n4 > n) mem.fill(0, dst + n, dst + n4);
    }
    w.pack_b(8 * bStage, 8 * bPack, n4, w0);
    w.gemm_f64(8 * aPack, 8 * bPack, 0, m4, n4, w0, JB);
  }
  for (let i = 0; i < m; i++) c.set(mem.subarray(i * n4, i * n4 + n), cOff + i * ldc);
}
