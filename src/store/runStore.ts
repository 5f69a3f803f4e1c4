/**
 * Run history that survives restarts (docs/design.md §2 store/): one JSON file per run under <data-dir>/runs/, written
 * atomically (temp file + rename) after every decision and when a run ends, read back at start-up. A restarted
 * sidecar therefore still answers GetRun/CheckStop for known runs, and a trainer that reconnects resumes with its
 * loss history, detector state and latched decision. Reference kernels stay in memory only (8·N² bytes each): the
 * first snapshot after a restart starts a fresh drift baseline.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FORMAT = 1;

/** JSON with typed arrays, byte buffers, maps and non-finite numbers preserved. */
function replacer(this: unknown, key: string, converted: unknown): unknown {
  // `converted` has been through toJSON (Buffer → {type, data}); the holder still has the original.
  const value = (this as Record<string, unknown>)[key] ?? converted;
  if (value instanceof Float64Array) return { $f64: Array.from(value, (v) => (Number.isFinite(v) ? v : String(v))) };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Map) return { $map: [...value.entries()] };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
  return converted;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ('$f64' in v) return Float64Array.from(v.$f64 as Array<number | string>, Number);
    if ('$bytes' in v) return Buffer.from(v.$bytes as string, 'base64');
    if ('$map' in v) return new Map(v.$map as Array<[unknown, unknown]>);
    if ('$num' in v) return Number(v.$num);
  }
  return value;
}

/** A file name that cannot escape the directory, whatever the run id holds. */
function fileName(runId: string): string {
  return `${encodeURIComponent(runId).replace(/\./g, '%2E')}.json`;
}

export class RunStore {
  private readonly dir: string;
  /** One write in flight per run; a newer state waits behind it and supersedes any older waiting one. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, unknown>();

  constructor(dataDir: string, private readonly onError: (message: string) => void) {
    this.dir = join(dataDir, 'runs');
  }

  async open(): Promise<unknown[]> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create the run history directory ${this.dir}: ${(err as Error).message}; set --data-dir to a writable directory`, { cause: err });
    }
    const runs: unknown[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const doc = JSON.parse(await readFile(join(this.dir, name), 'utf8'), reviver) as { format: number; run: unknown };
        if (doc.format !== FORMAT) throw new Error(`format ${doc.format}, expected ${FORMAT}`);
        runs.push(doc.run);
      } catch (err) {
        this.onError(`run history ${join(this.dir, name)} is unreadable and was skipped: ${(err as Error).message}`);
      }
    }
    return runs;
  }

  /** Queues the run's state for writing; returns when it (or a newer state) is on disk. */
  save(runId: string, run: unknown): Promise<void> {
    this.queued.set(runId, run);
    const previous = this.writing.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!this.queued.has(runId)) return;
      const state = this.queued.get(runId);
      this.queued.delete(runId);
      const path = join(this.dir, fileName(runId));
      const tmp = `${path}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify({ format: FORMAT, run: state }, replacer));
        await rename(tmp, path);
      } catch (err) {
        this.onError(`cannot write run history ${path}: ${(err as Error).message}`);
      }
    });
    this.writing.set(runId, next);
    void next.finally(() => {
      if (this.writing.get(runId) === next) this.writing.delete(runId);
    });
    return next;
  }

  async remove(runId: string): Promise<void> {
    this.queued.delete(runId);
    await this.writing.get(runId);
    await rm(join(this.dir, fileName(runId)), { force: true }).catch((err: unknown) => this.onError(`cannot remove run history for ${runId}: ${String(err)}`));
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()]);
  }
}
