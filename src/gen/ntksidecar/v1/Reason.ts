// Original file: proto/ntksidecar/v1/sidecar.proto

export const Reason = {
  REASON_UNSPECIFIED: 'REASON_UNSPECIFIED',
  /**
   * before the warm-up step or the first snapshots
   */
  REASON_WARMUP: 'REASON_WARMUP',
  /**
   * no kernel-bearing snapshot yet
   */
  REASON_NO_DATA: 'REASON_NO_DATA',
  /**
   * the economical sweet spot is still ahead
   */
  REASON_BEFORE_KESS: 'REASON_BEFORE_KESS',
  /**
   * marginal gain has fallen past the sweet spot (STOP)
   */
  REASON_KESS_REACHED: 'REASON_KESS_REACHED',
  /**
   * past KESS but the horizon gain is still large
   */
  REASON_LARGE_PREDICTED_GAIN: 'REASON_LARGE_PREDICTED_GAIN',
  /**
   * one STOP vote; waiting for the next to confirm
   */
  REASON_STOP_PENDING: 'REASON_STOP_PENDING',
  /**
   * the kernel is still moving
   */
  REASON_FEATURE_LEARNING: 'REASON_FEATURE_LEARNING',
  /**
   * inside a loss spike / catapult
   */
  REASON_CATAPULT: 'REASON_CATAPULT',
  /**
   * flat loss with a moving kernel
   */
  REASON_LOADED_PLATEAU: 'REASON_LOADED_PLATEAU',
  /**
   * edge-of-stability ratio above 1.1
   */
  REASON_UNSTABLE: 'REASON_UNSTABLE',
  /**
   * non-finite loss or data (STOP)
   */
  REASON_DIVERGED: 'REASON_DIVERGED',
  /**
   * a configured step or compute budget is spent (STOP)
   */
  REASON_BUDGET: 'REASON_BUDGET',
  /**
   * decided by job or cohort policy
   */
  REASON_COHORT: 'REASON_COHORT',
  /**
   * set by an operator
   */
  REASON_MANUAL: 'REASON_MANUAL',
  /**
   * kernel available; stopping analysis not enabled or not yet decisive
   */
  REASON_COLLECTING: 'REASON_COLLECTING',
  /**
   * the generalisation estimate is still predicted to improve (docs/generalization.md G5)
   */
  REASON_GENERALIZATION_GAIN: 'REASON_GENERALIZATION_GAIN',
  /**
   * the generalisation estimate has stopped paying (STOP; docs/generalization.md G5)
   */
  REASON_GENERALIZATION_SATURATED: 'REASON_GENERALIZATION_SATURATED',
} as const;

export type Reason =
  | 'REASON_UNSPECIFIED'
  | 0
  /**
   * before the warm-up step or the first snapshots
   */
  | 'REASON_WARMUP'
  | 1
  /**
   * no kernel-bearing snapshot yet
   */
  | 'REASON_NO_DATA'
  | 2
  /**
   * the economical sweet spot is still ahead
   */
  | 'REASON_BEFORE_KESS'
  | 3
  /**
   * marginal gain has fallen past the sweet spot (STOP)
   */
  | 'REASON_KESS_REACHED'
  | 4
  /**
   * past KESS but the horizon gain is still large
   */
  | 'REASON_LARGE_PREDICTED_GAIN'
  | 5
  /**
   * one STOP vote; waiting for the next to confirm
   */
  | 'REASON_STOP_PENDING'
  | 6
  /**
   * the kernel is still moving
   */
  | 'REASON_FEATURE_LEARNING'
  | 7
  /**
   * inside a loss spike / catapult
   */
  | 'REASON_CATAPULT'
  | 8
  /**
   * flat loss with a moving kernel
   */
  | 'REASON_LOADED_PLATEAU'
  | 9
  /**
   * edge-of-stability ratio above 1.1
   */
  | 'REASON_UNSTABLE'
  | 10
  /**
   * non-finite loss or data (STOP)
   */
  | 'REASON_DIVERGED'
  | 11
  /**
   * a configured step or compute budget is spent (STOP)
   */
  | 'REASON_BUDGET'
  | 12
  /**
   * decided by job or cohort policy
   */
  | 'REASON_COHORT'
  | 13
  /**
   * set by an operator
   */
  | 'REASON_MANUAL'
  | 14
  /**
   * kernel available; stopping analysis not enabled or not yet decisive
   */
  | 'REASON_COLLECTING'
  | 15
  /**
   * the generalisation estimate is still predicted to improve (docs/generalization.md G5)
   */
  | 'REASON_GENERALIZATION_GAIN'
  | 16
  /**
   * the generalisation estimate has stopped paying (STOP; docs/generalization.md G5)
   */
  | 'REASON_GENERALIZATION_SATURATED'
  | 17

export type Reason__Output = typeof Reason[keyof typeof Reason]
