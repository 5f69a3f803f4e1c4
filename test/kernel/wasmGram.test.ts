/**
 * WebAssembly SIMD Gram backend against the float64 reference. Errors are measured per upper-triangle entry on
 * the scale √(K_ii K_jj), which by Cauchy–Schwarz bounds both |K_ij| and Σ_c |a_c b_c| (u = unit roundoff):
 * - f64: both backends add the same float64 products (exact for float32 inputs: 24-bit × 24-bit mantissas fit
 *   in 53 bits), only in a different order. Two recursive summations of w terms differ by ≤ 2·w·u·Σ|a_c b_c|,
 *   which is < 1e-13 of the scale for w ≤ 450 (2·450·2⁻⁵³); for the wider blocks here (1000 columns) errors of
 *   random-sign data add like a random walk (≈ √w·u ≈ 4e-15), so TOL_F64 = 1e-13 keeps a 25× margin there,
 *   while a wrong index or a dropped tile errs by O(1).
 * - f32: each panel sums ≤ 128 float32 products in float32: ≤ (128 + 1)·2⁻²⁴ of Σ_panel |a_c b_c| (one rounding
 *   per product, 128 per recursive sum); panel sums are added in float64, so over all panels the bound is
 *   129·2⁻²⁴ ≈ 7.7e-6 of Σ_c |a_c b_c|. Float64 blocks are first rounded to float32 (≤ 2u more per product):
 *   131·2⁻²⁴ ≈ 7.8e-6. TOL_F32 = 1e-5 is that proven bound with room for the float64 side's own rounding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/errors.js';
import {
  KernelAccumulator,
  ReferenceGramBackend,
  WasmGramBackend,
  createGramBackend,
  finalizeGram,
  wasmSimdSupported,
  type WasmPrecision,
} from '../../src/kernel/index.js';
import { columnSlice, f32Block, f64Block, isSymmetric, maxScaledDiff, referenceGram } from './gramFixtures.js';

const TOL_F64 = 1e-13;
const TOL_F32 = 1e-5;
const TOL: Record<WasmPrecision, number> = { f64: TOL_F64, f32: TOL_F32 };

const backends: WasmGramBackend[] = [];
function wasm(opts: ConstructorParameters<typeof WasmGramBackend>[0] = {}): WasmGramBackend {
  const b = new WasmGramBackend(opts);
  backends.push(b);
  return b;
}
afterAll(() => {
  for (const b of backends) b.dispose();
});

describe('WebAssembly SIMD Gram backend', () => {
  it('runs on this runtime (Node ≥ 20 has WebAssembly SIMD)', () => {
    expect(wasmSimdSupported()).toBe(true);
  });

  for (const precision of ['f64', 'f32'] as const) {
    describe(`precision ${precision}`, () => {
      // One instance for every shape: its memory grows and is reused across sizes.
      const shared = wasm({ precision });

      it('is named after its precision', () => {
        expect(shared.name).toBe(`wasm-simd-${precision}`);
      });

      it('matches the reference for sizes 1…300 and columns 1, odd, wide (float32 and float64 blocks)', async () => {
        // Sizes not multiples of 4 or 8 exercise the zero padding rows; 257 and 1000 columns span several
        // panels (256 columns for f64, 128 for f32) and end with a short one.
        for (const size of [1, 3, 17, 70, 161, 300]) {
          for (const cols of [1, 33, 257, 1000]) {
            if (size * size * cols > 161 * 161 * 1000) continue; // keeps the reference's share of the test fast
            for (const dtype of ['f32', 'f64'] as const) {
              const seed = size * 1009 + cols * 7 + (dtype === 'f32' ? 0 : 1);
              const block = dtype === 'f32' ? f32Block(seed, size, cols) : f64Block(seed, size, cols);
              const k = new Float64Array(size * size);
              await shared.accumulate(k, size, block, cols);
              const err = maxScaledDiff(k, await referenceGram(block, size, cols), size);
              expect(err, `size ${size} cols ${cols} ${dtype} block`).toBeLessThan(TOL[precision]);
            }
          }
        }
      });

      it('adds into k, writes only the upper triangle; finalizeGram completes it', async () => {
        const size = 21;
        const cols = 40;
        const block = f32Block(3, size, cols);
        const k = new Float64Array(size * size).fill(5);
        await shared.accumulate(k, size, block, cols);
        for (let i = 1; i < size; i++) for (let j = 0; j < i; j++) expect(k[i * size + j]).toBe(5);
        const want = await referenceGram(block, size, cols);
        for (let i = 0; i < want.length; i++) want[i] += 5;
        for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) if (j < i) want[i * size + j] = 5;
        expect(maxScaledDiff(k, want, size)).toBeLessThan(TOL[precision]);
        finalizeGram(k, size);
        expect(isSymmetric(k, size)).toBe(true);
      });

      it('several blocks accumulate to the one-block result', async () => {
        const size = 45;
        const cols = 600;
        const block = f32Block(99, size, cols);
        const ref = await referenceGram(block, size, cols);
        const parts = new Float64Array(size * size);
        for (const [c0, w] of [[0, 1], [1, 300], [301, 299]]) {
          await shared.accumulate(parts, size, columnSlice(block, size, cols, c0, w), w);
        }
        expect(maxScaledDiff(parts, ref, size)).toBeLessThan(TOL[precision]);
      });

      it('runs big Grams in row bands of the accumulator', async () => {
        // maxAccBytes 40·np·8 → bands of 40 rows over np = 136: 4 bands, the last one partial (16 rows); each
        // band stages and packs only its own rows and those below.
        const size = 131;
        const np = 136;
        const banded = wasm({ precision, maxAccBytes: 40 * np * 8 });
        const block = f64Block(7, size, 300);
        const k = new Float64Array(size * size);
        await banded.accumulate(k, size, block, 300);
        expect(maxScaledDiff(k, await referenceGram(block, size, 300), size)).toBeLessThan(TOL[precision]);
      });

      it('propagates NaN and Inf like the reference', async () => {
        const size = 9;
        const block = f64Block(4, size, 10);
        block[2 * 10 + 3] = NaN; // row 2
        block[6 * 10 + 0] = Infinity; // row 6
        const k = new Float64Array(size * size);
        await shared.accumulate(k, size, block, 10);
        const ref = await referenceGram(block, size, 10);
        for (let i = 0; i < size; i++) {
          for (let j = i; j < size; j++) {
            const want = ref[i * size + j];
            const got = k[i * size + j];
            // Finite entries are checked to TOL above; here what matters is where NaN and ±Inf land.
            if (Number.isFinite(want)) expect(Math.abs(got - want), `(${i},${j})`).toBeLessThan(1e-4 * Math.abs(want) + 1e-4);
            else expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `(${i},${j}) ${got} vs ${want}`).toBe(true);
          }
        }
      });

      it('accumulates the traced kernel through KernelAccumulator', async () => {
        // n = 19 samples, C = 3 outputs: the backend sees an n × (C·cols) block (docs/science.md §0, A0).
        const n = 19;
        const C = 3;
        const cols = 70;
        const block = f32Block(12, n * C, cols);
        const got = new KernelAccumulator(wasm({ precision }), n, C, 'trace');
        const want = new KernelAccumulator(new ReferenceGramBackend(), n, C, 'trace');
        for (const [c0, w] of [[0, 30], [30, 40]]) {
          const part = columnSlice(block, n * C, cols, c0, w);
          await got.addColumnBlock(part, w);
          await want.addColumnBlock(part, w);
        }
        const k = got.finish();
        expect(isSymmetric(k, n)).toBe(true);
        expect(maxScaledDiff(k, want.finish(), n)).toBeLessThan(TOL[precision]);
      });
    });
  }

  it('rejects bad shapes, bad options and use after dispose', async () => {
    const backend = wasm();
    await expect(backend.accumulate(new Float64Array(4), 2, new Float32Array(5), 2)).rejects.toThrow(/5 values, expected size×cols = 2×2 = 4/);
    backend.dispose();
    await expect(backend.accumulate(new Float64Array(4), 2, new Float32Array(4), 2)).rejects.toThrow(/after dispose/);
    expect(() => new WasmGramBackend({ precision: 'f16' as WasmPrecision })).toThrow(/precision must be f64 or f32, got "f16"/);
    expect(() => new WasmGramBackend({ maxAccBytes: 0 })).toThrow(/maxAccBytes must be a positive integer, got 0/);
  });

  it('a block with no columns leaves k as it was', async () => {
    const k = new Float64Array(9).fill(2);
    await wasm().accumulate(k, 3, new Float32Array(0), 0);
    expect([...k]).toEqual(new Array(9).fill(2));
  });
});

describe("createGramBackend with WebAssembly SIMD", () => {
  it("'wasm' is the float64 kernel by default and f32 on request", async () => {
    const f64 = await createGramBackend('wasm');
    expect(f64.name).toBe('wasm-simd-f64');
    expect(f64.fallbackReason).toBeUndefined();
    f64.dispose();
    const f32 = await createGramBackend('wasm', { wasmPrecision: 'f32' });
    expect(f32.name).toBe('wasm-simd-f32');
    f32.dispose();
  });

  it("'wasm' refuses a bad precision with INVALID_ARGUMENT", async () => {
    const err = await createGramBackend('wasm', { wasmPrecision: 'f16' as WasmPrecision }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SidecarError);
    expect((err as SidecarError).message).toMatch(/got "f16"/);
  });

  it("'auto' prefers it over the reference when gpu.js would run on the CPU", async () => {
    const backend = await createGramBackend('auto', { gpuMode: 'webasm' });
    expect(backend.name).toBe('wasm-simd-f64');
    expect(backend.fallbackReason).toBeUndefined();
    const size = 40;
    const block = f32Block(8, size, 64);
    const k = new Float64Array(size * size);
    await backend.accumulate(k, size, block, 64);
    expect(maxScaledDiff(k, await referenceGram(block, size, 64), size)).toBeLessThan(TOL_F64);
    backend.dispose();
  });
});
