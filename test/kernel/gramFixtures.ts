/** Seeded blocks and a naive float64 Gram for the kernel tests (not a test file itself). */
import { mulberry32, normalArray } from '../../src/random.js';
import { ReferenceGramBackend } from '../../src/kernel/index.js';

/** size×cols standard normal values, rounded to float32. */
export function f32Block(seed: number, size: number, cols: number): Float32Array {
  return Float32Array.from(normalArray(mulberry32(seed), size * cols));
}

/** size×cols standard normal values in float64. */
export function f64Block(seed: number, size: number, cols: number): Float64Array {
  return normalArray(mulberry32(seed), size * cols);
}

/** The full B Bᵀ by the textbook triple loop, in float64, summing columns in order. */
export function naiveGram(block: Float32Array | Float64Array, size: number, cols: number): Float64Array {
  const k = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += block[i * cols + c] * block[j * cols + c];
      k[i * size + j] = s;
    }
  }
  return k;
}

/** Columns c0..c0+w of a size×cols row-major block, as its own size×w block. */
export function columnSlice<T extends Float32Array | Float64Array>(block: T, size: number, cols: number, c0: number, w: number): T {
  const out = new (block.constructor as new (n: number) => T)(size * w);
  for (let r = 0; r < size; r++) out.set(block.subarray(r * cols + c0, r * cols + c0 + w), r * w);
  return out;
}

/** max over i ≤ j of |a_ij − b_ij| / √(b_ii b_jj): error on the scale of the entry's own Cauchy–Schwarz bound. */
export function maxScaledDiff(a: Float64Array, b: Float64Array, size: number): number {
  let worst = 0;
  for (let i = 0; i < size; i++) {
    for (let j = i; j < size; j++) {
      const e = Math.abs(a[i * size + j] - b[i * size + j]) / Math.sqrt(b[i * size + i] * b[j * size + j]);
      if (!(e <= worst)) worst = e;
    }
  }
  return worst;
}

/** True when the lower triangle mirrors the upper one exactly. */
export function isSymmetric(k: Float64Array, size: number): boolean {
  for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) if (k[i * size + j] !== k[j * size + i]) return false;
  return true;
}

/** Upper triangle of K = B Bᵀ from the float64 reference backend (the oracle other backends are compared with). */
export async function referenceGram(block: Float32Array | Float64Array, size: number, cols: number): Promise<Float64Array> {
  const k = new Float64Array(size * size);
  await new ReferenceGramBackend().accumulate(k, size, block, cols);
  return k;
}
