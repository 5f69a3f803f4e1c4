// Original file: proto/ntksidecar/v1/sidecar.proto

import type { ProbeSet as _ntksidecar_v1_ProbeSet, ProbeSet__Output as _ntksidecar_v1_ProbeSet__Output } from '../../ntksidecar/v1/ProbeSet.js';
import type { LossSpec as _ntksidecar_v1_LossSpec, LossSpec__Output as _ntksidecar_v1_LossSpec__Output } from '../../ntksidecar/v1/LossSpec.js';
import type { OptimizerSpec as _ntksidecar_v1_OptimizerSpec, OptimizerSpec__Output as _ntksidecar_v1_OptimizerSpec__Output } from '../../ntksidecar/v1/OptimizerSpec.js';
import type { SketchSpec as _ntksidecar_v1_SketchSpec, SketchSpec__Output as _ntksidecar_v1_SketchSpec__Output } from '../../ntksidecar/v1/SketchSpec.js';
import type { Budget as _ntksidecar_v1_Budget, Budget__Output as _ntksidecar_v1_Budget__Output } from '../../ntksidecar/v1/Budget.js';
import type { EvalProbe as _ntksidecar_v1_EvalProbe, EvalProbe__Output as _ntksidecar_v1_EvalProbe__Output } from '../../ntksidecar/v1/EvalProbe.js';
import type { Long } from '@grpc/proto-loader';

export interface RunStart {
  /**
   * Unique per run; reattaching with the same run_id resumes that run (same probe set required).
   */
  'run_id'?: (string);
  /**
   * groups the ranks of one job
   */
  'job_id'?: (string);
  'rank'?: (number);
  'world_size'?: (number);
  /**
   * groups runs of one sweep
   */
  'cohort'?: (string);
  /**
   * Free-form labels; not exported as metric labels.
   */
  'labels'?: ({[key: string]: string});
  'probe'?: (_ntksidecar_v1_ProbeSet | null);
  'loss'?: (_ntksidecar_v1_LossSpec | null);
  'optimizer'?: (_ntksidecar_v1_OptimizerSpec | null);
  /**
   * base learning rate eta
   */
  'learning_rate'?: (number | string);
  /**
   * P
   */
  'param_count'?: (number | string | Long);
  /**
   * set when TENSOR_KIND_SKETCH is sent
   */
  'sketch'?: (_ntksidecar_v1_SketchSpec | null);
  /**
   * name of a policy configured in the sidecar; empty = default
   */
  'policy'?: (string);
  'budget'?: (_ntksidecar_v1_Budget | null);
  /**
   * no STOP before this step
   */
  'warmup_steps'?: (number | string | Long);
  /**
   * M, the number of training samples; 0 = unknown. The kernel leave-one-out estimate extends the probe's hat
   * diagonal to M samples with it (docs/generalization.md G1).
   */
  'train_set_size'?: (number | string | Long);
  /**
   * Optional evaluation probe: a larger fixed subset whose logits (TENSOR_KIND_EVAL_LOGITS) are sent with snapshots.
   */
  'eval_probe'?: (_ntksidecar_v1_EvalProbe | null);
  /**
   * Label-noise standard deviation σ the run declares (regression); 0 = unknown. Enables the discrepancy principle
   * (docs/generalization.md G3).
   */
  'label_noise_sigma'?: (number | string);
}

export interface RunStart__Output {
  /**
   * Unique per run; reattaching with the same run_id resumes that run (same probe set required).
   */
  'run_id': (string);
  /**
   * groups the ranks of one job
   */
  'job_id': (string);
  'rank': (number);
  'world_size': (number);
  /**
   * groups runs of one sweep
   */
  'cohort': (string);
  /**
   * Free-form labels; not exported as metric labels.
   */
  'labels': ({[key: string]: string});
  'probe': (_ntksidecar_v1_ProbeSet__Output | null);
  'loss': (_ntksidecar_v1_LossSpec__Output | null);
  'optimizer': (_ntksidecar_v1_OptimizerSpec__Output | null);
  /**
   * base learning rate eta
   */
  'learning_rate': (number);
  /**
   * P
   */
  'param_count': (number);
  /**
   * set when TENSOR_KIND_SKETCH is sent
   */
  'sketch': (_ntksidecar_v1_SketchSpec__Output | null);
  /**
   * name of a policy configured in the sidecar; empty = default
   */
  'policy': (string);
  'budget': (_ntksidecar_v1_Budget__Output | null);
  /**
   * no STOP before this step
   */
  'warmup_steps': (number);
  /**
   * M, the number of training samples; 0 = unknown. The kernel leave-one-out estimate extends the probe's hat
   * diagonal to M samples with it (docs/generalization.md G1).
   */
  'train_set_size': (number);
  /**
   * Optional evaluation probe: a larger fixed subset whose logits (TENSOR_KIND_EVAL_LOGITS) are sent with snapshots.
   */
  'eval_probe': (_ntksidecar_v1_EvalProbe__Output | null);
  /**
   * Label-noise standard deviation σ the run declares (regression); 0 = unknown. Enables the discrepancy principle
   * (docs/generalization.md G3).
   */
  'label_noise_sigma': (number);
}
