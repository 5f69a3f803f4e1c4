/**
 * The real `ntk-sidecar serve` as a child process (through tsx, so no build is needed) for fault tests: start on a
 * given or free port, wait for the "serving gRPC on" line, read its stderr, kill it (SIGKILL or SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'serve'];

export interface SidecarProcess {
  child: ChildProcess;
  grpcTarget: string;
  /** Everything written to stderr so far (the log). */
  log(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

/** A TCP port that was free a moment ago (so that a restarted sidecar can listen where the trainer expects it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startSidecarProcess(opts: { port: number; dataDir: string; args?: string[]; timeoutMs?: number }): Promise<SidecarProcess> {
  const child = spawn(
    process.execPath,
    [...CLI, '--grpc-addr', `127.0.0.1:${opts.port}`, '--metrics-addr', 'off', '--backend', 'reference', '--data-dir', opts.dataDir, '--log-level', 'info', ...(opts.args ?? [])],
    { env: { ...process.env, NTK_SIDECAR_COMPUTE_WORKERS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!/serving gRPC on /.test(stderr)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sidecar exited before serving:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sidecar did not serve within ${opts.timeoutMs ?? 30_000} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const target = /serving gRPC on (\S+?),? /.exec(stderr)![1];
  return {
    child,
    grpcTarget: target,
    log: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
