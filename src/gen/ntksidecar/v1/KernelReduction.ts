// Original file: proto/ntksidecar/v1/sidecar.proto

export const KernelReduction = {
  /**
   * Treated as FULL.
   */
  KERNEL_REDUCTION_UNSPECIFIED: 'KERNEL_REDUCTION_UNSPECIFIED',
  /**
   * Full N x N kernel over (sample, output) pairs.
   */
  KERNEL_REDUCTION_FULL: 'KERNEL_REDUCTION_FULL',
  /**
   * n x n kernel averaged over the C outputs: Kbar[i,j] = (1/C) sum_c K[(i,c),(j,c)] (neural-tangents trace_axes).
   */
  KERNEL_REDUCTION_TRACE: 'KERNEL_REDUCTION_TRACE',
} as const;

export type KernelReduction =
  /**
   * Treated as FULL.
   */
  | 'KERNEL_REDUCTION_UNSPECIFIED'
  | 0
  /**
   * Full N x N kernel over (sample, output) pairs.
   */
  | 'KERNEL_REDUCTION_FULL'
  | 1
  /**
   * n x n kernel averaged over the C outputs: Kbar[i,j] = (1/C) sum_c K[(i,c),(j,c)] (neural-tangents trace_axes).
   */
  | 'KERNEL_REDUCTION_TRACE'
  | 2

export type KernelReduction__Output = typeof KernelReduction[keyof typeof KernelReduction]
