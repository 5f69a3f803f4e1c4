// Original file: proto/ntksidecar/v1/sidecar.proto

import type { Decision as _ntksidecar_v1_Decision, Decision__Output as _ntksidecar_v1_Decision__Output } from '../../ntksidecar/v1/Decision.js';

export interface EndRunResponse {
  'run_id'?: (string);
  'existed'?: (boolean);
  'last_decision'?: (_ntksidecar_v1_Decision | null);
}

export interface EndRunResponse__Output {
  'run_id': (string);
  'existed': (boolean);
  'last_decision': (_ntksidecar_v1_Decision__Output | null);
}
