// Original file: proto/ntksidecar/v1/sidecar.proto

export const LossKind = {
  LOSS_KIND_UNSPECIFIED: 'LOSS_KIND_UNSPECIFIED',
  /**
   * L = c_L * sum_{i,c} (z_ic - y_ic)^2, with c_L = LossSpec.scale (docs/science.md §0).
   */
  LOSS_KIND_MSE: 'LOSS_KIND_MSE',
  /**
   * L = (1/n) sum_i CE(softmax(z_i), y_i).
   */
  LOSS_KIND_CROSS_ENTROPY: 'LOSS_KIND_CROSS_ENTROPY',
} as const;

export type LossKind =
  | 'LOSS_KIND_UNSPECIFIED'
  | 0
  /**
   * L = c_L * sum_{i,c} (z_ic - y_ic)^2, with c_L = LossSpec.scale (docs/science.md §0).
   */
  | 'LOSS_KIND_MSE'
  | 1
  /**
   * L = (1/n) sum_i CE(softmax(z_i), y_i).
   */
  | 'LOSS_KIND_CROSS_ENTROPY'
  | 2

export type LossKind__Output = typeof LossKind[keyof typeof LossKind]
