/**
 * The recording format (docs/design.md §4): what the sidecar received for one run, compactly, so that any policy can
 * be replayed on it offline. One JSON object per line, gzip-compressed: a header (RunStart, the policy that decided,
 * the analysis settings), then every accepted snapshot and every Scalars message in arrival order. A snapshot keeps
 * the kernel the sidecar assembled (the sufficient statistic of its Jacobian, sketch or Gram chunks: the upper
 * triangle in float64, so a replay is exact) and its logits. Binary arrays travel as base64 of little-endian bytes.
 */
import type { KernelReduction } from '../kernel/kernelAccumulator.js';
import type { Policy } from '../policy/policy.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';

export const RECORDING_FORMAT = 'ntk-sidecar-recording';
/** Bumped on any change a replay of an older file could misread; older files are refused with this number. */
export const RECORDING_VERSION = 1;
export const RECORDING_SUFFIX = '.ntkrec.jsonl.gz';

export interface RecordingHeader {
  type: 'header';
  format: typeof RECORDING_FORMAT;
  version: number;
  sidecarVersion: string;
  start: RunStart__Output;
  /** The policy the server decided with (replay uses it unless told otherwise); null in a client's recording. */
  policy: Policy | null;
  /** Analysis settings of the recording sidecar (docs/science.md A0/A1). */
  analysis: { backend: string; exactMax: number; topK: number };
}

export interface RecordedKernel {
  kind: string;
  dtype: string;
  reduction: KernelReduction;
  size: number;
  data: Float64Array;
}

export interface RecordedSnapshot {
  type: 'snapshot';
  snapshotId: number;
  step: number;
  trainLoss: number;
  learningRate: number;
  preconditioned: boolean;
  computeSpent: number;
  kernel?: RecordedKernel;
  logits?: Float64Array;
  evalLogits?: Float64Array;
}

export interface RecordedScalars {
  type: 'scalars';
  step: number;
  trainLoss: number;
  computeSpent: number;
}

export type RecordedEvent = RecordedSnapshot | RecordedScalars;

export interface Recording {
  header: RecordingHeader;
  events: RecordedEvent[];
}

export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

function b64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function f64(text: string, where: string, count?: number): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 8 !== 0 || (count !== undefined && bytes.byteLength !== 8 * count)) {
    throw new RecordingError(`${where}: ${bytes.byteLength} bytes, expected ${count === undefined ? 'a multiple of 8' : 8 * count}`);
  }
  // Copy into an aligned buffer: a Buffer may start at any byte offset of its pool.
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The upper triangle (i ≤ j) of a symmetric n×n matrix, row by row: n(n+1)/2 values. */
function upper(k: Float64Array, n: number): Float64Array {
  const out = new Float64Array((n * (n + 1)) / 2);
  let o = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) out[o++] = k[i * n + j];
  return out;
}

function symmetric(u: Float64Array, n: number): Float64Array {
  const k = new Float64Array(n * n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      k[i * n + j] = u[o];
      k[j * n + i] = u[o++];
    }
  }
  return k;
}

/**
 * JSON has no NaN or ±Infinity (a diverged loss is a finding worth replaying): they travel as {"$num": "NaN"}.
 * Bytes fields (RunStart's targets) travel as {"$b64": …}; Buffer.toJSON runs before a replacer, so read `this[key]`.
 */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return { $b64: Buffer.from(raw).toString('base64') };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const v = value as { $b64?: unknown; $num?: unknown };
    if (typeof v.$b64 === 'string') return Buffer.from(v.$b64, 'base64');
    if (typeof v.$num === 'string') return Number(v.$num);
  }
  return value;
}

export function encodeHeader(header: RecordingHeader): string {
  return JSON.stringify(header, replacer) + '\n';
}

export function encodeEvent(event: RecordedEvent): string {
  if (event.type === 'scalars') return JSON.stringify(event, replacer) + '\n';
  const { kernel, logits, evalLogits, ...rest } = event;
  return JSON.stringify({
    ...rest,
    kernel: kernel && { kind: kernel.kind, dtype: kernel.dtype, reduction: kernel.reduction, size: kernel.size, upper: b64(upper(kernel.data, kernel.size)) },
    logits: logits && b64(logits),
    evalLogits: evalLogits && b64(evalLogits),
  }, replacer) + '\n';
}

/** Parses a whole (decompressed) recording; refuses other formats and versions with what to do instead. */
export function decodeRecording(text: string, where: string): Recording {
  const lines = text.split('\n');
  // A line without its newline was cut off by a crash mid-write: drop it.
  if (!text.endsWith('\n')) lines.pop();
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new RecordingError(`${where}: empty recording`);
  const parse = (line: string, i: number): Record<string, unknown> => {
    try {
      return JSON.parse(line, reviver) as Record<string, unknown>;
    } catch (err) {
      throw new RecordingError(`${where}: line ${i + 1} is not JSON (${(err as Error).message}); the file is truncated or not a recording`);
    }
  };
  const header = parse(lines[0], 0);
  if (header.type !== 'header' || header.format !== RECORDING_FORMAT) {
    throw new RecordingError(`${where}: not an ntk-sidecar recording (first line has format ${JSON.stringify(header.format)}); record runs with \`ntk-sidecar serve --record-dir DIR\` or the Python client's \`record_dir=\``);
  }
  if (header.version !== RECORDING_VERSION) {
    throw new RecordingError(
      `${where}: recording format version ${String(header.version)} (written by ntk-sidecar ${String(header.sidecarVersion)}); this ntk-sidecar reads version ${RECORDING_VERSION} only — replay it with the version that wrote it`,
    );
  }
  const events: RecordedEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const e = parse(lines[i], i);
    if (e.type === 'header') continue; // a resumed run appends a new gzip member that starts with its header
    if (e.type === 'scalars') {
      events.push(e as unknown as RecordedScalars);
      continue;
    }
    if (e.type !== 'snapshot') throw new RecordingError(`${where}: line ${i + 1} has unknown type ${JSON.stringify(e.type)}`);
    const s = e as unknown as Omit<RecordedSnapshot, 'kernel' | 'logits' | 'evalLogits'> & {
      kernel?: Omit<RecordedKernel, 'data'> & { upper: string };
      logits?: string;
      evalLogits?: string;
    };
    const at = `${where}: snapshot ${s.snapshotId}`;
    events.push({
      ...s,
      kernel: s.kernel && {
        kind: s.kernel.kind,
        dtype: s.kernel.dtype,
        reduction: s.kernel.reduction,
        size: s.kernel.size,
        data: symmetric(f64(s.kernel.upper, `${at} kernel`, (s.kernel.size * (s.kernel.size + 1)) / 2), s.kernel.size),
      },
      logits: s.logits === undefined ? undefined : f64(s.logits, `${at} logits`),
      evalLogits: s.evalLogits === undefined ? undefined : f64(s.evalLogits, `${at} eval logits`),
    });
  }
  return { header: header as unknown as RecordingHeader, events };
}
