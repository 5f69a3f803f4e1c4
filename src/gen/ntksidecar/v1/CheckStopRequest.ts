// Original file: proto/ntksidecar/v1/sidecar.proto


export interface CheckStopRequest {
  'run_id'?: (string);
  'job_id'?: (string);
}

export interface CheckStopRequest__Output {
  'run_id': (string);
  'job_id': (string);
}
