// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Limits a run asks for; the sidecar STOPs with REASON_BUDGET when one is spent. 0 = none.
 */
export interface Budget {
  'max_steps'?: (number | string | Long);
  /**
   * same unit as compute_spent
   */
  'max_compute'?: (number | string);
}

/**
 * Limits a run asks for; the sidecar STOPs with REASON_BUDGET when one is spent. 0 = none.
 */
export interface Budget__Output {
  'max_steps': (number);
  /**
   * same unit as compute_spent
   */
  'max_compute': (number);
}
