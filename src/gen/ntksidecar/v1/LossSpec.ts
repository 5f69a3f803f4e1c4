// Original file: proto/ntksidecar/v1/sidecar.proto

import type { LossKind as _ntksidecar_v1_LossKind, LossKind__Output as _ntksidecar_v1_LossKind__Output } from '../../ntksidecar/v1/LossKind.js';

export interface LossSpec {
  'kind'?: (_ntksidecar_v1_LossKind);
  /**
   * c_L of docs/science.md §0 for MSE: 1/(2N) neural-tangents, 1/N torch MSELoss(mean), 1/(2n) half-sum-mean.
   * Required (> 0) for absolute quantities (sharpness, EoS ratio, predictions) under MSE.
   */
  'scale'?: (number | string);
}

export interface LossSpec__Output {
  'kind': (_ntksidecar_v1_LossKind__Output);
  /**
   * c_L of docs/science.md §0 for MSE: 1/(2N) neural-tangents, 1/N torch MSELoss(mean), 1/(2n) half-sum-mean.
   * Required (> 0) for absolute quantities (sharpness, EoS ratio, predictions) under MSE.
   */
  'scale': (number);
}
