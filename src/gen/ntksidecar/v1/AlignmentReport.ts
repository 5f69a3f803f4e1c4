// Original file: proto/ntksidecar/v1/sidecar.proto

import type { CurvePoint as _ntksidecar_v1_CurvePoint, CurvePoint__Output as _ntksidecar_v1_CurvePoint__Output } from '../../ntksidecar/v1/CurvePoint.js';

/**
 * Kernel–target alignment (docs/science.md A7), on the traced kernel.
 */
export interface AlignmentReport {
  'uncentered'?: (number | string);
  'centered'?: (number | string);
  /**
   * spectral alignment a_k
   */
  'curve'?: (_ntksidecar_v1_CurvePoint)[];
}

/**
 * Kernel–target alignment (docs/science.md A7), on the traced kernel.
 */
export interface AlignmentReport__Output {
  'uncentered': (number);
  'centered': (number);
  /**
   * spectral alignment a_k
   */
  'curve': (_ntksidecar_v1_CurvePoint__Output)[];
}
