// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Gauss–Newton sharpness and the edge-of-stability ratio (docs/science.md A5).
 */
export interface StabilityReport {
  /**
   * λ_max of the Gauss–Newton matrix, from K (MSE) or K and logits (CE)
   */
  'gn_sharpness'?: (number | string);
  /**
   * θ_opt: 2/η (SGD), (2+2β)/η (momentum), (2+2β1)/((1−β1)η) (Adam)
   */
  'threshold'?: (number | string);
  /**
   * gn_sharpness / threshold
   */
  'eos_ratio'?: (number | string);
  /**
   * the kernel was Adam-preconditioned (K_P)
   */
  'preconditioned'?: (boolean);
  /**
   * "stable" (<0.5), "approaching" (<0.9), "edge" (≤1.1), "unstable"
   */
  'band'?: (string);
}

/**
 * Gauss–Newton sharpness and the edge-of-stability ratio (docs/science.md A5).
 */
export interface StabilityReport__Output {
  /**
   * λ_max of the Gauss–Newton matrix, from K (MSE) or K and logits (CE)
   */
  'gn_sharpness': (number);
  /**
   * θ_opt: 2/η (SGD), (2+2β)/η (momentum), (2+2β1)/((1−β1)η) (Adam)
   */
  'threshold': (number);
  /**
   * gn_sharpness / threshold
   */
  'eos_ratio': (number);
  /**
   * the kernel was Adam-preconditioned (K_P)
   */
  'preconditioned': (boolean);
  /**
   * "stable" (<0.5), "approaching" (<0.9), "edge" (≤1.1), "unstable"
   */
  'band': (string);
}
