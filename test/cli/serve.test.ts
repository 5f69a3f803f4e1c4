/**
 * `ntk-sidecar serve` as a real process: flags, the bound addresses it prints, health endpoints, a config
 * error's exit code, and SIGTERM → graceful exit 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('ntk-sidecar serve', () => {
  it('serves on the addresses it was given and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-serve-'));
    const p = run(['serve', '--grpc-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', '--backend', 'reference'], { NTK_SIDECAR_COMPUTE_WORKERS: '1', NTK_SIDECAR_DATA_DIR: dataDir });
    await expect.poll(() => p.err(), { timeout: 30_000, interval: 100 }).toMatch(/metrics on (http:\/\/\S+)\/metrics/);
    const line = /serving gRPC on (127\.0\.0\.1:\d+), metrics on (http:\/\/\S+)\/metrics, backend (\S+)/.exec(p.err())!;
    expect(line[1]).not.toBe('127.0.0.1:0');
    expect(line[3]).toBe('reference');
    const health = await fetch(`${line[2]}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${line[2]}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${line[2]}/metrics`)).text()).toMatch(/ntk_sidecar_compute_backend_info\{backend="reference"\} 1/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.err()).toMatch(/SIGTERM: shutting down/);
  });

  it('refuses bad configuration with exit code 2 and the offending value', async () => {
    const p = run(['serve', '--max-rows', 'many']);
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(/--max-rows="many" is not a non-negative integer/);
    const q = run(['serve', '--no-such-flag']);
    expect(await q.exited).toBe(2);
    expect(q.err()).toMatch(/no-such-flag/);
  });

  it('prints help and version', async () => {
    const p = run(['--help']);
    expect(await p.exited).toBe(0);
    expect(p.out()).toMatch(/--grpc-addr\s+gRPC listen address.*\[NTK_SIDECAR_GRPC_ADDR\]/);
    const v = run(['--version']);
    expect(await v.exited).toBe(0);
    expect(v.out().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
