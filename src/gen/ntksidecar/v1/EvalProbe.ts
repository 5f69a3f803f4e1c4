// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Tensor as _ntksidecar_v1_Tensor, Tensor__Output as _ntksidecar_v1_Tensor__Output } from '../../ntksidecar/v1/Tensor.js';

/**
 * A fixed set of samples evaluated forward-only at snapshots (docs/generalization.md G4). Training samples by default
 * (validation-free); held_out = true declares samples the trainer never trains on, so the same curve and horizon
 * test run on honest held-out predictions.
 */
export interface EvalProbe {
  /**
   * n_eval (the rows of TENSOR_KIND_EVAL_LOGITS)
   */
  'num_samples'?: (number);
  /**
   * Labels: n_eval integer class labels, or n_eval x C targets (regression); same encoding as ProbeSet.targets.
   */
  'targets'?: (_ntksidecar_v1_Tensor | null);
  'held_out'?: (boolean);
  /**
   * a changed hash mid-run is FAILED_PRECONDITION, as for the probe
   */
  'sample_ids_hash'?: (string);
}

/**
 * A fixed set of samples evaluated forward-only at snapshots (docs/generalization.md G4). Training samples by default
 * (validation-free); held_out = true declares samples the trainer never trains on, so the same curve and horizon
 * test run on honest held-out predictions.
 */
export interface EvalProbe__Output {
  /**
   * n_eval (the rows of TENSOR_KIND_EVAL_LOGITS)
   */
  'num_samples': (number);
  /**
   * Labels: n_eval integer class labels, or n_eval x C targets (regression); same encoding as ProbeSet.targets.
   */
  'targets': (_ntksidecar_v1_Tensor__Output | null);
  'held_out': (boolean);
  /**
   * a changed hash mid-run is FAILED_PRECONDITION, as for the probe
   */
  'sample_ids_hash': (string);
}
