// Original file: proto/ntksidecar/v1/sidecar.proto

import type { TensorSpec as _ntksidecar_v1_TensorSpec, TensorSpec__Output as _ntksidecar_v1_TensorSpec__Output } from '../../ntksidecar/v1/TensorSpec.js';
import type { KernelReduction as _ntksidecar_v1_KernelReduction, KernelReduction__Output as _ntksidecar_v1_KernelReduction__Output } from '../../ntksidecar/v1/KernelReduction.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Opens a snapshot. Its tensors follow as chunks, then SnapshotEnd.
 */
export interface SnapshotHeader {
  /**
   * unique within the run, increasing
   */
  'snapshot_id'?: (number | string | Long);
  /**
   * optimizer step at which the snapshot was taken
   */
  'step'?: (number | string | Long);
  'samples_seen'?: (number | string | Long);
  /**
   * any monotone unit (FLOPs, GPU-seconds)
   */
  'compute_spent'?: (number | string);
  /**
   * current eta (schedules)
   */
  'learning_rate'?: (number | string);
  /**
   * NaN allowed: it is a finding, not an error
   */
  'train_loss'?: (number | string);
  /**
   * Every tensor that follows, with its full shape. At most one per kind.
   */
  'tensors'?: (_ntksidecar_v1_TensorSpec)[];
  'kernel_reduction'?: (_ntksidecar_v1_KernelReduction);
  /**
   * The Jacobian/sketch/Gram is Adam-preconditioned: J·diag(1/(√v̂+ε))^{1/2} (docs/science.md A5). Only then is the
   * edge-of-stability ratio reported for Adam.
   */
  'kernel_preconditioned'?: (boolean);
}

/**
 * Opens a snapshot. Its tensors follow as chunks, then SnapshotEnd.
 */
export interface SnapshotHeader__Output {
  /**
   * unique within the run, increasing
   */
  'snapshot_id': (number);
  /**
   * optimizer step at which the snapshot was taken
   */
  'step': (number);
  'samples_seen': (number);
  /**
   * any monotone unit (FLOPs, GPU-seconds)
   */
  'compute_spent': (number);
  /**
   * current eta (schedules)
   */
  'learning_rate': (number);
  /**
   * NaN allowed: it is a finding, not an error
   */
  'train_loss': (number);
  /**
   * Every tensor that follows, with its full shape. At most one per kind.
   */
  'tensors': (_ntksidecar_v1_TensorSpec__Output)[];
  'kernel_reduction': (_ntksidecar_v1_KernelReduction__Output);
  /**
   * The Jacobian/sketch/Gram is Adam-preconditioned: J·diag(1/(√v̂+ε))^{1/2} (docs/science.md A5). Only then is the
   * edge-of-stability ratio reported for Adam.
   */
  'kernel_preconditioned': (boolean);
}
