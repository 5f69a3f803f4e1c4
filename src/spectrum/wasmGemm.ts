/**
 * C = / += / −= A·B (float64) through the WebAssembly SIMD kernel of src/spectrum/wasm/gemm.wat, for the large
 * products of the eigensolver's blocked stages and Lanczos (gemm.ts dispatches here when the shape pays).
 *
 * C is processed in blocks of rows (≤ C_BLOCK_BYTES), each copied into wasm memory once (or zeroed for 'set')
 * and out once. Per block and k-panel of ≤ KC steps, the A panel (rows × kc) and the B panel (kc × n) are
 * copied in (one memcpy per row) and packed there, O((rows + n)·kc), then every 4×4 tile of the block runs over
 * the panel, O(rows·n·kc). Per step the float64 additions happen in the JS kernel's order (panel sums of the
 * same products, added into C panel by panel). One instance per thread, created on first use; its memory
 * keeps its high-water mark, which the block and panel limits bound (≤ 25 MiB).
 */
import { GEMM_WASM_BASE64 } from './wasm/gemmWasm.js';
import { WasmKernelModule, reserveWasmMemory, type WasmMemory } from '../wasmRuntime.js';

/** How the product A·B enters C (set, add, sub); declared in this leaf module and re-exported by gemm.ts (no import cycle). */
export type GemmMode = 'set' | 'add' | 'sub';

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
/** Rows of C per block at most this many bytes (512 rows at n = 2048); more rows repack B, O(k·n) per block. */
const C_BLOCK_BYTES = 8 * 1024 * 1024;
/** B panel stage + pack at most this many bytes: panels narrow below KC steps for n > 4096. */
const B_PANEL_BYTES = 16 * 1024 * 1024;

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
  const n4 = roundUp(n, 4);
  const kc = Math.min(k, KC, Math.max(16, Math.floor(B_PANEL_BYTES / (16 * n4))));
  const mb = Math.min(roundUp(m, 4), Math.max(4, Math.floor(C_BLOCK_BYTES / (8 * n4)) & ~3));
  // Layout in float64 elements: C block (mb·n4) | A stage | A pack (mb·kc each) | B stage | B pack (kc·n4 each).
  const aStage = mb * n4;
  const aPack = aStage + mb * kc;
  const bStage = aPack + mb * kc;
  const bPack = bStage + kc * n4;
  reserveWasmMemory(w.memory, 8 * (bPack + kc * n4), `gemm ${m}×${k}·${k}×${n}`);
  const mem = new Float64Array(w.memory.buffer);
  const sign = mode === 'sub' ? -1 : 1;

  for (let i0 = 0; i0 < m; i0 += mb) {
    const rows = Math.min(mb, m - i0);
    const r4 = roundUp(rows, 4);
    const cRow = cOff + i0 * ldc;
    // The block's padding rows and columns are never read back: they may hold anything.
    if (mode === 'set') mem.fill(0, 0, r4 * n4);
    else for (let i = 0; i < rows; i++) mem.set(c.subarray(cRow + i * ldc, cRow + i * ldc + n), i * n4);
    for (let p0 = 0; p0 < k; p0 += kc) {
      const w0 = Math.min(kc, k - p0);
      for (let i = 0; i < rows; i++) {
        const src = aOff + (i0 + i) * lda + p0;
        mem.set(a.subarray(src, src + w0), aStage + i * w0);
      }
      mem.fill(0, aStage + rows * w0, aStage + r4 * w0);
      w.pack_a(8 * aStage, 8 * aPack, r4, w0, sign);
      for (let p = 0; p < w0; p++) {
        const src = bOff + (p0 + p) * ldb;
        const dst = bStage + p * n4;
        mem.set(b.subarray(src, src + n), dst);
        if (n4 > n) mem.fill(0, dst + n, dst + n4);
      }
      w.pack_b(8 * bStage, 8 * bPack, n4, w0);
      w.gemm_f64(8 * aPack, 8 * bPack, 0, r4, n4, w0, JB);
    }
    for (let i = 0; i < rows; i++) c.set(mem.subarray(i * n4, i * n4 + n), cRow + i * ldc);
  }
}
