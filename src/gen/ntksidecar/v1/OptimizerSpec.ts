// Original file: proto/ntksidecar/v1/sidecar.proto

import type { OptimizerKind as _ntksidecar_v1_OptimizerKind, OptimizerKind__Output as _ntksidecar_v1_OptimizerKind__Output } from '../../ntksidecar/v1/OptimizerKind.js';

export interface OptimizerSpec {
  'kind'?: (_ntksidecar_v1_OptimizerKind);
  /**
   * heavy-ball beta
   */
  'momentum'?: (number | string);
  'beta1'?: (number | string);
  'beta2'?: (number | string);
  'weight_decay'?: (number | string);
}

export interface OptimizerSpec__Output {
  'kind': (_ntksidecar_v1_OptimizerKind__Output);
  /**
   * heavy-ball beta
   */
  'momentum': (number);
  'beta1': (number);
  'beta2': (number);
  'weight_decay': (number);
}
