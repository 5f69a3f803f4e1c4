/**
 * `serve --record-dir DIR`: appends what each run sends to DIR/<run file name>.ntkrec.jsonl.gz (format: recording.ts).
 * A reattached run appends a new gzip member (a gzip file may hold several), so a recording spans restarts of the
 * trainer. Recording never costs a run: a write error is logged once per run and recording of that run stops.
 */
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, createGzip, gunzipSync, type Gzip } from 'node:zlib';
import { fileName } from '../store/runStore.js';
import type { Policy } from '../policy/policy.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';
import type { SnapshotPlan } from '../worker/protocol.js';
import {
  RECORDING_FORMAT,
  RECORDING_SUFFIX,
  RECORDING_VERSION,
  RecordingError,
  decodeRecording,
  encodeEvent,
  encodeHeader,
  type RecordedSnapshot,
  type Recording,
} from './recording.js';

interface RecordedRun {
  id: string;
  start: RunStart__Output;
  policy: Policy;
}

export interface SnapshotToRecord extends Omit<RecordedSnapshot, 'type' | 'kernel'> {
  plan: SnapshotPlan;
  kernel?: { data: Float64Array; size: number };
}

export class RunRecorder {
  private readonly open = new Map<string, Gzip>();

  constructor(
    private readonly dir: string,
    private readonly analysis: { backend: string; exactMax: number; topK: number; sidecarVersion: string },
    private readonly log: (message: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The file a run is recorded in. */
  pathOf(runId: string): string {
    return join(this.dir, fileName(runId, RECORDING_SUFFIX));
  }

  /** At RunStart (new or resumed): opens the run's gzip member with a header. */
  attach(run: RecordedRun): void {
    this.detach(run.id);
    const gzip = createGzip();
    const file = createWriteStream(this.pathOf(run.id), { flags: 'a' });
    const fail = (err: Error) => {
      if (this.open.get(run.id) !== gzip) return;
      this.open.delete(run.id);
      this.log(`recording of run ${run.id} stopped: ${err.message}`);
    };
    gzip.on('error', fail);
    file.on('error', fail);
    gzip.pipe(file);
    this.open.set(run.id, gzip);
    const { backend, exactMax, topK, sidecarVersion } = this.analysis;
    gzip.write(encodeHeader({ type: 'header', format: RECORDING_FORMAT, version: RECORDING_VERSION, sidecarVersion, start: run.start, policy: run.policy, analysis: { backend, exactMax, topK } }));
  }

  snapshot(run: RecordedRun, s: SnapshotToRecord): void {
    const { plan, kernel, ...rest } = s;
    this.open.get(run.id)?.write(
      encodeEvent({
        type: 'snapshot',
        ...rest,
        kernel: kernel && plan.kernel && { kind: plan.kernel.kind, dtype: plan.kernel.dtype, reduction: plan.reduction, size: kernel.size, data: kernel.data },
      }),
    );
  }

  scalars(run: RecordedRun, s: { step: number; trainLoss: number; computeSpent: number }): void {
    this.open.get(run.id)?.write(encodeEvent({ type: 'scalars', ...s }));
  }

  /** The stream is gone: closes the run's gzip member (flushed to disk asynchronously). */
  detach(runId: string): void {
    const gzip = this.open.get(runId);
    this.open.delete(runId);
    gzip?.end();
  }

  close(): void {
    for (const id of [...this.open.keys()]) this.detach(id);
  }
}

/** Reads a recording file (every gzip member) with errors that say what to do. */
export function readRecording(path: string): Recording {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RecordingError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    // A sidecar killed mid-run leaves its last member unfinished: read what was flushed.
    text = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  } catch (err) {
    throw new RecordingError(`${path} is not a gzip-compressed recording (${(err as Error).message}); recordings end in ${RECORDING_SUFFIX}`);
  }
  return decodeRecording(text, path);
}
