// Original file: proto/ntksidecar/v1/sidecar.proto

export const Action = {
  ACTION_UNSPECIFIED: 'ACTION_UNSPECIFIED',
  ACTION_CONTINUE: 'ACTION_CONTINUE',
  ACTION_STOP: 'ACTION_STOP',
} as const;

export type Action =
  | 'ACTION_UNSPECIFIED'
  | 0
  | 'ACTION_CONTINUE'
  | 1
  | 'ACTION_STOP'
  | 2

export type Action__Output = typeof Action[keyof typeof Action]
