import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import { ReferenceGramBackend, accumulateGramReference, finalizeGram } from '../../src/kernel/index.js';
import { columnSlice, f32Block, f64Block, isSymmetric, maxScaledDiff, naiveGram } from './gramFixtures.js';

describe('reference Gram backend (float64 oracle)', () => {
  it('equals the naive triple loop exactly when all columns fit one panel', async () => {
    // ≤ 512 columns for these sizes: one panel, each dot product summed in the same column order as the naive
    // loop and added once to a zero K, so every upper-triangle entry is bit-identical.
    const backend = new ReferenceGramBackend();
    for (const [size, cols] of [[1, 1], [3, 7], [4, 4], [5, 3], [17, 1], [17, 64], [34, 200]]) {
      const block = f64Block(size * 1000 + cols, size, cols);
      const k = new Float64Array(size * size);
      await backend.accumulate(k, size, block, cols);
      const want = naiveGram(block, size, cols);
      for (let i = 0; i < size; i++) {
        for (let j = i; j < size; j++) expect(k[i * size + j], `size ${size} cols ${cols} (${i},${j})`).toBe(want[i * size + j]);
      }
    }
  });

  it('leaves the lower triangle untouched and finalizeGram mirrors the upper one', async () => {
    const size = 9;
    const block = f64Block(7, size, 20);
    const k = new Float64Array(size * size);
    await new ReferenceGramBackend().accumulate(k, size, block, 20);
    for (let i = 1; i < size; i++) for (let j = 0; j < i; j++) expect(k[i * size + j]).toBe(0);
    finalizeGram(k, size);
    expect(isSymmetric(k, size)).toBe(true);
    const want = naiveGram(block, size, 20);
    for (let i = 0; i < size * size; i++) expect(k[i]).toBe(want[i]);
  });

  it('agrees with the naive loop to float64 rounding across many panels (large cols, float32 input)', () => {
    // 3000 columns split into panels (partial sums added into K per panel): only the summation order differs,
    // so errors are a few ulps of Σ|a_c b_c| ≤ √(K_ii K_jj); 1e-13 is ~500 ulps of headroom.
    const size = 13;
    const cols = 3000;
    const block = f32Block(42, size, cols);
    const k = new Float64Array(size * size);
    accumulateGramReference(k, size, block, cols);
    expect(maxScaledDiff(k, naiveGram(block, size, cols), size)).toBeLessThan(1e-13);
  });

  it('several column blocks accumulate to the one-block result', async () => {
    // Same float64 products, grouped differently: agreement to float64 rounding (1e-13 of the entry scale).
    const size = 21;
    const cols = 300;
    const block = f64Block(3, size, cols);
    const backend = new ReferenceGramBackend();
    const whole = new Float64Array(size * size);
    await backend.accumulate(whole, size, block, cols);
    const parts = new Float64Array(size * size);
    for (const [c0, w] of [[0, 1], [1, 100], [101, 57], [158, 142]]) {
      await backend.accumulate(parts, size, columnSlice(block, size, cols, c0, w), w);
    }
    expect(maxScaledDiff(parts, whole, size)).toBeLessThan(1e-13);
  });

  it('treats a float32 block exactly like its float64 widening', async () => {
    // float32 → float64 widening is exact, so both inputs must give bit-identical kernels.
    const size = 11;
    const f32 = f32Block(5, size, 40);
    const a = new Float64Array(size * size);
    const b = new Float64Array(size * size);
    await new ReferenceGramBackend().accumulate(a, size, f32, 40);
    await new ReferenceGramBackend().accumulate(b, size, Float64Array.from(f32), 40);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('a block with zero columns is a no-op', async () => {
    const k = new Float64Array(9).fill(2);
    await new ReferenceGramBackend().accumulate(k, 3, new Float64Array(0), 0);
    expect(Array.from(k)).toEqual(new Array(9).fill(2));
  });

  it('rejects mismatched shapes with the numbers in the message', async () => {
    const backend = new ReferenceGramBackend();
    await expect(backend.accumulate(new Float64Array(9), 3, new Float64Array(10), 3)).rejects.toThrow(/10 values, expected size×cols = 3×3 = 9/);
    await expect(backend.accumulate(new Float64Array(8), 3, new Float64Array(9), 3)).rejects.toThrow(/holds 8 values, expected size² = 3² = 9/);
    await expect(backend.accumulate(new Float64Array(0), 0, new Float64Array(0), 1)).rejects.toBeInstanceOf(SidecarError);
    expect(() => finalizeGram(new Float64Array(5), 2)).toThrow(/holds 5 values/);
  });
});
