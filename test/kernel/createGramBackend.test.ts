import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import { createGramBackend, type BackendKind } from '../../src/kernel/index.js';
import { f32Block, maxScaledDiff } from './gramFixtures.js';

describe('createGramBackend', () => {
  it("'reference' is the float64 backend", async () => {
    const backend = await createGramBackend('reference');
    expect(backend.name).toBe('reference');
    expect(backend.fallbackReason).toBeUndefined();
    backend.dispose();
  });

  it("'auto' names a real backend, and explains itself when it is the reference", async () => {
    const backend = await createGramBackend('auto');
    try {
      // On the CPU gpu.js is no faster than the reference, so auto only keeps it on a GPU backend.
      expect(backend.name).toMatch(/^(reference|gpujs-(webgpu|headlessgl|webgl2?))$/);
      if (backend.name === 'reference') expect(backend.fallbackReason).toMatch(/\S/);
      else expect(backend.fallbackReason).toBeUndefined();
      // Whatever it chose, it computes the Gram (gpu.js tolerance: float32 sums over 64 columns, ≤ 64·2⁻²⁴).
      const size = 30;
      const block = f32Block(21, size, 64);
      const k = new Float64Array(size * size);
      await backend.accumulate(k, size, block, 64);
      const ref = new Float64Array(size * size);
      const reference = await createGramBackend('reference');
      await reference.accumulate(ref, size, block, 64);
      expect(maxScaledDiff(k, ref, size)).toBeLessThan(1e-5);
    } finally {
      backend.dispose();
    }
  });

  it("'auto' falls back to the reference when gpu.js would run on the CPU", async () => {
    for (const gpuMode of ['cpu', 'webasm'] as const) {
      const backend = await createGramBackend('auto', { gpuMode });
      expect(backend.name).toBe('reference');
      expect(backend.fallbackReason).toMatch(new RegExp(`would run on the CPU \\(gpujs-${gpuMode}.*no faster than the float64 reference`));
      backend.dispose();
    }
  });

  it("'gpujs' reports the backend that ran after its self-check", async () => {
    const backend = await createGramBackend('gpujs');
    expect(backend.name).toMatch(/^gpujs-(webasm|webgpu|headlessgl|webgl2?|cpu)$/);
    backend.dispose();
  });

  it("'gpujs' fails loudly where 'auto' falls back quietly", async () => {
    // maxBlockCols 0 makes the gpu.js backend refuse to start.
    await expect(createGramBackend('gpujs', { maxBlockCols: 0 })).rejects.toBeInstanceOf(SidecarError);
    const auto = await createGramBackend('auto', { maxBlockCols: 0 });
    expect(auto.name).toBe('reference');
    expect(auto.fallbackReason).toMatch(/maxBlockCols must be a positive integer, got 0/);
  });

  it('rejects an unknown kind', async () => {
    await expect(createGramBackend('cuda' as BackendKind)).rejects.toThrow(/unknown Gram backend "cuda"/);
  });
});
