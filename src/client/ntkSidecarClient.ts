/**
 * TypeScript client for ntk-sidecar. `attach()` opens one Attach stream per run; `sendSnapshot()` splits each
 * tensor into ≤ chunkBytes blocks of raw little-endian bytes (column blocks for Jacobians and sketches, row
 * blocks for Grams and logits), honours back-pressure (waits for 'drain'), and resolves with the snapshot's ack
 * and decision. Unary calls take a deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '../ingest/crc32c.js';
import { loadPackageDefinition } from '../protoDefinition.js';
import type { ProtoGrpcType } from '../gen/sidecar.js';
import type { NtkSidecarClient as GeneratedClient } from '../gen/ntksidecar/v1/NtkSidecar.js';
import type { TrainerMessage } from '../gen/ntksidecar/v1/TrainerMessage.js';
import type { SidecarMessage__Output } from '../gen/ntksidecar/v1/SidecarMessage.js';
import type { RunStart } from '../gen/ntksidecar/v1/RunStart.js';
import type { RunAccepted__Output } from '../gen/ntksidecar/v1/RunAccepted.js';
import type { SnapshotAck__Output } from '../gen/ntksidecar/v1/SnapshotAck.js';
import type { Decision__Output } from '../gen/ntksidecar/v1/Decision.js';
import type { RunReport__Output } from '../gen/ntksidecar/v1/RunReport.js';
import type { RunSummary__Output } from '../gen/ntksidecar/v1/RunSummary.js';
import type { EndRunResponse__Output } from '../gen/ntksidecar/v1/EndRunResponse.js';
import type { TensorKind } from '../gen/ntksidecar/v1/TensorKind.js';
import type { DType } from '../gen/ntksidecar/v1/DType.js';
import type { RunStatus } from '../gen/ntksidecar/v1/RunStatus.js';
import type { KernelReduction } from '../kernel/kernelAccumulator.js';
import type { Scalars } from '../gen/ntksidecar/v1/Scalars.js';

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

export interface TensorInput {
  kind: Exclude<TensorKind, 'TENSOR_KIND_UNSPECIFIED' | 0>;
  rows: number;
  cols: number;
  /** Float32Array → DTYPE_F32, Float64Array → DTYPE_F64; raw bytes need `dtype`. Row-major rows×cols. */
  data: Float32Array | Float64Array | Uint8Array;
  dtype?: Exclude<DType, 'DTYPE_UNSPECIFIED' | 0>;
}

export interface SnapshotInput {
  id: number;
  step: number;
  trainLoss?: number;
  learningRate?: number;
  samplesSeen?: number;
  computeSpent?: number;
  reduction?: KernelReduction;
  tensors: TensorInput[];
  /** Largest chunk payload; default 4 MiB (the protocol's SHOULD). */
  chunkBytes?: number;
  /** Fill TensorChunk.crc32c; default true. */
  checksum?: boolean;
}

export interface SnapshotResult {
  ack: SnapshotAck__Output;
  /** Present when the snapshot was accepted. */
  decision?: Decision__Output;
}

export interface ClientOptions {
  credentials?: grpc.ChannelCredentials;
  /** Bearer token sent as `authorization` metadata. */
  token?: string;
  channelOptions?: grpc.ChannelOptions;
}

function dtypeOf(t: TensorInput): Exclude<DType, 'DTYPE_UNSPECIFIED' | 0> {
  if (t.dtype) return t.dtype;
  if (t.data instanceof Float32Array) return 'DTYPE_F32';
  if (t.data instanceof Float64Array) return 'DTYPE_F64';
  throw new Error(`tensor ${t.kind} is raw bytes: set its dtype`);
}

const DTYPE_BYTES: Record<string, number> = { DTYPE_F32: 4, DTYPE_F64: 8, DTYPE_F16: 2, DTYPE_BF16: 2 };

function bytesOf(data: TensorInput['data']): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Splits one tensor into chunk messages. Column-block kinds carry all rows × a column range (gathered row by
 * row, since the source is row-major); row-block kinds carry whole rows.
 */
export function* tensorChunks(snapshotId: number, t: TensorInput, chunkBytes = DEFAULT_CHUNK_BYTES, checksum = true): Generator<TrainerMessage> {
  const dtype = dtypeOf(t);
  const size = DTYPE_BYTES[dtype];
  const bytes = bytesOf(t.data);
  if (bytes.byteLength !== t.rows * t.cols * size) {
    throw new Error(`tensor ${t.kind}: ${bytes.byteLength} bytes for ${t.rows}×${t.cols} ${dtype} (expected ${t.rows * t.cols * size})`);
  }
  const columnBlocks = t.kind === 'TENSOR_KIND_JACOBIAN' || t.kind === 'TENSOR_KIND_SKETCH' || t.kind === 1 || t.kind === 2;
  if (columnBlocks) {
    const step = Math.max(1, Math.floor(chunkBytes / (t.rows * size)));
    for (let c0 = 0; c0 < t.cols; c0 += step) {
      const cols = Math.min(step, t.cols - c0);
      const block = new Uint8Array(t.rows * cols * size);
      for (let r = 0; r < t.rows; r++) {
        const from = (r * t.cols + c0) * size;
        block.set(bytes.subarray(from, from + cols * size), r * cols * size);
      }
      yield { chunk: { snapshot_id: snapshotId, tensor: t.kind, offset: c0, rows: t.rows, cols, dtype, data: block, crc32c: checksum ? crc32c(block) : 0 } };
    }
  } else {
    const step = Math.max(1, Math.floor(chunkBytes / (t.cols * size)));
    for (let r0 = 0; r0 < t.rows; r0 += step) {
      const rows = Math.min(step, t.rows - r0);
      const block = bytes.subarray(r0 * t.cols * size, (r0 + rows) * t.cols * size);
      yield { chunk: { snapshot_id: snapshotId, tensor: t.kind, offset: r0, rows, cols: t.cols, dtype, data: block, crc32c: checksum ? crc32c(block) : 0 } };
    }
  }
}

let cachedProto: ProtoGrpcType | undefined;
function proto(): ProtoGrpcType {
  cachedProto ??= grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as ProtoGrpcType;
  return cachedProto;
}

export class NtkSidecarClient {
  readonly raw: GeneratedClient;
  private readonly token: string | undefined;

  constructor(target: string, opts: ClientOptions = {}) {
    const Ctor = proto().ntksidecar.v1.NtkSidecar;
    this.raw = new Ctor(target, opts.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      ...opts.channelOptions,
    });
    this.token = opts.token;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  /** Opens an Attach stream and sends RunStart. */
  attach(start: RunStart): AttachedRun {
    const run = new AttachedRun(this.raw.Attach(this.metadata()));
    void run.write({ start });
    return run;
  }

  private call<Res>(invoke: (md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown, deadlineMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke(this.metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  checkStop(req: { runId?: string; jobId?: string }, deadlineMs = 5000): Promise<Decision__Output> {
    return this.call((md, o, cb) => this.raw.CheckStop({ run_id: req.runId ?? '', job_id: req.jobId ?? '' }, md, o, cb), deadlineMs);
  }

  getRun(runId: string, deadlineMs = 5000): Promise<RunReport__Output> {
    return this.call((md, o, cb) => this.raw.GetRun({ run_id: runId }, md, o, cb), deadlineMs);
  }

  async listRuns(filter: { jobId?: string; cohort?: string } = {}, deadlineMs = 5000): Promise<RunSummary__Output[]> {
    const res = await this.call<{ runs: RunSummary__Output[] }>((md, o, cb) => this.raw.ListRuns({ job_id: filter.jobId ?? '', cohort: filter.cohort ?? '' }, md, o, cb), deadlineMs);
    return res.runs;
  }

  endRun(runId: string, status: RunStatus = 'RUN_STATUS_COMPLETED', deadlineMs = 5000): Promise<EndRunResponse__Output> {
    return this.call((md, o, cb) => this.raw.EndRun({ run_id: runId, status }, md, o, cb), deadlineMs);
  }

  close(): void {
    this.raw.close();
  }
}

type Waiter<T> = { resolve: (v: T) => void; reject: (e: Error) => void };

/** One run's Attach stream. Responses are routed to whoever waits for them; the rest are kept in order. */
export class AttachedRun {
  readonly accepted: Promise<RunAccepted__Output>;
  /** Every message received, in order (acks, decisions). */
  readonly received: SidecarMessage__Output[] = [];
  /** Latest decision received on the stream. */
  latestDecision: Decision__Output | undefined;
  /** Final status of the stream once it has ended. */
  status: grpc.StatusObject | undefined;
  readonly closed: Promise<grpc.StatusObject>;

  private readonly acks = new Map<number, Waiter<SnapshotAck__Output>>();
  private readonly decisions = new Map<number, Waiter<Decision__Output>>();
  private readonly pendingAcks = new Map<number, SnapshotAck__Output>();
  private readonly pendingDecisions = new Map<number, Decision__Output>();
  private onAccepted!: Waiter<RunAccepted__Output>;

  constructor(readonly stream: grpc.ClientDuplexStream<TrainerMessage, SidecarMessage__Output>) {
    this.accepted = new Promise((resolve, reject) => (this.onAccepted = { resolve, reject }));
    this.accepted.catch(() => undefined); // observed through the methods that await it
    stream.on('data', (msg: SidecarMessage__Output) => this.dispatch(msg));
    this.closed = new Promise((resolve) => {
      stream.on('status', (status: grpc.StatusObject) => {
        this.status = status;
        const err = Object.assign(new Error(`stream ended: ${grpc.status[status.code]} ${status.details}`), { code: status.code, details: status.details });
        this.onAccepted.reject(err);
        for (const w of [...this.acks.values(), ...this.decisions.values()]) w.reject(err);
        this.acks.clear();
        this.decisions.clear();
        resolve(status);
      });
    });
    stream.on('error', () => undefined); // the status event carries the outcome
  }

  private dispatch(msg: SidecarMessage__Output): void {
    this.received.push(msg);
    if (msg.accepted) this.onAccepted.resolve(msg.accepted);
    if (msg.ack) {
      const w = this.acks.get(msg.ack.snapshot_id);
      if (w) {
        this.acks.delete(msg.ack.snapshot_id);
        w.resolve(msg.ack);
      } else this.pendingAcks.set(msg.ack.snapshot_id, msg.ack);
    }
    if (msg.decision) {
      this.latestDecision = msg.decision;
      const w = this.decisions.get(msg.decision.snapshot_id);
      if (w) {
        this.decisions.delete(msg.decision.snapshot_id);
        w.resolve(msg.decision);
      } else this.pendingDecisions.set(msg.decision.snapshot_id, msg.decision);
    }
  }

  private waitFor<T>(id: number, pending: Map<number, T>, waiters: Map<number, Waiter<T>>): Promise<T> {
    const got = pending.get(id);
    if (got !== undefined) {
      pending.delete(id);
      return Promise.resolve(got);
    }
    if (this.status) return Promise.reject(new Error(`stream already ended: ${grpc.status[this.status.code]} ${this.status.details}`));
    return new Promise((resolve, reject) => waiters.set(id, { resolve, reject }));
  }

  ack(snapshotId: number): Promise<SnapshotAck__Output> {
    return this.waitFor(snapshotId, this.pendingAcks, this.acks);
  }

  decision(snapshotId: number): Promise<Decision__Output> {
    return this.waitFor(snapshotId, this.pendingDecisions, this.decisions);
  }

  /** Writes one raw message, waiting for 'drain' when the stream's buffer is full. */
  write(msg: TrainerMessage): Promise<void> {
    if (this.stream.write(msg)) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }

  /** Streams a whole snapshot and resolves with its ack and (if accepted) its decision. */
  async sendSnapshot(s: SnapshotInput): Promise<SnapshotResult> {
    const ack = this.ack(s.id);
    const decision = this.decision(s.id);
    decision.catch(() => undefined);
    await this.write({
      header: {
        snapshot_id: s.id,
        step: s.step,
        samples_seen: s.samplesSeen ?? 0,
        compute_spent: s.computeSpent ?? 0,
        learning_rate: s.learningRate ?? 0,
        train_loss: s.trainLoss ?? Number.NaN,
        kernel_reduction: s.reduction === 'trace' ? 'KERNEL_REDUCTION_TRACE' : 'KERNEL_REDUCTION_FULL',
        tensors: s.tensors.map((t) => ({ tensor: t.kind, dtype: dtypeOf(t), rows: t.rows, cols: t.cols })),
      },
    });
    let count = 0;
    let total = 0;
    for (const t of s.tensors) {
      for (const msg of tensorChunks(s.id, t, s.chunkBytes, s.checksum ?? true)) {
        count++;
        total += (msg.chunk!.data as Uint8Array).byteLength;
        await this.write(msg);
      }
    }
    await this.write({ end: { snapshot_id: s.id, chunk_count: count, total_bytes: total } });
    const a = await ack;
    if (!a.accepted) {
      this.decisions.delete(s.id);
      return { ack: a };
    }
    return { ack: a, decision: await decision };
  }

  sendScalars(s: Scalars): Promise<void> {
    return this.write({ scalars: s });
  }

  /** Sends RunEnd, half-closes, and resolves with the stream's final status. */
  async finish(status: RunStatus = 'RUN_STATUS_COMPLETED'): Promise<grpc.StatusObject> {
    await this.write({ finish: { status } });
    this.stream.end();
    return this.closed;
  }

  cancel(): void {
    this.stream.cancel();
  }
}
