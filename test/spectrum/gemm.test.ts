import { describe, expect, it } from 'vitest';
import { gemm } from '../../src/spectrum/gemm.js';
import { mulberry32, normalArray } from '../../src/random.js';

describe('gemm (register-tiled C = / += / −= A·B with offsets and leading dimensions)', () => {
  // Shapes cover full 4×4 tiles, the right and bottom edges, k spanning several 256-wide panels, k = 0.
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 4, 4],
    [5, 9, 300],
    [13, 6, 2],
    [8, 8, 513],
    [2, 17, 260],
    [4, 3, 0],
  ];
  for (const [m, n, k] of shapes) {
    it(`${m}×${k} · ${k}×${n} in all three modes matches the naive triple loop`, () => {
      for (const mode of ['set', 'add', 'sub'] as const) {
        const lda = k + 2;
        const ldb = n + 3;
        const ldc = n + 1;
        const a = normalArray(mulberry32(1), m * lda + 5);
        const b = normalArray(mulberry32(2), k * ldb + 5);
        const c = normalArray(mulberry32(3), m * ldc + 5);
        const ref = new Float64Array(c);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++) s += a[1 + i * lda + p] * b[2 + p * ldb + j];
            const o = 3 + i * ldc + j;
            ref[o] = mode === 'set' ? s : mode === 'add' ? ref[o] + s : ref[o] - s;
          }
        }
        gemm(m, n, k, a, 1, lda, b, 2, ldb, c, 3, ldc, mode);
        // Different summation order only: |error| ≤ k·ε·Σ|a||b| ≈ 1e-12 for these sizes. Entries outside
        // the C window (offset, padding) are compared too: ref holds their untouched originals.
        for (let i = 0; i < c.length; i++) expect(Math.abs(c[i] - ref[i])).toBeLessThan(1e-11);
      }
    });
  }
});
