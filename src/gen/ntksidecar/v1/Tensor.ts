// Original file: proto/ntksidecar/v1/sidecar.proto

import type { DType as _ntksidecar_v1_DType, DType__Output as _ntksidecar_v1_DType__Output } from '../../ntksidecar/v1/DType.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A small inline tensor (targets, for example). Not for bulk data: use TensorChunk.
 */
export interface Tensor {
  'dtype'?: (_ntksidecar_v1_DType);
  /**
   * Row-major shape, e.g. [n, C] or [n].
   */
  'shape'?: (number | string | Long)[];
  /**
   * prod(shape) elements of dtype, little-endian.
   */
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * A small inline tensor (targets, for example). Not for bulk data: use TensorChunk.
 */
export interface Tensor__Output {
  'dtype': (_ntksidecar_v1_DType__Output);
  /**
   * Row-major shape, e.g. [n, C] or [n].
   */
  'shape': (number)[];
  /**
   * prod(shape) elements of dtype, little-endian.
   */
  'data': (Buffer);
}
