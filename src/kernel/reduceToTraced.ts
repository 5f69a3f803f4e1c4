/**
 * The traced kernel of a full one (proto KERNEL_REDUCTION_TRACE; docs/science.md §0):
 * K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)], rows sample-major (row i·C + c), divided by the traced size C as
 * neural-tangents' trace_axes does.
 */
import { Code, snapshotError } from '../errors.js';

/** Reduces a full N×N kernel (N = samples·outputs, row-major) to the n×n traced kernel K̄ (new array). */
export function reduceToTraced(full: Float32Array | Float64Array, samples: number, outputs: number): Float64Array {
  if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(outputs) || outputs < 1) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `traced kernel needs positive integer samples and outputs, got n = ${samples}, C = ${outputs}`,
    );
  }
  const n = samples;
  const C = outputs;
  const N = n * C;
  if (full.length !== N * N) {
    throw snapshotError(
      Code.INVALID_ARGUMENT,
      `full kernel holds ${full.length} values, expected (n·C)² = (${n}·${C})² = ${N * N}`,
    );
  }
  const out = new Float64Array(n * n);
  const inv = 1 / C;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      // K[(i,c),(j,c)] sits at row i·C + c, column j·C + c: stride N + 1 from (i·C, j·C).
      let at = i * C * N + j * C;
      for (let c = 0; c < C; c++, at += N + 1) s += full[at];
      out[i * n + j] = s * inv;
    }
  }
  return out;
}

/** Alias of reduceToTraced (the name the analyze command uses). */
export const traceKernel = reduceToTraced;
