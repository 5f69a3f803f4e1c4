// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Closes a snapshot. Coverage, counts and sizes are checked here.
 */
export interface SnapshotEnd {
  'snapshot_id'?: (number | string | Long);
  /**
   * chunks sent for this snapshot (0 = not checked)
   */
  'chunk_count'?: (number);
  /**
   * sum of chunk data lengths (0 = not checked)
   */
  'total_bytes'?: (number | string | Long);
}

/**
 * Closes a snapshot. Coverage, counts and sizes are checked here.
 */
export interface SnapshotEnd__Output {
  'snapshot_id': (number);
  /**
   * chunks sent for this snapshot (0 = not checked)
   */
  'chunk_count': (number);
  /**
   * sum of chunk data lengths (0 = not checked)
   */
  'total_bytes': (number);
}
