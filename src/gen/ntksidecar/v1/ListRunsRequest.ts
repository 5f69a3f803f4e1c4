// Original file: proto/ntksidecar/v1/sidecar.proto


export interface ListRunsRequest {
  /**
   * filter; empty = all
   */
  'job_id'?: (string);
  /**
   * filter; empty = all
   */
  'cohort'?: (string);
}

export interface ListRunsRequest__Output {
  /**
   * filter; empty = all
   */
  'job_id': (string);
  /**
   * filter; empty = all
   */
  'cohort': (string);
}
