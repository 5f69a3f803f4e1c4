// Original file: proto/ntksidecar/v1/sidecar.proto

import type { TensorKind as _ntksidecar_v1_TensorKind, TensorKind__Output as _ntksidecar_v1_TensorKind__Output } from '../../ntksidecar/v1/TensorKind.js';
import type { DType as _ntksidecar_v1_DType, DType__Output as _ntksidecar_v1_DType__Output } from '../../ntksidecar/v1/DType.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One block of a tensor. JACOBIAN/SKETCH: all `rows` (= N) rows x `cols` columns starting at column
 * `offset`, row-major inside the block; blocks in any order, every column exactly once.
 * GRAM/LOGITS: `rows` whole rows starting at row `offset` (cols = the tensor's cols).
 * data holds rows*cols elements of dtype (the TensorSpec's dtype). SHOULD be <= 4 MiB.
 */
export interface TensorChunk {
  'snapshot_id'?: (number | string | Long);
  'tensor'?: (_ntksidecar_v1_TensorKind);
  'offset'?: (number | string | Long);
  'rows'?: (number | string | Long);
  'cols'?: (number | string | Long);
  'dtype'?: (_ntksidecar_v1_DType);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * CRC-32C (Castagnoli) of data; 0 = not checked
   */
  'crc32c'?: (number);
}

/**
 * One block of a tensor. JACOBIAN/SKETCH: all `rows` (= N) rows x `cols` columns starting at column
 * `offset`, row-major inside the block; blocks in any order, every column exactly once.
 * GRAM/LOGITS: `rows` whole rows starting at row `offset` (cols = the tensor's cols).
 * data holds rows*cols elements of dtype (the TensorSpec's dtype). SHOULD be <= 4 MiB.
 */
export interface TensorChunk__Output {
  'snapshot_id': (number);
  'tensor': (_ntksidecar_v1_TensorKind__Output);
  'offset': (number);
  'rows': (number);
  'cols': (number);
  'dtype': (_ntksidecar_v1_DType__Output);
  'data': (Buffer);
  /**
   * CRC-32C (Castagnoli) of data; 0 = not checked
   */
  'crc32c': (number);
}
