// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Long } from '@grpc/proto-loader';

export interface RunAccepted {
  'run_id'?: (string);
  /**
   * largest chunk data accepted (bytes)
   */
  'max_chunk_bytes'?: (number | string | Long);
  /**
   * largest N accepted
   */
  'max_rows'?: (number | string | Long);
  /**
   * compute backend that runs this run's kernel products
   */
  'backend'?: (string);
  'server_version'?: (string);
  /**
   * true when run_id was already known
   */
  'resumed'?: (boolean);
  'max_snapshot_bytes'?: (number | string | Long);
}

export interface RunAccepted__Output {
  'run_id': (string);
  /**
   * largest chunk data accepted (bytes)
   */
  'max_chunk_bytes': (number);
  /**
   * largest N accepted
   */
  'max_rows': (number);
  /**
   * compute backend that runs this run's kernel products
   */
  'backend': (string);
  'server_version': (string);
  /**
   * true when run_id was already known
   */
  'resumed': (boolean);
  'max_snapshot_bytes': (number);
}
