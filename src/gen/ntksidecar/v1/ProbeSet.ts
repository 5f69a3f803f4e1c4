// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Tensor as _ntksidecar_v1_Tensor, Tensor__Output as _ntksidecar_v1_Tensor__Output } from '../../ntksidecar/v1/Tensor.js';

/**
 * The fixed probe set on which every snapshot is taken. It must not change within a run.
 */
export interface ProbeSet {
  /**
   * n
   */
  'num_samples'?: (number);
  /**
   * C (1 for scalar regression)
   */
  'num_outputs'?: (number);
  /**
   * Any stable hash of the probe sample ids; a changed hash mid-run is FAILED_PRECONDITION.
   */
  'sample_ids_hash'?: (string);
  /**
   * Targets: n x C (regression, one-hot) or n integer class labels (any dtype, integral values).
   */
  'targets'?: (_ntksidecar_v1_Tensor | null);
}

/**
 * The fixed probe set on which every snapshot is taken. It must not change within a run.
 */
export interface ProbeSet__Output {
  /**
   * n
   */
  'num_samples': (number);
  /**
   * C (1 for scalar regression)
   */
  'num_outputs': (number);
  /**
   * Any stable hash of the probe sample ids; a changed hash mid-run is FAILED_PRECONDITION.
   */
  'sample_ids_hash': (string);
  /**
   * Targets: n x C (regression, one-hot) or n integer class labels (any dtype, integral values).
   */
  'targets': (_ntksidecar_v1_Tensor__Output | null);
}
