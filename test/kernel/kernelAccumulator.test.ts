import { describe, expect, it } from 'vitest';
import { GpujsGramBackend } from '../../src/kernel/gpujsGram.js';
import {
  KernelAccumulator,
  ReferenceGramBackend,
  finalizeGram,
  reduceToTraced,
  symmetrizeGram,
  traceKernel,
} from '../../src/kernel/index.js';
import { columnSlice, f32Block, f64Block, isSymmetric, maxScaledDiff, naiveGram } from './gramFixtures.js';

describe('reduceToTraced (docs/science.md §0: K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)])', () => {
  it('matches a hand-computed 2-sample, 2-output example', () => {
    // Rows (0,0),(0,1),(1,0),(1,1). K̄[0,0] = (1+6)/2, K̄[0,1] = (3+8)/2, K̄[1,0] = (9+14)/2, K̄[1,1] = (11+16)/2.
    const full = Float64Array.from({ length: 16 }, (_, i) => i + 1);
    expect(Array.from(reduceToTraced(full, 2, 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
    expect(traceKernel).toBe(reduceToTraced);
  });

  it('is the identity for C = 1 and rejects a wrong size', () => {
    const full = f64Block(1, 3, 3);
    expect(Array.from(reduceToTraced(full, 3, 1))).toEqual(Array.from(full));
    expect(() => reduceToTraced(new Float64Array(15), 2, 2)).toThrow(/holds 15 values, expected \(n·C\)² = \(2·2\)² = 16/);
  });
});

describe('symmetrizeGram (docs/science.md A0: K ← (K + Kᵀ)/2)', () => {
  it('averages the two triangles', () => {
    const k = Float64Array.from([1, 2, 4, 3]);
    symmetrizeGram(k, 2);
    expect(Array.from(k)).toEqual([1, 3, 3, 3]);
  });
});

describe('KernelAccumulator', () => {
  const n = 7;
  const C = 3;
  const N = n * C;
  const cols = 90;

  async function accumulate(reduction: 'full' | 'trace', block: Float32Array | Float64Array, widths: number[]) {
    const acc = new KernelAccumulator(new ReferenceGramBackend(), n, C, reduction);
    let c0 = 0;
    for (const w of widths) {
      await acc.addColumnBlock(columnSlice(block, N, cols, c0, w), w);
      c0 += w;
    }
    return acc;
  }

  it("'full' gives the symmetric J Jᵀ of the naive loop", async () => {
    // One panel, one block: the reference's sums run in the naive loop's order, so equality is exact.
    const block = f64Block(3, N, cols);
    const acc = await accumulate('full', block, [cols]);
    expect(acc.size).toBe(N);
    const k = acc.finish();
    expect(k).toBe(acc.kernel);
    expect(isSymmetric(k, N)).toBe(true);
    expect(Array.from(k)).toEqual(Array.from(naiveGram(block, N, cols)));
  });

  it("'trace' equals reducing the full kernel, block by block", async () => {
    // Same products, summed in a different grouping (per output vs per row pair): float64 rounding only, so
    // 1e-13 of the entry scale √(K̄_ii K̄_jj).
    const block = f32Block(4, N, cols);
    const full = (await accumulate('full', block, [cols])).finish();
    const want = reduceToTraced(full, n, C);
    const traced = await accumulate('trace', block, [1, 40, 49]);
    expect(traced.size).toBe(n);
    const k = traced.finish();
    expect(isSymmetric(k, n)).toBe(true);
    expect(maxScaledDiff(k, want, n)).toBeLessThan(1e-13);
  });

  it("'trace' with C = 1 is the full kernel", async () => {
    const block = f64Block(5, 6, 20);
    const a = new KernelAccumulator(new ReferenceGramBackend(), 6, 1, 'trace');
    const b = new KernelAccumulator(new ReferenceGramBackend(), 6, 1, 'full');
    await a.addColumnBlock(block, 20);
    await b.addColumnBlock(block, 20);
    expect(Array.from(a.finish())).toEqual(Array.from(b.finish()));
  });

  it("'trace' on gpu.js agrees with the reference", async () => {
    // Each gpu.js call sums C·cols = 270 float32 products: ≤ 270·2⁻²⁴ ≈ 1.6e-5 of √(K̄_ii K̄_jj) in the worst
    // case, ≈ √270·2⁻²⁴ ≈ 1e-6 for random signs; 2e-5 covers the bound.
    const block = f32Block(6, N, cols);
    const backend = new GpujsGramBackend();
    try {
      const acc = new KernelAccumulator(backend, n, C, 'trace');
      await acc.addColumnBlock(block, cols);
      const want = reduceToTraced((await accumulate('full', block, [cols])).finish(), n, C);
      expect(maxScaledDiff(acc.finish(), want, n)).toBeLessThan(2e-5);
    } finally {
      backend.dispose();
    }
  });

  it('finish is idempotent, blocks after finish are refused, reset starts over', async () => {
    const block = f64Block(8, N, 10);
    const acc = new KernelAccumulator(new ReferenceGramBackend(), n, C, 'trace');
    await acc.addColumnBlock(block, 10);
    const once = Array.from(acc.finish());
    expect(Array.from(acc.finish())).toEqual(once);
    await expect(acc.addColumnBlock(block, 10)).rejects.toThrow(/already finished/);
    acc.reset();
    expect(acc.kernel.every((v) => v === 0)).toBe(true);
    await acc.addColumnBlock(block, 10);
    expect(Array.from(acc.finish())).toEqual(once);
  });

  it('rejects a block of the wrong length and bad dimensions', async () => {
    const acc = new KernelAccumulator(new ReferenceGramBackend(), n, C, 'full');
    await expect(acc.addColumnBlock(new Float64Array(N * 4 - 1), 4)).rejects.toThrow(
      /holds 83 values, expected N×cols = 21×4 = 84 \(N = n·C = 7·3\)/,
    );
    expect(() => new KernelAccumulator(new ReferenceGramBackend(), 0, 2, 'full')).toThrow(/n = 0, C = 2/);
  });

  it('finalizeGram keeps the upper triangle when the lower one holds stale values', () => {
    const k = Float64Array.from([1, 2, 9, 4]);
    finalizeGram(k, 2);
    expect(Array.from(k)).toEqual([1, 2, 2, 4]);
  });
});
