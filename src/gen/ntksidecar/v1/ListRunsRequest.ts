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
  /**
   * Runs per page, ordered by run_id: 0 = 1000 (the default and the maximum). More is INVALID_ARGUMENT.
   */
  'page_size'?: (number);
  /**
   * next_page_token of the previous page; empty = first page.
   */
  'page_token'?: (string);
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
  /**
   * Runs per page, ordered by run_id: 0 = 1000 (the default and the maximum). More is INVALID_ARGUMENT.
   */
  'page_size': (number);
  /**
   * next_page_token of the previous page; empty = first page.
   */
  'page_token': (string);
}
