// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunStart as _ntksidecar_v1_RunStart, RunStart__Output as _ntksidecar_v1_RunStart__Output } from '../../ntksidecar/v1/RunStart.js';
import type { SnapshotHeader as _ntksidecar_v1_SnapshotHeader, SnapshotHeader__Output as _ntksidecar_v1_SnapshotHeader__Output } from '../../ntksidecar/v1/SnapshotHeader.js';
import type { TensorChunk as _ntksidecar_v1_TensorChunk, TensorChunk__Output as _ntksidecar_v1_TensorChunk__Output } from '../../ntksidecar/v1/TensorChunk.js';
import type { SnapshotEnd as _ntksidecar_v1_SnapshotEnd, SnapshotEnd__Output as _ntksidecar_v1_SnapshotEnd__Output } from '../../ntksidecar/v1/SnapshotEnd.js';
import type { Scalars as _ntksidecar_v1_Scalars, Scalars__Output as _ntksidecar_v1_Scalars__Output } from '../../ntksidecar/v1/Scalars.js';
import type { RunEnd as _ntksidecar_v1_RunEnd, RunEnd__Output as _ntksidecar_v1_RunEnd__Output } from '../../ntksidecar/v1/RunEnd.js';

export interface TrainerMessage {
  'start'?: (_ntksidecar_v1_RunStart | null);
  'header'?: (_ntksidecar_v1_SnapshotHeader | null);
  'chunk'?: (_ntksidecar_v1_TensorChunk | null);
  'end'?: (_ntksidecar_v1_SnapshotEnd | null);
  'scalars'?: (_ntksidecar_v1_Scalars | null);
  'finish'?: (_ntksidecar_v1_RunEnd | null);
  'kind'?: "start"|"header"|"chunk"|"end"|"scalars"|"finish";
}

export interface TrainerMessage__Output {
  'start'?: (_ntksidecar_v1_RunStart__Output | null);
  'header'?: (_ntksidecar_v1_SnapshotHeader__Output | null);
  'chunk'?: (_ntksidecar_v1_TensorChunk__Output | null);
  'end'?: (_ntksidecar_v1_SnapshotEnd__Output | null);
  'scalars'?: (_ntksidecar_v1_Scalars__Output | null);
  'finish'?: (_ntksidecar_v1_RunEnd__Output | null);
  'kind'?: "start"|"header"|"chunk"|"end"|"scalars"|"finish";
}
