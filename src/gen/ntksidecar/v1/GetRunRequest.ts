// Original file: proto/ntksidecar/v1/sidecar.proto


export interface GetRunRequest {
  'run_id'?: (string);
}

export interface GetRunRequest__Output {
  'run_id': (string);
}
