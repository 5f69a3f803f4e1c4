/**
 * Unexpected failures reach clients as a generic INTERNAL with a reference (docs/errors.md); the detail goes to the log
 * under the same reference. One counter for streams, unary calls and pages.
 */
let refs = 0;

/** A short reference that ties a client's INTERNAL to the log line holding the detail. */
export function errorRef(): string {
  return `ref ${process.pid}-${++refs}`;
}

/** What a client is told about an unexpected failure. */
export function internalErrorDetails(ref: string): string {
  return `internal error (${ref}); the sidecar logged the details — report them, then retry with backoff`;
}
