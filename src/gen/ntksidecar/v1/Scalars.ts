// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Cheap per-step values between snapshots.
 */
export interface Scalars {
  'step'?: (number | string | Long);
  'train_loss'?: (number | string);
  'learning_rate'?: (number | string);
  'samples_seen'?: (number | string | Long);
  'compute_spent'?: (number | string);
  /**
   * optional evaluation metrics by name
   */
  'eval'?: ({[key: string]: number | string});
}

/**
 * Cheap per-step values between snapshots.
 */
export interface Scalars__Output {
  'step': (number);
  'train_loss': (number);
  'learning_rate': (number);
  'samples_seen': (number);
  'compute_spent': (number);
  /**
   * optional evaluation metrics by name
   */
  'eval': ({[key: string]: number});
}
