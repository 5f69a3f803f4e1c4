// Original file: proto/ntksidecar/v1/sidecar.proto

import type { TensorKind as _ntksidecar_v1_TensorKind, TensorKind__Output as _ntksidecar_v1_TensorKind__Output } from '../../ntksidecar/v1/TensorKind.js';
import type { DType as _ntksidecar_v1_DType, DType__Output as _ntksidecar_v1_DType__Output } from '../../ntksidecar/v1/DType.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Full shape of one tensor of a snapshot.
 * JACOBIAN: rows = N, cols = P.   SKETCH: rows = N, cols = m.
 * GRAM: rows = cols = N (FULL) or n (TRACE).   LOGITS: rows = n, cols = C.
 */
export interface TensorSpec {
  'tensor'?: (_ntksidecar_v1_TensorKind);
  'dtype'?: (_ntksidecar_v1_DType);
  'rows'?: (number | string | Long);
  'cols'?: (number | string | Long);
}

/**
 * Full shape of one tensor of a snapshot.
 * JACOBIAN: rows = N, cols = P.   SKETCH: rows = N, cols = m.
 * GRAM: rows = cols = N (FULL) or n (TRACE).   LOGITS: rows = n, cols = C.
 */
export interface TensorSpec__Output {
  'tensor': (_ntksidecar_v1_TensorKind__Output);
  'dtype': (_ntksidecar_v1_DType__Output);
  'rows': (number);
  'cols': (number);
}
