// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Action as _ntksidecar_v1_Action, Action__Output as _ntksidecar_v1_Action__Output } from '../../ntksidecar/v1/Action.js';
import type { Reason as _ntksidecar_v1_Reason, Reason__Output as _ntksidecar_v1_Reason__Output } from '../../ntksidecar/v1/Reason.js';
import type { Long } from '@grpc/proto-loader';

export interface RunSummary {
  'run_id'?: (string);
  'job_id'?: (string);
  'cohort'?: (string);
  'rank'?: (number);
  'state'?: (string);
  'last_step'?: (number | string | Long);
  'action'?: (_ntksidecar_v1_Action);
  'reason'?: (_ntksidecar_v1_Reason);
}

export interface RunSummary__Output {
  'run_id': (string);
  'job_id': (string);
  'cohort': (string);
  'rank': (number);
  'state': (string);
  'last_step': (number);
  'action': (_ntksidecar_v1_Action__Output);
  'reason': (_ntksidecar_v1_Reason__Output);
}
