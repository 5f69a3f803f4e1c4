/** Spawning the bench's helper processes: the stream client and the do-nothing gRPC server. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './sidecarProcess.js';
import type { StreamPlan, StreamResult } from './streamClient.js';

const STREAM_RESULT = 'STREAM_RESULT ';
const TSX = ['--import', 'tsx'];

/** Runs bench/support/streamClient.ts as its own process and returns its timed snapshots. */
export function runStreamClient(plan: StreamPlan): Promise<StreamResult[]> {
  const child = spawn(process.execPath, [...TSX, path.join(REPO_ROOT, 'bench', 'support', 'streamClient.ts'), JSON.stringify(plan)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`stream client exited with ${code}: ${err.trim().split('\n').slice(-5).join('\n')}`));
        return;
      }
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith(STREAM_RESULT))
          .map((l) => JSON.parse(l.slice(STREAM_RESULT.length)) as StreamResult),
      );
    });
  });
}

export class RawServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static start(): Promise<RawServer> {
    const child = spawn(process.execPath, [...TSX, path.join(REPO_ROOT, 'bench', 'support', 'rawServer.ts')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /raw server on (\S+)/.exec(out);
        if (m) resolve(new RawServer(child, m[1]));
      });
      child.on('exit', (code) => reject(new Error(`raw server exited with ${code}: ${err}`)));
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.on('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
