/**
 * One Attach stream: RunStart, then snapshots and scalars, then RunEnd (docs/design.md §3).
 *
 * Inbound flow is pull-based: messages are handled one at a time and the stream is paused while its small queue
 * is full, so grpc-js stops reading from HTTP/2 and flow control slows the sender — a slow sidecar never buffers
 * without bound. At most PIPELINE chunks of a run are in the compute worker at once (decode and network overlap).
 */
import { errorRef, internalErrorDetails } from './internalError.js';
import { Code, SidecarError, codeName } from '../errors.js';
import { KERNEL_TENSOR_KINDS, SnapshotAssembler } from '../ingest/snapshotAssembler.js';
import type { Verdict } from '../policy/verdict.js';
import { advanceRun, initialRunState, snapshotContext, type RunState } from '../policy/advanceRun.js';
import { applyCohortDecision, cohortObservationOf } from '../policy/cohortCombine.js';
import type { PredictionDiagnostics, SnapshotDiagnostics } from '../analysis/types.js';
import { selectPolicy } from '../policy/policy.js';
import type { SidecarMessage } from '../gen/ntksidecar/v1/SidecarMessage.js';
import type { TrainerMessage__Output } from '../gen/ntksidecar/v1/TrainerMessage.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';
import type { SnapshotHeader__Output } from '../gen/ntksidecar/v1/SnapshotHeader.js';
import type { TensorChunk__Output } from '../gen/ntksidecar/v1/TensorChunk.js';
import type { SnapshotEnd__Output } from '../gen/ntksidecar/v1/SnapshotEnd.js';
import type { Scalars__Output } from '../gen/ntksidecar/v1/Scalars.js';
import type { SnapshotPlan } from '../worker/protocol.js';
import type { Run } from './runTable.js';
import type { ServerContext } from './serverContext.js';
import { decisionMessage } from './reports.js';
import { decodeEvalTargets, decodeTargets, runLimitsOf, runSetupFrom } from './runSetup.js';
import { checkRunStartIdentity } from './runIdentity.js';
import { MAX_RECENT_DECISIONS } from './runTable.js';

const QUEUE_HIGH = 4;
/** Slack (bytes) in a buffer that holds nothing but this chunk's bytes: gRPC's 5-byte prefix and the TensorChunk's scalar fields. */
const OWNED_SLACK = 128;
/** Smaller buffers may come from Node's shared 8 KiB pool: always copied. */
const OWNED_MIN = 64 * 1024;

/**
 * Bytes whose ArrayBuffer can be transferred to the compute worker (issue 15): grpc-js assembles each large message
 * into a buffer of its own (Buffer.concat of the frame, 5 + message bytes) and TensorChunk.data is a view into it,
 * so when that buffer holds nothing but this chunk the view itself is sent and the buffer moves (no copy); a buffer
 * shared with anything else (other messages, Node's pool) is copied as before.
 */
function ownedChunkBytes(data: Uint8Array): Uint8Array {
  const buf = data.buffer;
  if (buf instanceof ArrayBuffer && data.byteLength >= OWNED_MIN && buf.byteLength - data.byteLength <= OWNED_SLACK) return data;
  return new Uint8Array(data);
}
const PIPELINE = 2;
/** Rejected snapshot ids remembered so their remaining chunks are dropped quietly (one ack per snapshot). */
const REMEMBERED_REJECTS = 16;
/** Snapshot ids opened by a SnapshotHeader on this stream, remembered to tell a late chunk from a stray one. */
const REMEMBERED_DECLARED = 64;

/**
 * Under mTLS a run belongs to the client certificate that started it: resuming or ending it (and joining its job)
 * needs the same certificate. Without client certificates there is nothing to compare (docs/errors.md).
 */
export function checkOwner(run: { id: string; owner?: string }, identity: string | undefined, action: string): void {
  if (run.owner === undefined || run.owner === identity) return;
  throw new SidecarError(Code.PERMISSION_DENIED, `cannot ${action} run "${run.id}": it belongs to the client certificate ${run.owner}, not ${identity ?? 'a client without a certificate'}; use that certificate or a new run_id`);
}

/** The subset of a grpc-js ServerDuplexStream this session uses (kept here so grpc-js stays at the edge). */
export interface DuplexCall {
  on(event: 'data', fn: (msg: TrainerMessage__Output) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  write(msg: SidecarMessage, cb?: () => void): boolean;
  once(event: 'drain' | 'cancelled' | 'close', fn: () => void): unknown;
  once(event: 'error', fn: (err: Error) => void): unknown;
  removeListener(event: 'drain' | 'cancelled' | 'close' | 'error', fn: (...args: never[]) => void): unknown;
  end(): unknown;
  emit(event: 'error', err: { code: number; details: string }): boolean;
}

interface OpenSnapshot {
  assembler: SnapshotAssembler;
  header: SnapshotHeader__Output;
  plan: SnapshotPlan;
  inflight: Promise<void>[];
  failure?: SidecarError;
  startedMs: number;
}

/** A snapshot whose chunk failed in the compute worker, queued behind the trainer's messages (see serve()). */
class WorkerFailure {
  constructor(readonly open: OpenSnapshot) {}
}

export class AttachSession {
  /** The trainer's messages, and the snapshots a compute worker failed (nacked in turn, not at the next message). */
  private readonly queue: Array<TrainerMessage__Output | WorkerFailure> = [];
  private wake: (() => void) | undefined;
  private inputDone = false;
  private cancelled = false;
  private run: Run | undefined;
  private open: OpenSnapshot | undefined;
  private readonly rejected: number[] = [];
  /** Ids opened by a SnapshotHeader on this stream (the last REMEMBERED_DECLARED). */
  private readonly declared: number[] = [];
  /** Set when EndRun from another client ended this stream's run (issue 14 #7). */
  private endedBy: SidecarError | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly call: DuplexCall,
    /** The client certificate's identity under mTLS (runs are bound to it); undefined otherwise. */
    private readonly identity?: string,
  ) {}

  /** Runs the session to completion; resolves once the stream has been ended with a status. */
  async serve(): Promise<void> {
    this.ctx.metrics.streams.inc();
    this.ctx.sessions.add(this);
    this.call.on('data', (msg) => {
      this.queue.push(msg);
      if (this.queue.length >= QUEUE_HIGH) this.call.pause();
      this.notify();
    });
    this.call.on('end', () => {
      this.inputDone = true;
      this.notify();
    });
    this.call.on('cancelled', () => {
      this.cancelled = true;
      this.inputDone = true;
      this.notify();
    });
    try {
      for (let msg = await this.next(); msg && !this.endedBy; msg = await this.next()) {
        if (msg instanceof WorkerFailure) {
          // A worker failed a chunk (its CRC-32C, verified there before decoding): nack the snapshot if still open.
          if (this.open === msg.open && msg.open.failure) await this.rejectOrThrow(msg.open.assembler.snapshotId, msg.open.failure);
          continue;
        }
        await this.handle(msg);
        if (this.run?.state === 'ended') break;
      }
      if (this.endedBy) await this.endedElsewhere(this.endedBy);
      if (!this.cancelled) this.call.end();
    } catch (err) {
      this.fail(err);
    } finally {
      await this.detach();
      this.ctx.sessions.delete(this);
      this.ctx.metrics.streams.dec();
    }
  }

  /**
   * EndRun from another client ended run `runId` (issue 14 #7): if this stream owns it, the stream stops reading, a
   * snapshot in progress gets a negative ack and the stream ends with FAILED_PRECONDITION — the trainer is told
   * instead of losing its next snapshot without an ack.
   */
  runEnded(runId: string): void {
    if (this.run?.id !== runId || this.cancelled || this.endedBy) return;
    this.endedBy = new SidecarError(Code.FAILED_PRECONDITION, `run ended by EndRun from another client; start a new run_id (run ${JSON.stringify(runId.slice(0, 64))} has status ${this.run.status})`);
    this.notify();
  }

  private async endedElsewhere(err: SidecarError): Promise<void> {
    const open = this.open;
    if (open) await this.reject(open.assembler.snapshotId, new SidecarError(err.code, `snapshot ${open.assembler.snapshotId} was discarded: ${err.message}`, 'snapshot'));
    this.fail(err);
  }

  /** Ends the stream at shutdown with UNAVAILABLE; the trainer reconnects and resumes the run. */
  shutdown(): void {
    this.fail(new SidecarError(Code.UNAVAILABLE, 'sidecar is shutting down; reconnect and resend RunStart to resume the run'));
    this.inputDone = true;
    this.cancelled = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async next(): Promise<TrainerMessage__Output | WorkerFailure | undefined> {
    while (this.queue.length === 0) {
      if (this.inputDone || this.endedBy) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const msg = this.queue.shift();
    if (this.queue.length < QUEUE_HIGH) this.call.resume();
    return this.cancelled ? undefined : msg;
  }

  /**
   * Ends the stream with the error's status. An unknown (non-SidecarError) error reaches the client as a generic
   * INTERNAL with a reference; its detail and stack go to the log under the same reference (issue 14).
   */
  private fail(err: unknown): void {
    const e = err instanceof SidecarError ? err : this.internal(err, 'attach stream failed');
    if (this.cancelled) return;
    this.cancelled = true;
    this.call.emit('error', { code: e.code, details: e.message });
  }

  /** Logs an unexpected error with a new reference and returns the generic INTERNAL that names it. */
  private internal(err: unknown, what: string, scope: 'stream' | 'snapshot' = 'stream'): SidecarError {
    const ref = errorRef();
    const run = this.run ? ` (run ${JSON.stringify(this.run.id.slice(0, 64))})` : '';
    this.ctx.log('error', `${what}${run} (${ref}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return new SidecarError(Code.INTERNAL, internalErrorDetails(ref), scope);
  }

  /**
   * Writes one reply, waiting for 'drain' when the peer's window is full. The wait also ends when the call is
   * cancelled, closed or errored, or the session is shut down (grpc-js never drains a dead call, issue 14 #1);
   * the serve loop then sees `cancelled` and detaches the run.
   */
  private async send(msg: SidecarMessage): Promise<void> {
    if (this.cancelled) return;
    if (this.call.write(msg)) return;
    let waiting = true;
    const drained = () => {
      waiting = false;
      this.notify();
    };
    const gone = () => {
      this.cancelled = true;
      this.inputDone = true;
      drained();
    };
    this.call.once('drain', drained);
    this.call.once('cancelled', gone);
    this.call.once('close', gone);
    this.call.once('error', gone);
    try {
      while (waiting && !this.cancelled) await new Promise<void>((resolve) => (this.wake = resolve));
    } finally {
      this.call.removeListener('drain', drained);
      this.call.removeListener('cancelled', gone);
      this.call.removeListener('close', gone);
      this.call.removeListener('error', gone);
    }
  }

  private async handle(msg: TrainerMessage__Output): Promise<void> {
    if (!this.run) {
      if (msg.kind !== 'start' || !msg.start) {
        throw new SidecarError(Code.FAILED_PRECONDITION, `the first message on an Attach stream must be RunStart, got "${msg.kind ?? 'empty'}"; send RunStart first`);
      }
      return this.start(msg.start);
    }
    switch (msg.kind) {
      case 'start':
        throw new SidecarError(Code.FAILED_PRECONDITION, `RunStart sent twice on one stream (run "${this.run.id}"); open a new stream for another run`);
      case 'header':
        return this.header(msg.header!);
      case 'chunk':
        return this.chunk(msg.chunk!);
      case 'end':
        return this.end(msg.end!);
      case 'scalars':
        return this.scalars(msg.scalars!);
      case 'finish':
        return this.finish(msg.finish!.status);
      default:
        throw new SidecarError(Code.INVALID_ARGUMENT, 'TrainerMessage without a kind; set one of start, header, chunk, end, scalars, finish');
    }
  }

  private async start(start: RunStart__Output): Promise<void> {
    const { ctx } = this;
    const limits = ctx.config.limits;
    if (!start.run_id) throw new SidecarError(Code.INVALID_ARGUMENT, 'RunStart.run_id is empty; give every run a unique id');
    checkRunStartIdentity(start); // ids and labels bounded in bytes, valid UTF-8 (issue 14 #2)
    const probe = start.probe;
    const samples = probe?.num_samples ?? 0;
    const outputs = probe?.num_outputs || 1;
    if (samples < 1) throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.probe.num_samples is ${samples}; the probe set needs at least 1 sample`);
    if (samples * outputs > limits.maxRows) {
      throw new SidecarError(
        Code.RESOURCE_EXHAUSTED,
        `probe set has N = n·C = ${samples}·${outputs} = ${samples * outputs} rows, above the limit of ${limits.maxRows} (--max-rows); use fewer probe samples, a TRACE kernel via Gram mode, or raise the limit`,
      );
    }
    const scale = start.loss?.scale ?? 0;
    if (!Number.isFinite(scale) || scale < 0) throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.loss.scale is ${scale}; it must be a finite c_L ≥ 0 (docs/science.md §0)`);
    const policy = selectPolicy(ctx.policies, start.policy);
    if (!policy) {
      throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.policy "${start.policy}" is not configured; known policies: ${[...ctx.policies.byName.keys()].join(', ')}`);
    }

    let run = ctx.runs.get(start.run_id);
    let resumed = false;
    if (run) {
      const was = run.start.probe;
      if (run.samples !== samples || run.outputs !== outputs || (was?.sample_ids_hash ?? '') !== (probe?.sample_ids_hash ?? '')) {
        throw new SidecarError(
          Code.FAILED_PRECONDITION,
          `run "${run.id}" was started with probe n=${run.samples}, C=${run.outputs}, hash "${was?.sample_ids_hash ?? ''}" and now sends n=${samples}, C=${outputs}, hash "${probe?.sample_ids_hash ?? ''}"; the probe set must stay fixed within a run — start a new run_id`,
        );
      }
      checkOwner(run, this.identity, 'resume');
      if (run.attached) throw new SidecarError(Code.ALREADY_EXISTS, `run "${run.id}" is attached on another stream; one stream per run`);
      if (run.state === 'ended') {
        throw new SidecarError(Code.FAILED_PRECONDITION, `run "${run.id}" has ended (${run.status}); an ended run is not resumed — start a new run_id`);
      }
      run.state = 'active';
      run.attached = true;
      run.start = start;
      run.policy = policy;
      run.setup = runSetupFrom(start, samples, outputs);
      run.targets = decodeTargets(start, samples, outputs) ?? run.targets;
      run.evalTargets = decodeEvalTargets(start, outputs) ?? run.evalTargets;
      run.limits = runLimitsOf(start);
      resumed = true;
    } else {
      // A new rank joins a job only with the identity of the job's other ranks: no fake rank can stop a job.
      if (start.job_id) for (const rank of ctx.runs.byJob(start.job_id)) checkOwner(rank, this.identity, `join job "${start.job_id}" of`);
      run = {
        ...initialRunState(runLimitsOf(start)),
        owner: this.identity,
        id: start.run_id,
        start,
        samples,
        outputs,
        setup: runSetupFrom(start, samples, outputs),
        targets: decodeTargets(start, samples, outputs),
        evalTargets: decodeEvalTargets(start, outputs),
        policy,
        state: 'active',
        status: 'RUN_STATUS_UNSPECIFIED',
        attached: true,
        snapshotsRejected: 0,
        decisionsByReason: new Map(),
        recentDecisions: [],
        touchedAtMs: ctx.now(),
      };
      ctx.runs.add(run);
    }
    this.run = run;
    ctx.recorder?.attach(run);
    await this.send({
      accepted: {
        run_id: run.id,
        max_chunk_bytes: limits.maxChunkBytes,
        max_rows: limits.maxRows,
        max_snapshot_bytes: limits.maxSnapshotBytes,
        backend: ctx.pool.backend,
        server_version: ctx.version,
        resumed,
      },
    });
  }

  private async header(header: SnapshotHeader__Output): Promise<void> {
    const run = this.run!;
    if (!this.declared.includes(header.snapshot_id)) this.declared.push(header.snapshot_id);
    if (this.declared.length > REMEMBERED_DECLARED) this.declared.shift();
    if (this.open) {
      const prev = this.open.assembler.snapshotId;
      await this.reject(prev, new SidecarError(Code.ABORTED, `snapshot ${prev} was not closed with SnapshotEnd before snapshot ${header.snapshot_id} began; resend snapshot ${prev}`, 'snapshot'));
    }
    let assembler: SnapshotAssembler;
    try {
      assembler = new SnapshotAssembler(
        header,
        { samples: run.samples, outputs: run.outputs, sketchDim: run.start.sketch?.dim || undefined, evalSamples: run.start.eval_probe?.num_samples || undefined },
        this.ctx.config.limits,
      );
      const kernelKinds = assembler.plans.filter((p) => KERNEL_TENSOR_KINDS.includes(p.kind));
      if (kernelKinds.length > 1) {
        throw new SidecarError(Code.INVALID_ARGUMENT, `snapshot ${header.snapshot_id} declares ${kernelKinds.map((p) => p.kind).join(' and ')}; send one kernel source (Jacobian, sketch or Gram) per snapshot`, 'snapshot');
      }
      const kernel = kernelKinds[0];
      const logits = assembler.plans.find((p) => p.kind === 'TENSOR_KIND_LOGITS');
      const evalLogits = assembler.plans.find((p) => p.kind === 'TENSOR_KIND_EVAL_LOGITS');
      const plan: SnapshotPlan = {
        samples: run.samples,
        outputs: run.outputs,
        reduction: assembler.reduction,
        kernel: kernel && { kind: kernel.kind, dtype: kernel.dtype, rows: kernel.rows, cols: kernel.cols },
        logits: logits && { dtype: logits.dtype, rows: logits.rows, cols: logits.cols },
        evalLogits: evalLogits && { dtype: evalLogits.dtype, rows: evalLogits.rows, cols: evalLogits.cols },
        exactMax: this.ctx.config.exactMax,
        topK: this.ctx.config.topK,
        record: this.ctx.recorder !== undefined,
      };
      await this.ctx.pool.begin(run.id, plan);
      this.open = { assembler, header, plan, inflight: [], startedMs: this.ctx.now() };
    } catch (err) {
      await this.rejectOrThrow(header.snapshot_id, err);
    }
  }

  private async chunk(chunk: TensorChunk__Output): Promise<void> {
    const open = this.open;
    if (!open || open.assembler.snapshotId !== chunk.snapshot_id) {
      if (this.rejected.includes(chunk.snapshot_id)) return; // rest of an already rejected snapshot
      return this.stray('chunk', chunk.snapshot_id);
    }
    try {
      if (open.failure) return await this.rejectOrThrow(chunk.snapshot_id, open.failure);
      const accepted = open.assembler.accept(chunk, { deferChecksum: true });
      this.ctx.metrics.receivedBytes.inc(accepted.data.byteLength);
      const data = ownedChunkBytes(accepted.data);
      const { layout: _layout, ...chunkWork } = accepted;
      const work = this.ctx.pool
        .chunk(this.run!.id, { ...chunkWork, data })
        .catch((err: unknown) => {
          if (open.failure) return;
          open.failure = err instanceof SidecarError ? err : this.internal(err, `snapshot ${chunk.snapshot_id}: a chunk failed in the compute worker`, 'snapshot');
          // Wake the serve loop so the nack does not wait for the trainer's next message (a no-op if the snapshot
          // was closed meanwhile).
          if (this.open === open) {
            this.queue.push(new WorkerFailure(open));
            this.notify();
          }
        });
      open.inflight.push(work);
      if (open.inflight.length >= PIPELINE) await open.inflight.shift();
    } catch (err) {
      await this.rejectOrThrow(chunk.snapshot_id, err);
    }
  }

  private async end(end: SnapshotEnd__Output): Promise<void> {
    const open = this.open;
    const run = this.run!;
    if (!open || open.assembler.snapshotId !== end.snapshot_id) {
      if (this.rejected.includes(end.snapshot_id)) return;
      return this.stray('SnapshotEnd', end.snapshot_id);
    }
    try {
      open.assembler.end(end);
      await Promise.all(open.inflight);
      if (open.failure) throw open.failure;
      this.open = undefined;
      const { header, plan } = open;
      const snap = {
        snapshotId: header.snapshot_id,
        step: header.step,
        trainLoss: header.train_loss,
        learningRate: header.learning_rate,
        preconditioned: header.kernel_preconditioned,
      };
      const analysis = await this.ctx.pool.end(run.id, snapshotContext(run, { setup: run.setup, targets: run.targets, evalTargets: run.evalTargets, learningRate: run.start.learning_rate }, snap, run.policy));
      if (analysis.analysisError) this.ctx.log('warn', `run ${run.id}: snapshot ${header.snapshot_id} accepted without its training-dynamics diagnostics: ${analysis.analysisError}`);
      const backend = this.ctx.pool.backend;
      this.ctx.metrics.analysisDuration.observe({ stage: 'accumulate', backend }, analysis.accumulateSeconds);
      this.ctx.metrics.analysisDuration.observe({ stage: 'spectrum', backend }, analysis.spectrumSeconds);
      const totalSeconds = (this.ctx.now() - open.startedMs) / 1000;
      this.ctx.metrics.analysisDuration.observe({ stage: 'total', backend }, totalSeconds);
      this.ctx.metrics.snapshots.inc({ outcome: 'accepted', code: 'OK' });
      const hasKernel = plan.kernel !== undefined;
      run.latest = {
        diagnostics: analysis.diagnostics,
        snapshotId: header.snapshot_id,
        step: header.step,
        trainLoss: header.train_loss,
        source: plan.kernel?.kind ?? 'TENSOR_KIND_LOGITS',
        // Keep the previous spectra when this snapshot carried no kernel (logits only).
        spectra: hasKernel || !analysis.finite ? analysis.spectra : (run.latest?.spectra ?? []),
        analysisSeconds: totalSeconds,
        backend,
        receivedBytes: open.assembler.receivedBytes,
        finite: analysis.finite,
      };
      this.warnCompute(header.compute_spent, `snapshot ${header.snapshot_id}`);
      const event = { kind: 'snapshot', ...snap, computeSpent: header.compute_spent, finite: analysis.finite, hasKernel, diagnostics: analysis.diagnostics } as const;
      this.ctx.recorder?.snapshot(run, { ...event, plan, kernel: analysis.kernel, logits: analysis.logits, evalLogits: analysis.evalLogits });
      const before = run.verdict;
      const { state, verdict } = await this.withCohort(before, advanceRun(run, event, run.policy), event);
      Object.assign(run, state);
      run.touchedAtMs = this.ctx.now();
      await this.send({ ack: { snapshot_id: header.snapshot_id, accepted: true, code: Code.OK, message: '' } });
      await this.record(verdict!, header.snapshot_id, header.step, analysis.diagnostics.prediction);
    } catch (err) {
      const endedBy = this.endedBy;
      if (endedBy) return this.reject(end.snapshot_id, new SidecarError(endedBy.code, `snapshot ${end.snapshot_id} was discarded: ${endedBy.message}`, 'snapshot'));
      await this.rejectOrThrow(end.snapshot_id, err);
    }
  }

  private async scalars(m: Scalars__Output): Promise<void> {
    const run = this.run!;
    this.warnCompute(m.compute_spent, `Scalars at step ${m.step}`);
    const event = { kind: 'scalars', step: m.step, trainLoss: m.train_loss, computeSpent: m.compute_spent } as const;
    this.ctx.recorder?.scalars(run, event);
    const { state, verdict } = await this.withCohort(run.verdict, advanceRun(run, event, run.policy), event);
    Object.assign(run, state);
    run.touchedAtMs = this.ctx.now();
    if (verdict) await this.record(verdict, run.latest?.snapshotId ?? 0, m.step);
  }

  /** Cohort rules (docs/cohorts.md): a run with a cohort reports each event; a cohort STOP combines by cohort.order. */
  private async withCohort(before: Verdict | undefined, next: { state: RunState; verdict?: Verdict }, event: { step: number; trainLoss: number; computeSpent: number; diagnostics?: SnapshotDiagnostics }) {
    const engine = this.ctx.cohort;
    const run = this.run!;
    if (!engine || !run.start.cohort || before?.action === 'ACTION_STOP') return next;
    const decision = await engine.observe(cohortObservationOf(run.start.cohort, run.id, event, next.state.computeSpent));
    const out = applyCohortDecision(next.state, before, next.verdict, decision, engine.config.order, run.policy, event.step);
    if (out.verdict?.action === 'ACTION_STOP' && out.verdict.reason !== 'REASON_COHORT') await engine.runStopped(run.start.cohort, run.id, out.verdict, event.step);
    return out;
  }

  /** advanceRun ignores a NaN, infinite or negative compute_spent (a budget must not be disabled by one bad value); say so. */
  private warnCompute(value: number, where: string): void {
    if (!(Number.isFinite(value) && value >= 0)) this.ctx.log('warn', `run ${this.run!.id}: ${where} reports compute_spent = ${value}; ignored (compute_spent must be a finite, non-negative, monotone amount)`);
  }

  private async record(verdict: Verdict, snapshotId: number, step: number, prediction?: PredictionDiagnostics): Promise<void> {
    const run = this.run!;
    const decidedAtMs = this.ctx.now();
    const message = decisionMessage(run, verdict, snapshotId, step, decidedAtMs, prediction);
    run.decision = { message, decidedAtMs, action: verdict.action, enforced: run.policy.enforced };
    run.recentDecisions.push(message);
    if (run.recentDecisions.length > MAX_RECENT_DECISIONS) run.recentDecisions.shift();
    run.decisionsByReason.set(verdict.reason, (run.decisionsByReason.get(verdict.reason) ?? 0) + 1);
    this.ctx.metrics.decisions.inc({ action: verdict.action, reason: verdict.reason, enforced: String(run.policy.enforced) });
    const saved = this.ctx.runs.persist(run);
    // A STOP latches across restarts: it is on disk before the trainer hears it (a kill -9 cannot undo it).
    if (verdict.action === 'ACTION_STOP') await saved;
    await this.send({ decision: message });
  }

  private async finish(status: Run['status']): Promise<void> {
    const run = this.run!;
    if (this.open) await this.reject(this.open.assembler.snapshotId, new SidecarError(Code.ABORTED, `run ended while snapshot ${this.open.assembler.snapshotId} was open; it was discarded`, 'snapshot'));
    this.ctx.runs.end(run, status, this.ctx.now());
  }

  /**
   * A chunk or SnapshotEnd for a snapshot that is not open (issue 14 #8). An ack must name a snapshot the trainer
   * opened: one of a snapshot this stream opened and closed (a late message) gets one INVALID_ARGUMENT ack, the
   * rest of its messages are dropped; an id no SnapshotHeader on this stream opened is never acked (the trainer may
   * open that id later and must not find a stale ack) — it is a protocol-order fault that ends the stream with
   * FAILED_PRECONDITION, once and loudly, like a missing RunStart. The run is kept; a reattach resumes it.
   */
  private async stray(what: 'chunk' | 'SnapshotEnd', id: number): Promise<void> {
    const open = this.open ? `snapshot ${this.open.assembler.snapshotId} is open` : 'no snapshot is open';
    if (!this.declared.includes(id)) {
      throw new SidecarError(
        Code.FAILED_PRECONDITION,
        `${what} for snapshot ${id}, which no SnapshotHeader on this stream opened (${open}); send SnapshotHeader, then the snapshot's chunks, then its SnapshotEnd — reattach with RunStart (same run_id) to resume the run`,
      );
    }
    await this.reject(id, new SidecarError(Code.INVALID_ARGUMENT, `${what} for snapshot ${id} arrived after snapshot ${id} was closed (${open}); send every chunk of a snapshot between its SnapshotHeader and its SnapshotEnd`, 'snapshot'));
  }

  /** Snapshot-level faults become a negative ack; anything else ends the stream. */
  private async rejectOrThrow(snapshotId: number, err: unknown): Promise<void> {
    if (err instanceof SidecarError && err.scope === 'snapshot') return this.reject(snapshotId, err);
    throw err;
  }

  private async reject(snapshotId: number, err: SidecarError): Promise<void> {
    const run = this.run!;
    if (this.open?.assembler.snapshotId === snapshotId) {
      const open = this.open;
      this.open = undefined;
      await Promise.all(open.inflight);
      await this.ctx.pool.abort(run.id);
    }
    this.rejected.push(snapshotId);
    if (this.rejected.length > REMEMBERED_REJECTS) this.rejected.shift();
    run.snapshotsRejected++;
    this.ctx.metrics.snapshots.inc({ outcome: 'rejected', code: codeName(err.code) });
    this.ctx.log('debug', `run ${run.id}: snapshot ${snapshotId} rejected (${codeName(err.code)}): ${err.message}`);
    await this.send({ ack: { snapshot_id: snapshotId, accepted: false, code: err.code, message: err.message } });
  }

  /** The stream is gone: drop the open snapshot, keep the run for a reattach. */
  private async detach(): Promise<void> {
    const run = this.run;
    if (!run) return;
    if (this.open) {
      const open = this.open;
      this.open = undefined;
      await Promise.all(open.inflight);
      await this.ctx.pool.abort(run.id);
    }
    run.attached = false;
    this.ctx.recorder?.detach(run.id);
    if (run.state === 'active') run.state = 'detached';
  }
}
