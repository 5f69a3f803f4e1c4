// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Kernel drift between snapshots (docs/science.md A6). Absent fields could not be computed (first snapshot, …).
 */
export interface DriftReport {
  /**
   * S(K_{t−1}, K_t) ∈ [0, 1]
   */
  'distance_prev'?: (number | string);
  /**
   * S(K_0, K_t)
   */
  'distance_init'?: (number | string);
  /**
   * S(K_{t−1}, K_t) per 1000 steps
   */
  'velocity_per_kstep'?: (number | string);
  /**
   * ‖K_t − K_0‖_F / ‖K_0‖_F
   */
  'relative_change_init'?: (number | string);
  /**
   * tr K_t / tr K_{t−1}
   */
  'trace_ratio'?: (number | string);
  /**
   * top-10 eigenspace overlap O_10 ∈ [0, 1]
   */
  'subspace_overlap'?: (number | string);
  /**
   * (PR+1)/m: distance floor of independent sketches
   */
  'sketch_floor'?: (number | string);
  /**
   * false: the pair must not be compared (sketch seed/dim or source changed)
   */
  'comparable'?: (boolean);
  '_distance_prev'?: "distance_prev";
  '_distance_init'?: "distance_init";
  '_velocity_per_kstep'?: "velocity_per_kstep";
  '_relative_change_init'?: "relative_change_init";
  '_trace_ratio'?: "trace_ratio";
  '_subspace_overlap'?: "subspace_overlap";
  '_sketch_floor'?: "sketch_floor";
}

/**
 * Kernel drift between snapshots (docs/science.md A6). Absent fields could not be computed (first snapshot, …).
 */
export interface DriftReport__Output {
  /**
   * S(K_{t−1}, K_t) ∈ [0, 1]
   */
  'distance_prev'?: (number);
  /**
   * S(K_0, K_t)
   */
  'distance_init'?: (number);
  /**
   * S(K_{t−1}, K_t) per 1000 steps
   */
  'velocity_per_kstep'?: (number);
  /**
   * ‖K_t − K_0‖_F / ‖K_0‖_F
   */
  'relative_change_init'?: (number);
  /**
   * tr K_t / tr K_{t−1}
   */
  'trace_ratio'?: (number);
  /**
   * top-10 eigenspace overlap O_10 ∈ [0, 1]
   */
  'subspace_overlap'?: (number);
  /**
   * (PR+1)/m: distance floor of independent sketches
   */
  'sketch_floor'?: (number);
  /**
   * false: the pair must not be compared (sketch seed/dim or source changed)
   */
  'comparable': (boolean);
  '_distance_prev'?: "distance_prev";
  '_distance_init'?: "distance_init";
  '_velocity_per_kstep'?: "velocity_per_kstep";
  '_relative_change_init'?: "relative_change_init";
  '_trace_ratio'?: "trace_ratio";
  '_subspace_overlap'?: "subspace_overlap";
  '_sketch_floor'?: "sketch_floor";
}
