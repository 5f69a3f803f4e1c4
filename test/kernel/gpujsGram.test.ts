/**
 * gpu.js backend against the float64 reference. Tolerance, per upper-triangle entry, on the scale
 * √(K_ii K_jj) (Cauchy–Schwarz bounds |K_ij| and Σ_c |a_c b_c| by it):
 * - float32 inputs are exact in float32; each kernel call sums w ≤ maxBlockCols products in float32 in
 *   column order, erring by at most ≈ w·2⁻²⁴ of that scale (w·u bound for recursive summation), and the
 *   per-call sums are added in float64, so errors do not compound across calls.
 * - TOL_RIGOROUS = 1e-5 where every call has w ≤ 160 columns (160·6e-8 = 9.5e-6, a proven bound).
 * - TOL_RANDOM = 2e-5 for calls of up to 1024 columns on random-sign data, where rounding errors add like a
 *   random walk (≈ √w·u ≈ 2e-6); 10× margin, while a wrong index or a dropped tile errs by O(1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GpujsGramBackend } from '../../src/kernel/gpujsGram.js';
import { finalizeGram } from '../../src/kernel/index.js';
import { columnSlice, f32Block, f64Block, isSymmetric, maxScaledDiff, referenceGram } from './gramFixtures.js';

const TOL_RIGOROUS = 1e-5;
const TOL_RANDOM = 2e-5;
const BACKEND_NAME = /^gpujs-(webasm|webgpu|headlessgl|webgl2?|cpu)$/;

const backends: GpujsGramBackend[] = [];
function gpujs(opts: ConstructorParameters<typeof GpujsGramBackend>[0] = {}): GpujsGramBackend {
  const b = new GpujsGramBackend(opts);
  backends.push(b);
  return b;
}
afterAll(() => {
  for (const b of backends) b.dispose();
});

describe('gpu.js Gram backend', () => {
  const shared = gpujs();

  it('matches the reference on odd and tiny shapes (float32 blocks)', async () => {
    // size 1, 3, 17 (not multiples of 4: padded rows), cols 1; 70 spans two column tiles; 161 runs threaded.
    for (const [size, cols] of [[1, 1], [1, 9], [3, 1], [3, 5], [17, 1], [17, 33], [70, 40], [161, 100]]) {
      const block = f32Block(size * 31 + cols, size, cols);
      const k = new Float64Array(size * size);
      await shared.accumulate(k, size, block, cols);
      const err = maxScaledDiff(k, await referenceGram(block, size, cols), size);
      expect(err, `size ${size} cols ${cols}`).toBeLessThan(TOL_RIGOROUS);
    }
  });

  it('reports the gpu.js backend that ran', () => {
    expect(shared.name).toMatch(BACKEND_NAME);
  });

  it('writes only the upper triangle; finalizeGram gives a symmetric kernel', async () => {
    const size = 10;
    const block = f32Block(8, size, 12);
    const k = new Float64Array(size * size);
    await shared.accumulate(k, size, block, 12);
    for (let i = 1; i < size; i++) for (let j = 0; j < i; j++) expect(k[i * size + j]).toBe(0);
    finalizeGram(k, size);
    expect(isSymmetric(k, size)).toBe(true);
  });

  it('float64 blocks are rounded to float32 and still agree with the float64 reference', async () => {
    // Rounding each input to float32 adds 2·2⁻²⁴ relative per product: inside TOL_RIGOROUS for 50 columns.
    const size = 23;
    const block = f64Block(11, size, 50);
    const k = new Float64Array(size * size);
    await shared.accumulate(k, size, block, 50);
    expect(maxScaledDiff(k, await referenceGram(block, size, 50), size)).toBeLessThan(TOL_RIGOROUS);
  });

  it('splits wide blocks into calls and several blocks accumulate to the one-block result', async () => {
    // maxBlockCols 64: 1000 columns run as 15 calls of 64 plus one of 40 (staged at width 64), each summed in
    // float32 over ≤ 64 columns → rigorous bound; blocks of widths 1, 199, 800 exercise other staged widths.
    const backend = gpujs({ maxBlockCols: 64 });
    const size = 40;
    const cols = 1000;
    const block = f32Block(99, size, cols);
    const ref = await referenceGram(block, size, cols);
    const whole = new Float64Array(size * size);
    await backend.accumulate(whole, size, block, cols);
    expect(maxScaledDiff(whole, ref, size)).toBeLessThan(TOL_RIGOROUS);
    const parts = new Float64Array(size * size);
    for (const [c0, w] of [[0, 1], [1, 199], [200, 800]]) {
      await backend.accumulate(parts, size, columnSlice(block, size, cols, c0, w), w);
    }
    expect(maxScaledDiff(parts, ref, size)).toBeLessThan(TOL_RIGOROUS);
  });

  it('runs the upper-triangle tiles over several calls when the output is capped', async () => {
    // maxOutputValues 4096 with 64-wide tiles allows 16 tiles per call; size 300 has 190 tiles → 12 calls,
    // the last one padded. Default 1024-column calls on random data → TOL_RANDOM.
    const backend = gpujs({ maxOutputValues: 4096 });
    const size = 300;
    const cols = 1500;
    const block = f32Block(1234, size, cols);
    const k = new Float64Array(size * size);
    await backend.accumulate(k, size, block, cols);
    expect(maxScaledDiff(k, await referenceGram(block, size, cols), size)).toBeLessThan(TOL_RANDOM);
  });

  it('keeps the event loop running while a large block computes', async () => {
    // ~40M multiply-adds on gpu.js' worker pool (webasm) or the GPU: a timer must fire meanwhile. A backend
    // that computed synchronously on this thread would let no timer run until it finished.
    const size = 256;
    const cols = 1024;
    const block = f32Block(5, size, cols);
    const k = new Float64Array(size * size);
    await shared.accumulate(k, size, block, cols); // compile outside the measurement
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    for (let r = 0; r < 3; r++) await shared.accumulate(k, size, block, cols);
    clearInterval(timer);
    if (shared.name === 'gpujs-cpu') return; // gpu.js' cpu backend is synchronous by design
    expect(ticks).toBeGreaterThan(0);
  });

  it('rejects bad shapes and use after dispose', async () => {
    const backend = gpujs();
    await expect(backend.accumulate(new Float64Array(4), 2, new Float32Array(5), 2)).rejects.toThrow(/5 values, expected size×cols = 2×2 = 4/);
    backend.dispose();
    await expect(backend.accumulate(new Float64Array(4), 2, new Float32Array(4), 2)).rejects.toThrow(/after dispose/);
    expect(() => new GpujsGramBackend({ maxBlockCols: 0 })).toThrow(/maxBlockCols must be a positive integer, got 0/);
  });
});

describe("gpu.js Gram backend on gpu.js' cpu mode", () => {
  it('gives the same kernel through the generic result path', async () => {
    // The cpu backend returns per-cell arrays rather than one packed buffer: this covers the walking reader.
    const backend = gpujs({ gpuMode: 'cpu' });
    const size = 9;
    const block = f32Block(77, size, 30);
    const k = new Float64Array(size * size);
    await backend.accumulate(k, size, block, 30);
    expect(backend.name).toBe('gpujs-cpu');
    expect(maxScaledDiff(k, await referenceGram(block, size, 30), size)).toBeLessThan(TOL_RIGOROUS);
  });
});
