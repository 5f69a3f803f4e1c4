/**
 * One error type with a closed code set (the connect-es convention). Codes are google.rpc.Code numbers so
 * the gRPC edge maps them 1:1 without importing @grpc/grpc-js here; the catalogue is docs/errors.md.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

export function codeName(code: number): string {
  return codeNames.get(code) ?? `CODE_${code}`;
}

/** Where a fault lands: `snapshot` rejects one snapshot and the stream goes on; `stream` ends the stream. */
export type ErrorScope = 'snapshot' | 'stream';

export class SidecarError extends Error {
  override readonly name = 'SidecarError';
  constructor(
    readonly code: Code,
    message: string,
    readonly scope: ErrorScope = 'stream',
  ) {
    super(message);
  }
}

/** Shorthand for a snapshot-level fault: the snapshot is rejected with an ack, the run goes on. */
export function snapshotError(code: Code, message: string): SidecarError {
  return new SidecarError(code, message, 'snapshot');
}
