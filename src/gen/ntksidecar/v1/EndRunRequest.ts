// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunStatus as _ntksidecar_v1_RunStatus, RunStatus__Output as _ntksidecar_v1_RunStatus__Output } from '../../ntksidecar/v1/RunStatus.js';

export interface EndRunRequest {
  'run_id'?: (string);
  'status'?: (_ntksidecar_v1_RunStatus);
}

export interface EndRunRequest__Output {
  'run_id': (string);
  'status': (_ntksidecar_v1_RunStatus__Output);
}
