/**
 * The WebAssembly SIMD gemm against the textbook triple loop, and gemm()'s dispatch to it. Both sum the same
 * float64 products in a different order: |error| ≤ k·2⁻⁵³·Σ_p |a_ip b_pj| (recursive summation bound), and
 * with standard normal entries Σ_p |a b| ≈ 0.64·k, so for k ≤ 600 the bound is ≤ 600·1.1e-16·0.64·600 ≈ 2.6e-11;
 * TOL = 1e-10 covers it (random-walk errors are far smaller), while a wrong index or tile errs by O(1).
 */
import { describe, expect, it } from 'vitest';
import { gemm } from '../../src/spectrum/gemm.js';
import { wasmGemm, wasmGemmSupported } from '../../src/spectrum/wasmGemm.js';
import { mulberry32, normalArray } from '../../src/random.js';

const TOL = 1e-10;

/** C (with offsets and leading dimensions, padding included) after the naive C op= A·B. */
function naive(m: number, n: number, k: number, a: Float64Array, aOff: number, lda: number, b: Float64Array, bOff: number, ldb: number,
  c: Float64Array, cOff: number, ldc: number, mode: 'set' | 'add' | 'sub'): Float64Array {
  const out = new Float64Array(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + p * ldb + j];
      const o = cOff + i * ldc + j;
      out[o] = mode === 'set' ? s : mode === 'add' ? out[o] + s : out[o] - s;
    }
  }
  return out;
}

function maxDiff(x: Float64Array, y: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

describe('wasmGemm (WebAssembly SIMD C = / += / −= A·B)', () => {
  it('runs on this runtime', () => {
    expect(wasmGemmSupported()).toBe(true);
  });

  // m, n not multiples of 4 (padded rows and columns), k across panels of 256 with a short last one, k = 1.
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 4, 1],
    [13, 6, 2],
    [9, 33, 257],
    [40, 17, 600],
    [70, 70, 70],
    [6, 130, 300],
  ];
  for (const [m, n, k] of shapes) {
    it(`${m}×${k} · ${k}×${n} in all three modes, with offsets and leading dimensions`, () => {
      for (const mode of ['set', 'add', 'sub'] as const) {
        const [lda, ldb, ldc] = [k + 2, n + 3, n + 1];
        const a = normalArray(mulberry32(m), m * lda + 5);
        const b = normalArray(mulberry32(n + 100), k * ldb + 5);
        const c = normalArray(mulberry32(k + 200), m * ldc + 5);
        const want = naive(m, n, k, a, 1, lda, b, 2, ldb, c, 3, ldc, mode);
        wasmGemm(m, n, k, a, 1, lda, b, 2, ldb, c, 3, ldc, mode);
        // Entries outside the C window (offset, padding) compare too: `want` holds their originals.
        expect(maxDiff(c, want), `${mode}`).toBeLessThan(TOL);
      }
    });
  }

  it('k = 0 zeroes C for set and leaves it for add and sub; empty m or n touch nothing', () => {
    const c = new Float64Array(12).fill(3);
    wasmGemm(2, 3, 0, new Float64Array(0), 0, 0, new Float64Array(0), 0, 3, c, 1, 4, 'add');
    expect([...c]).toEqual(new Array(12).fill(3));
    wasmGemm(2, 3, 0, new Float64Array(0), 0, 0, new Float64Array(0), 0, 3, c, 1, 4, 'set');
    expect([...c]).toEqual([3, 0, 0, 0, 3, 0, 0, 0, 3, 3, 3, 3]);
    wasmGemm(0, 3, 5, new Float64Array(0), 0, 5, new Float64Array(15), 0, 3, c, 0, 3, 'set');
    expect(c[0]).toBe(3);
  });

  it('consecutive calls of different sizes reuse one instance (its memory grows, then is reused)', () => {
    for (const [m, n, k] of [[200, 300, 260], [12, 9, 10], [64, 64, 64]]) {
      const a = normalArray(mulberry32(7), m * k);
      const b = normalArray(mulberry32(8), k * n);
      const c = new Float64Array(m * n);
      wasmGemm(m, n, k, a, 0, k, b, 0, n, c, 0, n, 'set');
      expect(maxDiff(c, naive(m, n, k, a, 0, k, b, 0, n, new Float64Array(m * n), 0, n, 'set'))).toBeLessThan(TOL);
    }
  });

  it('runs tall C in row blocks and wide B in narrower panels (bounded wasm memory)', () => {
    // 1100×1024 C is over 8 MiB: blocks of 1024 rows, B repacked per block. n = 5000 narrows panels to 209 steps.
    for (const [m, n, k] of [[1100, 1024, 10], [9, 5000, 300]]) {
      const a = normalArray(mulberry32(m), m * k);
      const b = normalArray(mulberry32(n), k * n);
      const c = normalArray(mulberry32(k), m * n);
      const want = naive(m, n, k, a, 0, k, b, 0, n, c, 0, n, 'add');
      wasmGemm(m, n, k, a, 0, k, b, 0, n, c, 0, n, 'add');
      expect(maxDiff(c, want), `${m}×${n}×${k}`).toBeLessThan(TOL);
    }
  });

  it('gemm() gives the same product on shapes it sends to wasm (≥ 8 each, ≥ 32³) and on those it keeps', () => {
    for (const [m, n, k] of [[8, 64, 64], [33, 35, 37], [100, 8, 300], [7, 200, 200], [16, 16, 16]]) {
      const a = normalArray(mulberry32(m * 3), m * k);
      const b = normalArray(mulberry32(n * 5), k * n);
      const c = normalArray(mulberry32(k * 7), m * n);
      const want = naive(m, n, k, a, 0, k, b, 0, n, c, 0, n, 'sub');
      gemm(m, n, k, a, 0, k, b, 0, n, c, 0, n, 'sub');
      expect(maxDiff(c, want), `${m}×${n}×${k}`).toBeLessThan(TOL);
    }
  });
});
