// Original file: proto/ntksidecar/v1/sidecar.proto


/**
 * Regime and event detectors (docs/science.md A13): the guards of the decision.
 */
export interface DetectorReport {
  'loss_spike'?: (boolean);
  'catapult_in_progress'?: (boolean);
  'catapult_confirmed'?: (boolean);
  'edge_of_stability'?: (boolean);
  'imminent_instability'?: (boolean);
  'progressive_sharpening'?: (boolean);
  'plateau'?: (boolean);
  'loaded_plateau'?: (boolean);
  'kernel_moving'?: (boolean);
  'kernel_frozen'?: (boolean);
  /**
   * "lazy", "rich" or "unknown"
   */
  'regime'?: (string);
  /**
   * catapults confirmed so far in the run
   */
  'catapult_events'?: (number);
}

/**
 * Regime and event detectors (docs/science.md A13): the guards of the decision.
 */
export interface DetectorReport__Output {
  'loss_spike': (boolean);
  'catapult_in_progress': (boolean);
  'catapult_confirmed': (boolean);
  'edge_of_stability': (boolean);
  'imminent_instability': (boolean);
  'progressive_sharpening': (boolean);
  'plateau': (boolean);
  'loaded_plateau': (boolean);
  'kernel_moving': (boolean);
  'kernel_frozen': (boolean);
  /**
   * "lazy", "rich" or "unknown"
   */
  'regime': (string);
  /**
   * catapults confirmed so far in the run
   */
  'catapult_events': (number);
}
