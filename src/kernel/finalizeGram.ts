/**
 * Symmetrization of an accumulated kernel (docs/science.md A0: "symmetrize once: K ← (K + Kᵀ)/2").
 */
import { Code, snapshotError } from '../errors.js';

/** Square tiles for the transposed walk: a 64×64 float64 tile pair is 64 KiB, about one L1/L2 slice. */
const TILE = 64;

function checkSquare(k: Float64Array, size: number, what: string): void {
  if (!Number.isInteger(size) || size < 1 || k.length !== size * size) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `${what}: kernel buffer holds ${k.length} values, expected size² for size ${size}`,
    );
  }
}

/**
 * Completes a kernel built by GramBackend.accumulate: copies the upper triangle onto the lower one.
 * Backends compute each entry K[i][j], i ≤ j, exactly once, so the mirrored matrix *is* (K + Kᵀ)/2 of the
 * product B Bᵀ (A0); averaging instead would halve the off-diagonal entries, whose lower half is never written.
 * Walked in tiles so the strided (column) side stays in cache.
 */
export function finalizeGram(k: Float64Array, size: number): void {
  checkSquare(k, size, 'finalizeGram');
  for (let i0 = 0; i0 < size; i0 += TILE) {
    const i1 = Math.min(size, i0 + TILE);
    for (let j0 = i0; j0 < size; j0 += TILE) {
      const j1 = Math.min(size, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const row = i * size;
        for (let j = Math.max(j0, i + 1); j < j1; j++) k[j * size + i] = k[row + j];
      }
    }
  }
}

/**
 * K ← (K + Kᵀ)/2 for a full matrix received from elsewhere (a trainer's Gram, docs/science.md A0 modes 2 and 4),
 * where both triangles carry data and differ by rounding.
 */
export function symmetrizeGram(k: Float64Array, size: number): void {
  checkSquare(k, size, 'symmetrizeGram');
  for (let i0 = 0; i0 < size; i0 += TILE) {
    const i1 = Math.min(size, i0 + TILE);
    for (let j0 = i0; j0 < size; j0 += TILE) {
      const j1 = Math.min(size, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const row = i * size;
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const v = 0.5 * (k[row + j] + k[j * size + i]);
          k[row + j] = v;
          k[j * size + i] = v;
        }
      }
    }
  }
}
