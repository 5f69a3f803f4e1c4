// Original file: proto/ntksidecar/v1/sidecar.proto


export interface CurvePoint {
  'k'?: (number);
  'value'?: (number | string);
}

export interface CurvePoint__Output {
  'k': (number);
  'value': (number);
}
