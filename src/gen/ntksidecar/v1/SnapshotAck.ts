// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotAck {
  'snapshot_id'?: (number | string | Long);
  'accepted'?: (boolean);
  /**
   * google.rpc.Code; 0 = OK
   */
  'code'?: (number);
  /**
   * what was wrong, with the numbers, and what to do next
   */
  'message'?: (string);
}

export interface SnapshotAck__Output {
  'snapshot_id': (number);
  'accepted': (boolean);
  /**
   * google.rpc.Code; 0 = OK
   */
  'code': (number);
  /**
   * what was wrong, with the numbers, and what to do next
   */
  'message': (string);
}
