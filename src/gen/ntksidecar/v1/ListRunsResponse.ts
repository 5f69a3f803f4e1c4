// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunSummary as _ntksidecar_v1_RunSummary, RunSummary__Output as _ntksidecar_v1_RunSummary__Output } from '../../ntksidecar/v1/RunSummary.js';

export interface ListRunsResponse {
  'runs'?: (_ntksidecar_v1_RunSummary)[];
  /**
   * empty = this was the last page
   */
  'next_page_token'?: (string);
}

export interface ListRunsResponse__Output {
  'runs': (_ntksidecar_v1_RunSummary__Output)[];
  /**
   * empty = this was the last page
   */
  'next_page_token': (string);
}
