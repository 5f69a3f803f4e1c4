// Original file: proto/ntksidecar/v1/sidecar.proto

import type { SketchKind as _ntksidecar_v1_SketchKind, SketchKind__Output as _ntksidecar_v1_SketchKind__Output } from '../../ntksidecar/v1/SketchKind.js';
import type { Long } from '@grpc/proto-loader';

export interface SketchSpec {
  'kind'?: (_ntksidecar_v1_SketchKind);
  /**
   * m, sketch columns
   */
  'dim'?: (number);
  /**
   * shared by every snapshot of a run so that sketches are comparable
   */
  'seed'?: (number | string | Long);
}

export interface SketchSpec__Output {
  'kind': (_ntksidecar_v1_SketchKind__Output);
  /**
   * m, sketch columns
   */
  'dim': (number);
  /**
   * shared by every snapshot of a run so that sketches are comparable
   */
  'seed': (number);
}
