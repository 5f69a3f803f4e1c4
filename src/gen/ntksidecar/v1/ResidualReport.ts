// Original file: proto/ntksidecar/v1/sidecar.proto

import type { CurvePoint as _ntksidecar_v1_CurvePoint, CurvePoint__Output as _ntksidecar_v1_CurvePoint__Output } from '../../ntksidecar/v1/CurvePoint.js';

/**
 * Residual projections onto the kernel's eigenvectors (docs/science.md A8), on the full kernel.
 */
export interface ResidualReport {
  /**
   * E_k: residual energy in the top-k eigenvectors
   */
  'topk'?: (_ntksidecar_v1_CurvePoint)[];
  /**
   * rᵀKr/‖r‖²: the eigenvalue currently being learned
   */
  'rayleigh'?: (number | string);
  'residual_norm'?: (number | string);
  'learned_modes'?: (number | string);
  /**
   * g_lin: ≤ 0.1 lazy, > 0.3 the kernel model is not valid
   */
  'linearization_gap'?: (number | string);
  '_learned_modes'?: "learned_modes";
  '_linearization_gap'?: "linearization_gap";
}

/**
 * Residual projections onto the kernel's eigenvectors (docs/science.md A8), on the full kernel.
 */
export interface ResidualReport__Output {
  /**
   * E_k: residual energy in the top-k eigenvectors
   */
  'topk': (_ntksidecar_v1_CurvePoint__Output)[];
  /**
   * rᵀKr/‖r‖²: the eigenvalue currently being learned
   */
  'rayleigh': (number);
  'residual_norm': (number);
  'learned_modes'?: (number);
  /**
   * g_lin: ≤ 0.1 lazy, > 0.3 the kernel model is not valid
   */
  'linearization_gap'?: (number);
  '_learned_modes'?: "learned_modes";
  '_linearization_gap'?: "linearization_gap";
}
