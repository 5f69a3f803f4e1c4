/**
 * Run history that survives restarts (docs/design.md §2 store/): one JSON file per run under <data-dir>/runs/, written
 * atomically (temp file + rename) after every decision and when a run ends, read back at start-up. A restarted
 * sidecar therefore still answers GetRun/CheckStop for known runs, and a trainer that reconnects resumes with its
 * loss history, detector state and latched decision. Reference kernels stay in memory only (8·N² bytes each): the
 * first snapshot after a restart starts a fresh drift baseline.
 */
import { createHash } from 'node:crypto';
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

/** Longest file name written (most file systems allow 255 bytes; `.tmp` is appended while writing). */
const MAX_FILE_NAME = 200;

/**
 * A file name that cannot escape the directory, whatever the run id holds: the id percent-encoded (dots too), or —
 * when that would be longer than MAX_FILE_NAME or the id is not encodable (a lone surrogate) — its first 100
 * encoded characters, `%~` and the SHA-256 of the id. `%~` never occurs in a percent-encoding, so the two forms
 * cannot collide; the run id itself is stored inside the file.
 */
export function fileName(runId: string, suffix = '.json'): string {
  let encoded: string | undefined;
  try {
    encoded = encodeURIComponent(runId).replace(/\./g, '%2E');
  } catch {
    encoded = undefined; // URIError: lone surrogate
  }
  if (encoded !== undefined && encoded.length + suffix.length <= MAX_FILE_NAME) return `${encoded}${suffix}`;
  const hash = createHash('sha256').update(runId, 'utf16le').digest('hex');
  return `${(encoded ?? '').slice(0, 100)}%~${hash}${suffix}`;
}

/** One run document read back at start-up, with the file it came from. */
export interface StoredFile {
  path: string;
  /** The file's name matches fileName(run.id) (a renamed or copied file does not). */
  name: string;
  run: unknown;
}

export class RunStore {
  private readonly dir: string;
  /** One write in flight per run; a newer state waits behind it and supersedes any older waiting one. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, unknown>();

  constructor(dataDir: string, private readonly onError: (message: string) => void) {
    this.dir = join(dataDir, 'runs');
  }

  /**
   * Creates the directory, deletes `.tmp` files left by a crash or a full disk (a rename never happened, so the
   * `.json` next to it is the last complete state), and reads every run file. A file that is not JSON or not
   * this format is moved to `runs/unreadable/` with a warning (kept for inspection, never read again).
   */
  async open(): Promise<StoredFile[]> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create the run history directory ${this.dir}: ${(err as Error).message}; set --data-dir to a writable directory`, { cause: err });
    }
    const runs: StoredFile[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true }).catch((err: unknown) => this.onError(`cannot delete the leftover temporary file ${path}: ${(err as Error).message}`));
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const doc = JSON.parse(await readFile(path, 'utf8'), reviver) as { format?: unknown; run?: unknown } | null;
        if (doc === null || typeof doc !== 'object') throw new Error(`not a run history document (${doc === null ? 'null' : typeof doc})`);
        if (doc.format !== FORMAT) throw new Error(`format ${String(doc.format)}, expected ${FORMAT}`);
        runs.push({ path, name, run: doc.run });
      } catch (err) {
        await this.setAside(name, (err as Error).message);
      }
    }
    return runs;
  }

  /** Moves an unusable run file to runs/unreadable/ (or leaves it where it is if that fails), with a warning. */
  async setAside(name: string, why: string): Promise<void> {
    const from = join(this.dir, name);
    const to = join(this.dir, 'unreadable', name);
    try {
      await mkdir(join(this.dir, 'unreadable'), { recursive: true });
      await rename(from, to);
      this.onError(`run history ${from} is unreadable and was moved to ${to}: ${why}`);
    } catch (err) {
      this.onError(`run history ${from} is unreadable and was skipped (${why}); moving it aside failed too: ${(err as Error).message}`);
    }
  }

  /** Queues the run's state for writing; returns when it (or a newer state) is on disk. Never rejects. */
  save(runId: string, run: unknown): Promise<void> {
    this.queued.set(runId, run);
    const previous = this.writing.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!this.queued.has(runId)) return;
      const state = this.queued.get(runId);
      this.queued.delete(runId);
      let path = this.dir;
      try {
        path = join(this.dir, fileName(runId));
        const tmp = `${path}.tmp`;
        try {
          await writeFile(tmp, JSON.stringify({ format: FORMAT, run: state }, replacer));
          await rename(tmp, path);
        } catch (err) {
          await rm(tmp, { force: true }).catch(() => undefined); // a full disk leaves no half-written file behind
          throw err;
        }
      } catch (err) {
        this.onError(`cannot write run history ${path} for run ${JSON.stringify(runId.slice(0, 64))}: ${(err as Error).message}`);
      }
    });
    this.writing.set(runId, next);
    void next.finally(() => {
      if (this.writing.get(runId) === next) this.writing.delete(runId);
    });
    return next;
  }

  /** Deletes a run's file (an evicted ended run). Never rejects. */
  async remove(runId: string): Promise<void> {
    this.queued.delete(runId);
    await this.writing.get(runId);
    try {
      await rm(join(this.dir, fileName(runId)), { force: true });
    } catch (err) {
      this.onError(`cannot remove run history for ${JSON.stringify(runId.slice(0, 64))}: ${(err as Error).message}`);
    }
  }

  /**
   * Moves a run's file to runs/evicted/ (an evicted run that had not ended: its trainer may come back, and an
   * operator may want its history). A later run with the same id starts a new file. Never rejects.
   */
  async evict(runId: string): Promise<void> {
    this.queued.delete(runId);
    await this.writing.get(runId);
    try {
      const name = fileName(runId);
      await mkdir(join(this.dir, 'evicted'), { recursive: true });
      await rename(join(this.dir, name), join(this.dir, 'evicted', name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // never written (no decision yet)
      this.onError(`cannot move the run history of evicted run ${JSON.stringify(runId.slice(0, 64))} to ${join(this.dir, 'evicted')}: ${(err as Error).message}`);
    }
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()]);
  }
}
