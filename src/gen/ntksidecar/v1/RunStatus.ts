// Original file: proto/ntksidecar/v1/sidecar.proto

export const RunStatus = {
  RUN_STATUS_UNSPECIFIED: 'RUN_STATUS_UNSPECIFIED',
  RUN_STATUS_COMPLETED: 'RUN_STATUS_COMPLETED',
  /**
   * stopped because of a STOP decision
   */
  RUN_STATUS_STOPPED: 'RUN_STATUS_STOPPED',
  RUN_STATUS_FAILED: 'RUN_STATUS_FAILED',
  RUN_STATUS_CANCELLED: 'RUN_STATUS_CANCELLED',
} as const;

export type RunStatus =
  | 'RUN_STATUS_UNSPECIFIED'
  | 0
  | 'RUN_STATUS_COMPLETED'
  | 1
  /**
   * stopped because of a STOP decision
   */
  | 'RUN_STATUS_STOPPED'
  | 2
  | 'RUN_STATUS_FAILED'
  | 3
  | 'RUN_STATUS_CANCELLED'
  | 4

export type RunStatus__Output = typeof RunStatus[keyof typeof RunStatus]
