// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Estimates of generalisation that need no validation split (docs/generalization.md G1–G4). Absent fields could not be
 * computed (no targets, no eval probe, regression vs classification).
 */
export interface GeneralizationReport {
  /**
   * kernel leave-one-out accuracy of the kernel-GD predictor (G1)
   */
  'loo_accuracy'?: (number | string);
  /**
   * kernel leave-one-out mean squared error (G1)
   */
  'loo_error'?: (number | string);
  /**
   * generalised cross-validation error (G1; inconsistent along the GD path)
   */
  'gcv_error'?: (number | string);
  /**
   * gradient coherence T = ρᵀKρ / ρᵀDρ (G2)
   */
  'coherence'?: (number | string);
  /**
   * ‖ρ‖²/(n·σ²): the discrepancy principle stops at ≤ 1 (G3)
   */
  'discrepancy'?: (number | string);
  /**
   * accuracy on the evaluation probe (G4)
   */
  'eval_accuracy'?: (number | string);
  /**
   * mean logit margin on the evaluation probe (G4)
   */
  'eval_margin'?: (number | string);
  /**
   * fraction of evaluation-probe predictions changed since the last snapshot (G4)
   */
  'eval_changed'?: (number | string);
  /**
   * first local minimum of the smoothed prediction-change curve (G4)
   */
  'label_wave_step'?: (number | string);
  /**
   * the evaluation probe is held out (not trained on)
   */
  'held_out'?: (boolean);
  '_loo_accuracy'?: "loo_accuracy";
  '_loo_error'?: "loo_error";
  '_gcv_error'?: "gcv_error";
  '_coherence'?: "coherence";
  '_discrepancy'?: "discrepancy";
  '_eval_accuracy'?: "eval_accuracy";
  '_eval_margin'?: "eval_margin";
  '_eval_changed'?: "eval_changed";
  '_label_wave_step'?: "label_wave_step";
}

/**
 * Estimates of generalisation that need no validation split (docs/generalization.md G1–G4). Absent fields could not be
 * computed (no targets, no eval probe, regression vs classification).
 */
export interface GeneralizationReport__Output {
  /**
   * kernel leave-one-out accuracy of the kernel-GD predictor (G1)
   */
  'loo_accuracy'?: (number);
  /**
   * kernel leave-one-out mean squared error (G1)
   */
  'loo_error'?: (number);
  /**
   * generalised cross-validation error (G1; inconsistent along the GD path)
   */
  'gcv_error'?: (number);
  /**
   * gradient coherence T = ρᵀKρ / ρᵀDρ (G2)
   */
  'coherence'?: (number);
  /**
   * ‖ρ‖²/(n·σ²): the discrepancy principle stops at ≤ 1 (G3)
   */
  'discrepancy'?: (number);
  /**
   * accuracy on the evaluation probe (G4)
   */
  'eval_accuracy'?: (number);
  /**
   * mean logit margin on the evaluation probe (G4)
   */
  'eval_margin'?: (number);
  /**
   * fraction of evaluation-probe predictions changed since the last snapshot (G4)
   */
  'eval_changed'?: (number);
  /**
   * first local minimum of the smoothed prediction-change curve (G4)
   */
  'label_wave_step'?: (number);
  /**
   * the evaluation probe is held out (not trained on)
   */
  'held_out': (boolean);
  '_loo_accuracy'?: "loo_accuracy";
  '_loo_error'?: "loo_error";
  '_gcv_error'?: "gcv_error";
  '_coherence'?: "coherence";
  '_discrepancy'?: "discrepancy";
  '_eval_accuracy'?: "eval_accuracy";
  '_eval_margin'?: "eval_margin";
  '_eval_changed'?: "eval_changed";
  '_label_wave_step'?: "label_wave_step";
}
