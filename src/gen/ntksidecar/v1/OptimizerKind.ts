// Original file: proto/ntksidecar/v1/sidecar.proto

export const OptimizerKind = {
  OPTIMIZER_KIND_UNSPECIFIED: 'OPTIMIZER_KIND_UNSPECIFIED',
  OPTIMIZER_KIND_SGD: 'OPTIMIZER_KIND_SGD',
  /**
   * heavy-ball, PyTorch convention
   */
  OPTIMIZER_KIND_MOMENTUM: 'OPTIMIZER_KIND_MOMENTUM',
  OPTIMIZER_KIND_ADAM: 'OPTIMIZER_KIND_ADAM',
} as const;

export type OptimizerKind =
  | 'OPTIMIZER_KIND_UNSPECIFIED'
  | 0
  | 'OPTIMIZER_KIND_SGD'
  | 1
  /**
   * heavy-ball, PyTorch convention
   */
  | 'OPTIMIZER_KIND_MOMENTUM'
  | 2
  | 'OPTIMIZER_KIND_ADAM'
  | 3

export type OptimizerKind__Output = typeof OptimizerKind[keyof typeof OptimizerKind]
