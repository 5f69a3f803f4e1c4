/**
 * The real sidecar as a separate process, the way an operator runs it: `ntk-sidecar serve` from a private build of
 * src/ (plain JavaScript, as installed; `NTK_BENCH_SIDECAR=tsx` runs the sources through tsx instead), on
 * loopback ports chosen by the OS, with a throw-away data directory. Peak memory is read from /proc/<pid>/status.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_DIR = path.join(REPO_ROOT, '.bench-out', 'sidecar');
const BUILT_ENTRY = path.join(BUILD_DIR, 'dist', 'cli', 'main.js');

/**
 * Compiles src/ into .bench-out/sidecar/dist (git-ignored), next to copies of package.json and proto/ that the
 * built code reads relative to itself; node_modules resolve from the repository root above it. Returns the entry.
 * The harness (bench/run.ts) builds once and hands the entry to every bench through NTK_BENCH_SIDECAR.
 */
export function buildSidecar(): string {
  rmSync(path.join(BUILD_DIR, 'dist'), { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const res = spawnSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(BUILD_DIR, 'dist'), '--declaration', 'false', '--sourceMap', 'false'],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  // tsc still emits on type errors (another engineer's edit in progress); only a missing entry is fatal.
  if (!existsSync(BUILT_ENTRY)) throw new Error(`building the sidecar failed (tsc exit ${res.status}):\n${res.stdout}${res.stderr}`);
  if (res.status !== 0) console.error(`warning: tsc reported errors while building the sidecar; the emitted JavaScript is used:\n${res.stdout.slice(0, 2000)}`);
  cpSync(path.join(REPO_ROOT, 'package.json'), path.join(BUILD_DIR, 'package.json'));
  cpSync(path.join(REPO_ROOT, 'proto'), path.join(BUILD_DIR, 'proto'), { recursive: true });
  return BUILT_ENTRY;
}

let builtEntry: string | undefined;

/** node arguments that start the CLI: the built entry (default, built once per process), or the sources through tsx. */
function cliCommand(): string[] {
  const how = process.env.NTK_BENCH_SIDECAR;
  if (how === 'tsx') return ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts')];
  if (how && existsSync(how)) return [how];
  builtEntry ??= buildSidecar();
  return [builtEntry];
}

/** clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux this runs on). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by a process and by its main thread alone, from /proc (NaN off Linux).
 * A main thread whose CPU time grows as fast as the wall clock is the bottleneck of a stream.
 */
export function cpuSeconds(pid: number): { process: number; mainThread: number } {
  const ticks = (file: string) => {
    try {
      // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(file, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / USER_HZ;
    } catch {
      return NaN;
    }
  };
  return { process: ticks(`/proc/${pid}/stat`), mainThread: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

export interface SidecarOptions {
  /** --backend: auto | gpujs | reference (or whatever the CLI accepts). */
  backend: string;
  /** Extra `serve` flags, e.g. ['--compute-workers', '1']. */
  flags?: string[];
}

export class SidecarProcess {
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
  ) {
    child.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    child.stdout!.resume();
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  grpcAddress = '';
  metricsUrl = '';
  /** The Gram backend that actually runs, as the sidecar reports it. */
  backend = '';

  get pid(): number {
    return this.child.pid!;
  }

  static async start(opts: SidecarOptions): Promise<SidecarProcess> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ntk-bench-data-'));
    const args = [...cliCommand(), 'serve', '--grpc-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', '--backend', opts.backend, ...(opts.flags ?? [])];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, NTK_SIDECAR_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new SidecarProcess(child, dataDir);
    const started = Date.now();
    for (;;) {
      const m = /serving gRPC on (\S+?), metrics on (http:\/\/\S+)\/metrics, backend (\S+)/.exec(p.stderr);
      if (m) {
        [, p.grpcAddress, p.metricsUrl, p.backend] = m;
        return p;
      }
      if (child.exitCode !== null) throw new Error(`sidecar exited with ${child.exitCode} before serving:\n${p.stderr}`);
      if (Date.now() - started > 120_000) {
        await p.stop();
        throw new Error(`sidecar did not start within 120 s:\n${p.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything the sidecar wrote to stderr so far (its log). */
  log(): string {
    return this.stderr;
  }

  /** Peak and current resident set of the sidecar process (all its threads), in bytes; NaN off Linux. */
  memory(): { peak: number; current: number } {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      return { peak: kb('VmHWM'), current: kb('VmRSS') };
    } catch {
      return { peak: NaN, current: NaN };
    }
  }

  /** Sum and count of a Prometheus histogram's series whose labels contain every `labels` pair. */
  async histogram(name: string, labels: Record<string, string>): Promise<{ sum: number; count: number }> {
    const text = await (await fetch(`${this.metricsUrl}/metrics`)).text();
    const pick = (suffix: string) => {
      let total = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}_${suffix}{`)) continue;
        if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return total;
    };
    return { sum: pick('sum'), count: pick('count') };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
