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
      // gpu.js only where it reached a GPU; on the CPU the WebAssembly SIMD kernels, else the reference.
      expect(backend.name).toMatch(/^(reference|wasm-simd-f64|gpujs-(webgpu|headlessgl|webgl2?))$/);
      if (backend.name === 'reference') expect(backend.fallbackReason).toMatch(/\S/);
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

  it("'auto' takes the WebAssembly SIMD kernels, quietly, when gpu.js would run on the CPU", async () => {
    for (const gpuMode of ['cpu', 'webasm'] as const) {
      const backend = await createGramBackend('auto', { gpuMode });
      expect(backend.name).toBe('wasm-simd-f64');
      expect(backend.fallbackReason).toBeUndefined();
      backend.dispose();
    }
  });

  it("'auto' falls back to the reference when the WebAssembly kernels are unusable too, and says why", async () => {
    const backend = await createGramBackend('auto', { gpuMode: 'cpu', wasmPrecision: 'f16' as 'f64' });
    expect(backend.name).toBe('reference');
    expect(backend.fallbackReason).toMatch(/would run on the CPU \(gpujs-cpu.*WebAssembly SIMD kernels unusable: .*got "f16"/);
  });

  it("'gpujs' reports the backend that ran after its self-check", async () => {
    const backend = await createGramBackend('gpujs');
    expect(backend.name).toMatch(/^gpujs-(webasm|webgpu|headlessgl|webgl2?|cpu)$/);
    backend.dispose();
  });

  it("'gpujs' fails loudly where 'auto' falls back and reports why", async () => {
    // maxBlockCols 0 makes the gpu.js backend refuse to start.
    await expect(createGramBackend('gpujs', { maxBlockCols: 0 })).rejects.toBeInstanceOf(SidecarError);
    const auto = await createGramBackend('auto', { maxBlockCols: 0 });
    expect(auto.name).toBe('wasm-simd-f64');
    expect(auto.fallbackReason).toMatch(/maxBlockCols must be a positive integer, got 0/);
    auto.dispose();
  });

  it('rejects an unknown kind', async () => {
    await expect(createGramBackend('cuda' as BackendKind)).rejects.toThrow(/unknown Gram backend "cuda"/);
  });
});
