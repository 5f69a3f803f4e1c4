/**
 * A pool of up to `size` compute workers. A run is pinned to one worker for its whole life: the worker keeps the run's
 * reference kernels (K_0, K_{t−1}) for drift analysis. Only the first worker starts with the pool; another starts when
 * a new run finds every running worker holding runs (an idle sidecar keeps one worker's heap and WebAssembly memory,
 * about 30 MiB less per worker not started). New runs go to an idle worker, else a newly started one while fewer than
 * `size` run, else the least-loaded worker. A crashed worker
 * fails its in-flight requests with INTERNAL ("resend the snapshot") and is replaced; its runs start a fresh
 * history on their next snapshot, and other runs and the server keep working.
 */
import { Worker } from 'node:worker_threads';
import { Code, SidecarError } from '../errors.js';
import type { BackendKind } from '../kernel/gramBackend.js';
import type { AnalysisContext, ChunkWork, SnapshotAnalysis, SnapshotPlan, WorkerRequest, WorkerResponse } from './protocol.js';

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Slot {
  worker: Worker;
  backend: string;
  fallbackReason?: string;
  waiting: Map<number, { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }>;
  runs: Set<string>;
}

/** Source files run under tsx in development and tests; built files run as plain JavaScript. */
function spawn(backend: BackendKind): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './computeWorker.ts' : './computeWorker.js', import.meta.url);
  if (entry.pathname.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
    return new Worker(boot, { eval: true, workerData: { backend } });
  }
  return new Worker(entry, { workerData: { backend } });
}

export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly byRun = new Map<string, Slot>();
  private nextId = 1;
  private closed = false;
  /** A worker being started on demand (at most one at a time). */
  private starting: Promise<Slot | undefined> | undefined;

  private constructor(
    private readonly backendKind: BackendKind,
    private readonly maxSize: number,
  ) {}

  /** Starts the first worker now (its failure fails the start); the others start when runs need them. */
  static async start(size: number, backend: BackendKind): Promise<ComputePool> {
    const pool = new ComputePool(backend, Math.max(1, size));
    try {
      pool.slots.push(await pool.startSlot());
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Workers running now (≤ the pool's size; grows as concurrent runs need more). */
  get size(): number {
    return this.slots.length;
  }

  /**
   * The worker for a new run: an idle one, else one started for it while fewer than the pool's size run, else the
   * least-loaded. A worker that fails to start on demand leaves the run on a running one.
   */
  private async pinRun(run: string): Promise<Slot> {
    const pin = (slot: Slot): Slot => {
      // Another begin of the same run may have pinned it while this one waited for a worker to start.
      const pinned = this.byRun.get(run);
      if (pinned) return pinned;
      this.byRun.set(run, slot);
      slot.runs.add(run);
      return slot;
    };
    const idle = this.slots.find((s) => s.runs.size === 0);
    if (idle) return pin(idle);
    if (this.slots.length < this.maxSize && !this.closed) {
      this.starting ??= this.startSlot().then(
        (s) => {
          this.starting = undefined;
          if (this.closed) {
            void s.worker.terminate();
            return undefined;
          }
          this.slots.push(s);
          return s;
        },
        () => {
          this.starting = undefined;
          return undefined;
        },
      );
      const started = await this.starting;
      if (started && started.runs.size === 0) return pin(started);
    }
    if (this.slots.length === 0) throw new SidecarError(Code.UNAVAILABLE, 'no compute worker is running; retry shortly', 'snapshot');
    return pin(this.slots.reduce((a, b) => (b.runs.size < a.runs.size ? b : a)));
  }

  /** Backend that actually runs kernel products (the first worker's; all make the same choice). */
  get backend(): string {
    return this.slots[0]?.backend ?? 'none';
  }

  get fallbackReason(): string | undefined {
    return this.slots[0]?.fallbackReason;
  }

  private startSlot(): Promise<Slot> {
    const worker = spawn(this.backendKind);
    const slot: Slot = { worker, backend: 'starting', waiting: new Map(), runs: new Set() };
    return new Promise<Slot>((resolve, reject) => {
      let started = false;
      worker.on('message', (res: WorkerResponse) => {
        if ('ready' in res) {
          started = true;
          if (res.ready) {
            slot.backend = res.backend;
            slot.fallbackReason = res.fallbackReason;
            resolve(slot);
          } else {
            reject(new Error(`compute worker failed to start: ${res.message}`));
          }
          return;
        }
        const w = slot.waiting.get(res.id);
        if (!w) return;
        slot.waiting.delete(res.id);
        w.resolve(res);
      });
      const fail = (err: Error) => {
        if (!started) {
          reject(err);
          return;
        }
        this.replace(slot, err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`compute worker exited with code ${code}`));
      });
    });
  }

  private replace(slot: Slot, err: Error): void {
    for (const w of slot.waiting.values()) {
      w.reject(new SidecarError(Code.INTERNAL, `compute worker crashed (${err.message}); resend the snapshot`, 'snapshot'));
    }
    slot.waiting.clear();
    for (const run of slot.runs) this.byRun.delete(run);
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    this.startSlot().then(
      (s) => (this.closed ? void s.worker.terminate() : this.slots.push(s)),
      () => undefined, // the pool shrinks; the next request still finds the remaining workers
    );
  }

  private request(slot: Slot, body: Body<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerResponse> {
    if (this.closed) return Promise.reject(new SidecarError(Code.UNAVAILABLE, 'sidecar is shutting down; reconnect later'));
    const id = this.nextId++;
    return new Promise<WorkerResponse>((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      slot.worker.postMessage({ ...body, id }, transfer);
    });
  }

  private static unwrap(res: WorkerResponse): SnapshotAnalysis | undefined {
    if ('ok' in res && !res.ok) throw new SidecarError(res.code as Code, res.message, 'snapshot');
    return 'analysis' in res ? res.analysis : undefined;
  }

  private slotFor(run: string): Slot {
    const slot = this.byRun.get(run);
    if (!slot) throw new SidecarError(Code.FAILED_PRECONDITION, `no snapshot in progress for run "${run}"`, 'snapshot');
    return slot;
  }

  async begin(run: string, plan: SnapshotPlan): Promise<void> {
    if (this.slots.length === 0) throw new SidecarError(Code.UNAVAILABLE, 'no compute worker is running; retry shortly', 'snapshot');
    const slot = this.byRun.get(run) ?? (await this.pinRun(run));
    ComputePool.unwrap(await this.request(slot, { op: 'begin', run, plan }));
  }

  async chunk(run: string, chunk: ChunkWork): Promise<void> {
    const slot = this.slotFor(run);
    ComputePool.unwrap(await this.request(slot, { op: 'chunk', run, chunk }, [chunk.data.buffer as ArrayBuffer]));
  }

  async end(run: string, context: AnalysisContext): Promise<SnapshotAnalysis> {
    return ComputePool.unwrap(await this.request(this.slotFor(run), { op: 'end', run, context }))!;
  }

  /** Drops a snapshot in progress (rejected, or its stream went away). Never throws. */
  async abort(run: string): Promise<void> {
    const slot = this.byRun.get(run);
    if (slot) await this.request(slot, { op: 'abort', run }).catch(() => undefined);
  }

  /** Forgets a run (ended or evicted): frees its reference kernels in the worker. Never throws. */
  async drop(run: string): Promise<void> {
    const slot = this.byRun.get(run);
    if (!slot) return;
    slot.runs.delete(run);
    this.byRun.delete(run);
    await this.request(slot, { op: 'drop', run }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting;
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      for (const w of slot.waiting.values()) w.reject(new SidecarError(Code.UNAVAILABLE, 'sidecar is shutting down; resend after reconnecting', 'snapshot'));
      slot.waiting.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
