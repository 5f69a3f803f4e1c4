// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunAccepted as _ntksidecar_v1_RunAccepted, RunAccepted__Output as _ntksidecar_v1_RunAccepted__Output } from '../../ntksidecar/v1/RunAccepted.js';
import type { SnapshotAck as _ntksidecar_v1_SnapshotAck, SnapshotAck__Output as _ntksidecar_v1_SnapshotAck__Output } from '../../ntksidecar/v1/SnapshotAck.js';
import type { Decision as _ntksidecar_v1_Decision, Decision__Output as _ntksidecar_v1_Decision__Output } from '../../ntksidecar/v1/Decision.js';

export interface SidecarMessage {
  'accepted'?: (_ntksidecar_v1_RunAccepted | null);
  'ack'?: (_ntksidecar_v1_SnapshotAck | null);
  'decision'?: (_ntksidecar_v1_Decision | null);
  'kind'?: "accepted"|"ack"|"decision";
}

export interface SidecarMessage__Output {
  'accepted'?: (_ntksidecar_v1_RunAccepted__Output | null);
  'ack'?: (_ntksidecar_v1_SnapshotAck__Output | null);
  'decision'?: (_ntksidecar_v1_Decision__Output | null);
  'kind'?: "accepted"|"ack"|"decision";
}
