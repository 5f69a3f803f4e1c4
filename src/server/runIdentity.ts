/**
 * Limits on the strings a client names things with (issue 14 #2; docs/errors.md "Identifiers and labels").
 * Ids end up in metric labels, file names, error messages and every ListRuns reply, so they are bounded in bytes
 * and checked before anything is allocated or stored.
 *
 * grpc-js decodes proto strings with Node's UTF-8 decoder, which turns invalid bytes into U+FFFD: the raw bytes
 * are not available, so a string holding U+FFFD is refused — two different invalid ids would otherwise collide.
 */
import { Code, SidecarError } from '../errors.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';

/** Longest run_id, job_id, cohort (UTF-8 bytes). */
export const MAX_ID_BYTES = 256;
/** Most entries in RunStart.labels. */
export const MAX_LABELS = 32;
/** Longest label key / value (UTF-8 bytes). */
export const MAX_LABEL_KEY_BYTES = 64;
export const MAX_LABEL_VALUE_BYTES = 256;
/** Longest other free strings of RunStart (sample_ids_hash, policy name). */
export const MAX_TEXT_BYTES = 256;

/** Shows at most the first 64 characters of a refused string in an error message. */
export function preview(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

// U+FFFD (replaced invalid UTF-8), C0 controls and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks one string field: at most `maxBytes` of UTF-8, no U+FFFD; ids (`id: true`) also no control characters.
 * Throws INVALID_ARGUMENT naming the field, the byte length and the limit.
 */
export function checkText(field: string, value: string, maxBytes: number, opts: { id?: boolean } = {}): void {
  const bytes = Buffer.byteLength(value, 'utf8'); // O(length), and the length is bounded by the message size
  if (bytes > maxBytes) {
    throw new SidecarError(Code.INVALID_ARGUMENT, `${field} is ${bytes} bytes of UTF-8, over the limit of ${maxBytes} bytes; use a shorter value (e.g. a hash of the long name)`);
  }
  if (value.includes('\ufffd')) {
    throw new SidecarError(Code.INVALID_ARGUMENT, `${field} ${preview(value)} is not valid UTF-8 (or contains U+FFFD); send ids and labels as valid UTF-8 text`);
  }
  if (opts.id && CONTROL.test(value)) {
    throw new SidecarError(Code.INVALID_ARGUMENT, `${field} ${preview(value)} contains a control character; ids are printable text`);
  }
}

/** A run id from any RPC (empty is the caller's own check). */
export function checkRunId(field: string, id: string): void {
  checkText(field, id, MAX_ID_BYTES, { id: true });
}

/** Every string of a RunStart, before the run is created, resumed or stored. */
export function checkRunStartIdentity(start: RunStart__Output): void {
  checkRunId('RunStart.run_id', start.run_id);
  checkText('RunStart.job_id', start.job_id, MAX_ID_BYTES, { id: true });
  checkText('RunStart.cohort', start.cohort, MAX_ID_BYTES, { id: true });
  checkText('RunStart.policy', start.policy, MAX_TEXT_BYTES);
  checkText('RunStart.probe.sample_ids_hash', start.probe?.sample_ids_hash ?? '', MAX_TEXT_BYTES);
  checkText('RunStart.eval_probe.sample_ids_hash', start.eval_probe?.sample_ids_hash ?? '', MAX_TEXT_BYTES);
  const labels = Object.entries(start.labels ?? {});
  if (labels.length > MAX_LABELS) {
    throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.labels has ${labels.length} entries, over the limit of ${MAX_LABELS}; keep a few short labels and move the rest to your experiment tracker`);
  }
  for (const [key, value] of labels) {
    checkText(`RunStart.labels key ${preview(key)}`, key, MAX_LABEL_KEY_BYTES, { id: true });
    checkText(`RunStart.labels[${preview(key)}]`, value, MAX_LABEL_VALUE_BYTES);
  }
}
