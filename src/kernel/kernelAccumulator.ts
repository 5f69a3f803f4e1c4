/**
 * Accumulates K = J Jᵀ (reduction 'full', N×N) or the traced K̄ (reduction 'trace', n×n) from column blocks
 * of a Jacobian or sketch with N = n·C sample-major rows, without ever holding the N×N kernel when only K̄ is
 * wanted (docs/science.md §0, A0; proto KERNEL_REDUCTION_TRACE).
 */
import { Code, snapshotError } from '../errors.js';
import type { GramBackend, GramBlock } from './gramBackend.js';
import { finalizeGram } from './finalizeGram.js';

/** FULL keeps the N×N kernel; TRACE averages the C outputs into n×n (neural-tangents `trace_axes`). */
export const KERNEL_REDUCTIONS = ['full', 'trace'] as const;
export type KernelReduction = (typeof KERNEL_REDUCTIONS)[number];

export class KernelAccumulator {
  /** N = n·C for 'full', n for 'trace'. */
  readonly size: number;
  /** size×size, row-major float64; complete (symmetric, scaled) only after finish(). */
  readonly kernel: Float64Array;
  private finished = false;

  constructor(
    private readonly backend: GramBackend,
    readonly samples: number,
    readonly outputs: number,
    readonly reduction: KernelReduction,
  ) {
    if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(outputs) || outputs < 1) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `kernel accumulator needs positive integer samples and outputs, got n = ${samples}, C = ${outputs}`,
      );
    }
    if (reduction !== 'full' && reduction !== 'trace') {
      throw snapshotError(Code.INVALID_ARGUMENT, `unknown kernel reduction "${String(reduction)}": expected full or trace`);
    }
    this.size = reduction === 'full' ? samples * outputs : samples;
    this.kernel = new Float64Array(this.size * this.size);
  }

  /**
   * Adds one column block: N×cols row-major, row i·C + c holding output c of sample i.
   *
   * For 'trace', Σ_c K[(i,c),(j,c)] = Σ_c B_c B_cᵀ with B_c the n×cols rows of output c, which equals B̃ B̃ᵀ for
   * B̃ = [B_0 | B_1 | … | B_{C−1}] (n × C·cols). Because rows are sample-major, row i of B̃ is rows i·C … i·C+C−1
   * of B laid end to end, which is exactly how they already sit in memory: the same buffer read as n×(C·cols)
   * is B̃. One backend call, no regrouping copy, and the 1/C is applied once in finish().
   */
  async addColumnBlock(block: GramBlock, cols: number): Promise<void> {
    if (this.finished) {
      throw snapshotError(Code.FAILED_PRECONDITION, 'kernel accumulator already finished; call reset() before adding blocks');
    }
    const N = this.samples * this.outputs;
    if (!Number.isInteger(cols) || cols < 0 || block.length !== N * cols) {
      throw snapshotError(
        Code.INVALID_ARGUMENT,
        `column block holds ${block.length} values, expected N×cols = ${N}×${cols} = ${N * cols} (N = n·C = ${this.samples}·${this.outputs})`,
      );
    }
    if (this.reduction === 'full') await this.backend.accumulate(this.kernel, N, block, cols);
    else await this.backend.accumulate(this.kernel, this.samples, block, this.outputs * cols);
  }

  /** Mirrors the accumulated upper triangle (docs/science.md A0) and, for 'trace', divides by C. Returns kernel. */
  finish(): Float64Array {
    if (this.finished) return this.kernel;
    finalizeGram(this.kernel, this.size);
    if (this.reduction === 'trace' && this.outputs > 1) {
      const inv = 1 / this.outputs;
      for (let i = 0; i < this.kernel.length; i++) this.kernel[i] *= inv;
    }
    this.finished = true;
    return this.kernel;
  }

  /** Zeroes the kernel for the next snapshot, keeping the allocation. */
  reset(): void {
    this.kernel.fill(0);
    this.finished = false;
  }
}
