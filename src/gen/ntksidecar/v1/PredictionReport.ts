// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Kernel-predicted loss curve and the economical sweet spot (docs/science.md A9–A12). Steps are network steps.
 */
export interface PredictionReport {
  /**
   * kernel_model_valid (R²_time ≥ 0.8, kernel model applies)
   */
  'valid'?: (boolean);
  /**
   * â of the NTK-time → step map
   */
  'time_scale'?: (number | string);
  'time_r2'?: (number | string);
  /**
   * fraction of achievable gain (ε = 0.05)
   */
  'kess_k1'?: (number | string);
  /**
   * marginal < ρ × average (default, ρ = 0.1)
   */
  'kess_k2'?: (number | string);
  /**
   * gain below a price (when configured)
   */
  'kess_k3'?: (number | string);
  /**
   * Kneedle knee (report only)
   */
  'kess_k4'?: (number | string);
  'predicted_loss_at_kess'?: (number | string);
  /**
   * L(s_t + H), H = 0.2·s_t
   */
  'loss_at_horizon'?: (number | string);
  'gain_per_step'?: (number | string);
  'gain_avg_ratio'?: (number | string);
  'gain_remaining'?: (number | string);
  /**
   * L_∞
   */
  'loss_floor'?: (number | string);
  '_kess_k1'?: "kess_k1";
  '_kess_k2'?: "kess_k2";
  '_kess_k3'?: "kess_k3";
  '_kess_k4'?: "kess_k4";
  '_predicted_loss_at_kess'?: "predicted_loss_at_kess";
  '_loss_at_horizon'?: "loss_at_horizon";
  '_gain_per_step'?: "gain_per_step";
  '_gain_avg_ratio'?: "gain_avg_ratio";
  '_gain_remaining'?: "gain_remaining";
  '_loss_floor'?: "loss_floor";
}

/**
 * Kernel-predicted loss curve and the economical sweet spot (docs/science.md A9–A12). Steps are network steps.
 */
export interface PredictionReport__Output {
  /**
   * kernel_model_valid (R²_time ≥ 0.8, kernel model applies)
   */
  'valid': (boolean);
  /**
   * â of the NTK-time → step map
   */
  'time_scale': (number);
  'time_r2': (number);
  /**
   * fraction of achievable gain (ε = 0.05)
   */
  'kess_k1'?: (number);
  /**
   * marginal < ρ × average (default, ρ = 0.1)
   */
  'kess_k2'?: (number);
  /**
   * gain below a price (when configured)
   */
  'kess_k3'?: (number);
  /**
   * Kneedle knee (report only)
   */
  'kess_k4'?: (number);
  'predicted_loss_at_kess'?: (number);
  /**
   * L(s_t + H), H = 0.2·s_t
   */
  'loss_at_horizon'?: (number);
  'gain_per_step'?: (number);
  'gain_avg_ratio'?: (number);
  'gain_remaining'?: (number);
  /**
   * L_∞
   */
  'loss_floor'?: (number);
  '_kess_k1'?: "kess_k1";
  '_kess_k2'?: "kess_k2";
  '_kess_k3'?: "kess_k3";
  '_kess_k4'?: "kess_k4";
  '_predicted_loss_at_kess'?: "predicted_loss_at_kess";
  '_loss_at_horizon'?: "loss_at_horizon";
  '_gain_per_step'?: "gain_per_step";
  '_gain_avg_ratio'?: "gain_avg_ratio";
  '_gain_remaining'?: "gain_remaining";
  '_loss_floor'?: "loss_floor";
}
