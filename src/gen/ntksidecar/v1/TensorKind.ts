// Original file: proto/ntksidecar/v1/sidecar.proto

export const TensorKind = {
  TENSOR_KIND_UNSPECIFIED: 'TENSOR_KIND_UNSPECIFIED',
  /**
   * Per-sample output Jacobian J, N rows x P columns; streamed as column blocks.
   */
  TENSOR_KIND_JACOBIAN: 'TENSOR_KIND_JACOBIAN',
  /**
   * Random sketch Z = J Omega, N rows x m columns (SketchSpec); streamed as column blocks.
   */
  TENSOR_KIND_SKETCH: 'TENSOR_KIND_SKETCH',
  /**
   * Gram matrix K = J J^T computed by the trainer, rows x rows (N x N, or n x n when TRACE); row blocks.
   */
  TENSOR_KIND_GRAM: 'TENSOR_KIND_GRAM',
  /**
   * Logits on the probe set, n rows x C columns; row blocks.
   */
  TENSOR_KIND_LOGITS: 'TENSOR_KIND_LOGITS',
  /**
   * Logits on the evaluation probe (RunStart.eval_probe), n_eval rows x C columns; row blocks. Forward-only: it
   * costs the trainer one forward pass on a larger fixed subset (docs/generalization.md G4).
   */
  TENSOR_KIND_EVAL_LOGITS: 'TENSOR_KIND_EVAL_LOGITS',
} as const;

export type TensorKind =
  | 'TENSOR_KIND_UNSPECIFIED'
  | 0
  /**
   * Per-sample output Jacobian J, N rows x P columns; streamed as column blocks.
   */
  | 'TENSOR_KIND_JACOBIAN'
  | 1
  /**
   * Random sketch Z = J Omega, N rows x m columns (SketchSpec); streamed as column blocks.
   */
  | 'TENSOR_KIND_SKETCH'
  | 2
  /**
   * Gram matrix K = J J^T computed by the trainer, rows x rows (N x N, or n x n when TRACE); row blocks.
   */
  | 'TENSOR_KIND_GRAM'
  | 3
  /**
   * Logits on the probe set, n rows x C columns; row blocks.
   */
  | 'TENSOR_KIND_LOGITS'
  | 4
  /**
   * Logits on the evaluation probe (RunStart.eval_probe), n_eval rows x C columns; row blocks. Forward-only: it
   * costs the trainer one forward pass on a larger fixed subset (docs/generalization.md G4).
   */
  | 'TENSOR_KIND_EVAL_LOGITS'
  | 5

export type TensorKind__Output = typeof TensorKind[keyof typeof TensorKind]
