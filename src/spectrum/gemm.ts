/**
 * Dense matrix product on flat row-major Float64Arrays with explicit offsets and leading dimensions, for
 * the eigensolver's blocked stages (divide-and-conquer merges, compact-WY back-transformation).
 *
 * C[m×n] = A[m×k]·B[k×n]           (mode 'set')
 * C[m×n] += A·B  /  C[m×n] −= A·B  (modes 'add' / 'sub')
 *
 * Layout: a 4×4 register tile of C is accumulated over a k-panel (16 independent accumulators, one load
 * of A and of B per 4 multiply-adds instead of one load per multiply-add); plain JS numbers in locals are
 * what V8 keeps in registers. The four A rows of a panel are packed interleaved into one small buffer
 * (measured ≈ 1.5× faster than four strided streams when k is small), and k is split into panels of 256
 * so that the packed rows and the B strip stay in cache while the tile sweeps along the row of C.
 *
 * Products big enough to amortize copying their panels into WebAssembly memory run the same 4×4 tiling as
 * f64x2 SIMD there (wasmGemm.ts; measured 3–6× this kernel from 64³ up, with the same summation order).
 */
import { wasmGemm, wasmGemmSupported, type GemmMode } from './wasmGemm.js';

export type { GemmMode };

const KC = 256;
/**
 * wasm pays when every dimension is ≥ 8 and m·n·k ≥ 32³: measured 1.3–1.8× at 32³ and ≈ 3× with m = 8 rows
 * against n = k = 1024, but slower at 16³ and no faster with m = 4 (packing and copies, O(m·k + k·n + m·n),
 * then outweigh the O(m·n·k) product).
 */
const WASM_MIN_DIM = 8;
const WASM_MIN_WORK = 32 ** 3;

export function gemm(
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
  if (m >= WASM_MIN_DIM && n >= WASM_MIN_DIM && k >= WASM_MIN_DIM && m * n * k >= WASM_MIN_WORK && wasmGemmSupported()) {
    wasmGemm(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, mode);
    return;
  }
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (mode === 'set') for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  const sign = mode === 'sub' ? -1 : 1;
  const pa = new Float64Array(4 * Math.min(KC, k));
  for (let p0 = 0; p0 < k; p0 += KC) {
    const p1 = Math.min(k, p0 + KC);
    // The first panel of a 'set' overwrites; later panels accumulate.
    const overwrite = mode === 'set' && p0 === 0;
    const m4 = m & ~3;
    const n4 = n & ~3;
    const kc = p1 - p0;
    for (let i = 0; i < m4; i += 4) {
      // Pack the four A rows of this panel interleaved (pa[4p + r]): one contiguous stream in the
      // inner loop instead of four strided ones. The sign of 'sub' is folded into the packed copy.
      const a0 = aOff + i * lda + p0;
      for (let p = 0; p < kc; p++) {
        const q = 4 * p;
        pa[q] = sign * a[a0 + p];
        pa[q + 1] = sign * a[a0 + lda + p];
        pa[q + 2] = sign * a[a0 + 2 * lda + p];
        pa[q + 3] = sign * a[a0 + 3 * lda + p];
      }
      for (let j = 0; j < n4; j += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let bp = bOff + p0 * ldb + j;
        for (let p = 0; p < kc; p++, bp += ldb) {
          const q = 4 * p;
          const b0 = b[bp];
          const b1 = b[bp + 1];
          const b2 = b[bp + 2];
          const b3 = b[bp + 3];
          const x0 = pa[q];
          const x1 = pa[q + 1];
          const x2 = pa[q + 2];
          const x3 = pa[q + 3];
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        let o = cOff + i * ldc + j;
        if (overwrite) {
          c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += ldc;
          c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += ldc;
          c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += ldc;
          c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
        } else {
          c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += ldc;
          c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += ldc;
          c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += ldc;
          c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
        }
      }
      // Right edge: columns n4..n−1 of these four rows.
      for (let j = n4; j < n; j++) {
        for (let r = 0; r < 4; r++) edge(i + r, j, p0, p1, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, overwrite, sign);
      }
    }
    // Bottom edge: rows m4..m−1 as 1×4 tiles (a dot per column would stride through B).
    for (let i = m4; i < m; i++) {
      const ar = aOff + i * lda;
      for (let j = 0; j < n4; j += 4) {
        let c0 = 0;
        let c1 = 0;
        let c2 = 0;
        let c3 = 0;
        let bp = bOff + p0 * ldb + j;
        for (let p = p0; p < p1; p++, bp += ldb) {
          const x = a[ar + p];
          c0 += x * b[bp];
          c1 += x * b[bp + 1];
          c2 += x * b[bp + 2];
          c3 += x * b[bp + 3];
        }
        const o = cOff + i * ldc + j;
        if (overwrite) {
          c[o] = c0;
          c[o + 1] = c1;
          c[o + 2] = c2;
          c[o + 3] = c3;
        } else {
          c[o] += sign * c0;
          c[o + 1] += sign * c1;
          c[o + 2] += sign * c2;
          c[o + 3] += sign * c3;
        }
      }
      for (let j = n4; j < n; j++) edge(i, j, p0, p1, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, overwrite, sign);
    }
  }
}

function edge(
  i: number,
  j: number,
  p0: number,
  p1: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  overwrite: boolean,
  sign: number,
): void {
  let s = 0;
  const ar = aOff + i * lda;
  for (let p = p0; p < p1; p++) s += a[ar + p] * b[bOff + p * ldb + j];
  const o = cOff + i * ldc + j;
  if (overwrite) c[o] = s;
  else c[o] += sign * s;
}
