// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunSummary as _ntksidecar_v1_RunSummary, RunSummary__Output as _ntksidecar_v1_RunSummary__Output } from '../../ntksidecar/v1/RunSummary.js';

export interface ListRunsResponse {
  'runs'?: (_ntksidecar_v1_RunSummary)[];
}

export interface ListRunsResponse__Output {
  'runs': (_ntksidecar_v1_RunSummary__Output)[];
}
