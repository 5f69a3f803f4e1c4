// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Action as _ntksidecar_v1_Action, Action__Output as _ntksidecar_v1_Action__Output } from '../../ntksidecar/v1/Action.js';
import type { Reason as _ntksidecar_v1_Reason, Reason__Output as _ntksidecar_v1_Reason__Output } from '../../ntksidecar/v1/Reason.js';
import type { Long } from '@grpc/proto-loader';

export interface Decision {
  'run_id'?: (string);
  'job_id'?: (string);
  'snapshot_id'?: (number | string | Long);
  'step'?: (number | string | Long);
  'action'?: (_ntksidecar_v1_Action);
  /**
   * false in shadow mode: the trainer should log, not stop
   */
  'enforced'?: (boolean);
  'reason'?: (_ntksidecar_v1_Reason);
  /**
   * one human sentence
   */
  'detail'?: (string);
  /**
   * the values the decision used
   */
  'evidence'?: ({[key: string]: number | string});
  /**
   * predicted economical sweet spot, in network steps
   */
  'kess_step'?: (number | string);
  'predicted_loss_at_kess'?: (number | string);
  /**
   * policy that decided
   */
  'policy'?: (string);
  'decided_at_unix_ms'?: (number | string | Long);
  '_kess_step'?: "kess_step";
  '_predicted_loss_at_kess'?: "predicted_loss_at_kess";
}

export interface Decision__Output {
  'run_id': (string);
  'job_id': (string);
  'snapshot_id': (number);
  'step': (number);
  'action': (_ntksidecar_v1_Action__Output);
  /**
   * false in shadow mode: the trainer should log, not stop
   */
  'enforced': (boolean);
  'reason': (_ntksidecar_v1_Reason__Output);
  /**
   * one human sentence
   */
  'detail': (string);
  /**
   * the values the decision used
   */
  'evidence': ({[key: string]: number});
  /**
   * predicted economical sweet spot, in network steps
   */
  'kess_step'?: (number);
  'predicted_loss_at_kess'?: (number);
  /**
   * policy that decided
   */
  'policy': (string);
  'decided_at_unix_ms': (number);
  '_kess_step'?: "kess_step";
  '_predicted_loss_at_kess'?: "predicted_loss_at_kess";
}
