// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Spectrum summary of one kernel (docs/science.md A1–A4).
 */
export interface SpectrumReport {
  /**
   * "full" (N x N) or "traced" (n x n)
   */
  'kernel'?: (string);
  /**
   * matrix order
   */
  'size'?: (number);
  /**
   * "exact" or "lanczos"
   */
  'solver'?: (string);
  'trace'?: (number | string);
  /**
   * trace / size
   */
  'trace_per_output'?: (number | string);
  'lambda_max'?: (number | string);
  /**
   * top eigenvalues, descending (at most 20), raw
   */
  'eigenvalues'?: (number | string)[];
  /**
   * eigenvalues / n
   */
  'eigenvalues_normalized'?: (number | string)[];
  'numerical_rank'?: (number);
  'rank_deficiency'?: (number);
  /**
   * eigenvalues below are numerically zero
   */
  'tolerance'?: (number | string);
  /**
   * lambda_1 / lambda_{r_num}
   */
  'condition_pos'?: (number | string);
  /**
   * (lambda_1 + delta)/(lambda_N + delta)
   */
  'condition_reg'?: (number | string);
  /**
   * s in lambda_i ~ A i^-s; NaN when the window is too short
   */
  'decay_exponent'?: (number | string);
  'decay_r2'?: (number | string);
  'decay_window_lo'?: (number);
  'decay_window_hi'?: (number);
  'decay_max_abs_residual'?: (number | string);
  /**
   * density exponent alpha (Hill/CSN)
   */
  'esd_alpha'?: (number | string);
  /**
   * KS distance of the density fit
   */
  'esd_ks'?: (number | string);
  'esd_xmin'?: (number | string);
  'effective_rank_entropy'?: (number | string);
  'effective_rank_participation'?: (number | string);
  'effective_rank_stable'?: (number | string);
  /**
   * largest ||K v - lambda v|| / lambda_1 of the reported pairs
   */
  'max_residual'?: (number | string);
  /**
   * eigenpairs computed (all for exact, k for lanczos)
   */
  'computed_pairs'?: (number);
}

/**
 * Spectrum summary of one kernel (docs/science.md A1–A4).
 */
export interface SpectrumReport__Output {
  /**
   * "full" (N x N) or "traced" (n x n)
   */
  'kernel': (string);
  /**
   * matrix order
   */
  'size': (number);
  /**
   * "exact" or "lanczos"
   */
  'solver': (string);
  'trace': (number);
  /**
   * trace / size
   */
  'trace_per_output': (number);
  'lambda_max': (number);
  /**
   * top eigenvalues, descending (at most 20), raw
   */
  'eigenvalues': (number)[];
  /**
   * eigenvalues / n
   */
  'eigenvalues_normalized': (number)[];
  'numerical_rank': (number);
  'rank_deficiency': (number);
  /**
   * eigenvalues below are numerically zero
   */
  'tolerance': (number);
  /**
   * lambda_1 / lambda_{r_num}
   */
  'condition_pos': (number);
  /**
   * (lambda_1 + delta)/(lambda_N + delta)
   */
  'condition_reg': (number);
  /**
   * s in lambda_i ~ A i^-s; NaN when the window is too short
   */
  'decay_exponent': (number);
  'decay_r2': (number);
  'decay_window_lo': (number);
  'decay_window_hi': (number);
  'decay_max_abs_residual': (number);
  /**
   * density exponent alpha (Hill/CSN)
   */
  'esd_alpha': (number);
  /**
   * KS distance of the density fit
   */
  'esd_ks': (number);
  'esd_xmin': (number);
  'effective_rank_entropy': (number);
  'effective_rank_participation': (number);
  'effective_rank_stable': (number);
  /**
   * largest ||K v - lambda v|| / lambda_1 of the reported pairs
   */
  'max_residual': (number);
  /**
   * eigenpairs computed (all for exact, k for lanczos)
   */
  'computed_pairs': (number);
}
