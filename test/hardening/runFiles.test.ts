/**
 * Defect 3 and the store part of defect 8 (issue 14): a run file of any wrong shape is named in a warning and moved
 * to runs/unreadable/ while the good runs are restored; leftover .tmp files are deleted; the CLI serves (it used to
 * hang with no port bound) and a start-up failure exits non-zero.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer } from '../support/startTestServer.js';

const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array(3) };

/** A data dir holding one good run "good" (with a decision), returned with the good file's text. */
async function dataDirWithGoodRun(): Promise<{ dataDir: string; goodText: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ntk-runfiles-'));
  const server = await startTestServer((c) => (c.dataDir = dataDir));
  const client = new NtkSidecarClient(server.grpcTarget);
  const run = client.attach({ run_id: 'good', probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });
  await run.accepted;
  await run.sendSnapshot({ id: 1, step: 10, trainLoss: 1, tensors: [logits] });
  run.cancel();
  await run.closed;
  client.close();
  await server.stop();
  return { dataDir, goodText: readFileSync(join(dataDir, 'runs', 'good.json'), 'utf8') };
}

const BAD_SHAPES: Record<string, string> = {
  'null.json': 'null',
  'array.json': '[]',
  'number.json': '42',
  'no-format.json': '{}',
  'no-run.json': '{"format":1}',
  'run-null.json': '{"format":1,"run":null}',
  'run-empty.json': '{"format":1,"run":{}}',
  'run-array.json': '{"format":1,"run":[1,2]}',
  'no-start.json': '{"format":1,"run":{"id":"no-start"}}',
  'truncated.json': '{"format":1,"run":{"id":"tr',
};

describe('run files of every wrong shape', () => {
  it('are named, moved to runs/unreadable/, and the good run is restored', async () => {
    const { dataDir, goodText } = await dataDirWithGoodRun();
    const runs = join(dataDir, 'runs');
    for (const [name, text] of Object.entries(BAD_SHAPES)) writeFileSync(join(runs, name), text);
    // A valid document under another run's file name (copied by hand): it would shadow or duplicate that run.
    writeFileSync(join(runs, 'copy-of-good.json'), goodText);
    // Wrong field types inside an otherwise valid document.
    const wrongTypes = JSON.parse(goodText) as { run: Record<string, unknown> };
    wrongTypes.run.id = 'wrong-types';
    (wrongTypes.run.start as Record<string, unknown>).run_id = 'wrong-types';
    wrongTypes.run.observed = 'not an array';
    writeFileSync(join(runs, 'wrong-types.json'), JSON.stringify(wrongTypes));
    // What a crash between writeFile and rename leaves behind.
    writeFileSync(join(runs, 'good.json.tmp'), '{"format":1,"run":{"id":"go');

    const warnings: string[] = [];
    const server = await startTestServer((c) => (c.dataDir = dataDir), { log: (level, m) => level === 'warn' && warnings.push(m) });
    const client = new NtkSidecarClient(server.grpcTarget);
    try {
      expect((await client.getRun('good')).snapshots_accepted).toBe(1);
      const text = warnings.join('\n');
      for (const name of [...Object.keys(BAD_SHAPES), 'copy-of-good.json', 'wrong-types.json']) {
        expect(text, name).toContain(join(runs, name));
        expect(existsSync(join(runs, 'unreadable', name)), name).toBe(true);
      }
      expect(text).toMatch(/wrong-types\.json.*"observed" is not an array/);
      expect(readdirSync(runs).sort()).toEqual(['good.json', 'unreadable']);
      // The server works: a new run starts.
      const run = client.attach({ run_id: 'after', probe: { num_samples: 3, num_outputs: 1 }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });
      expect((await run.accepted).resumed).toBe(false);
      await run.finish();
    } finally {
      client.close();
      await server.stop();
    }
  });
});

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

function cli(args: string[]) {
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, NTK_SIDECAR_COMPUTE_WORKERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, err: () => stderr };
}

describe('ntk-sidecar serve with a malformed run file', () => {
  it('serves (naming the file) instead of hanging with no port bound', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-cli-runfile-'));
    mkdirSync(join(dataDir, 'runs'));
    writeFileSync(join(dataDir, 'runs', 'bad-shape.json'), '{"format":1,"run":{"id":"bad-shape"}}');
    const p = cli(['serve', '--grpc-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0', '--backend', 'reference', '--data-dir', dataDir]);
    try {
      await expect.poll(() => p.err(), { timeout: 30_000, interval: 100 }).toMatch(/serving gRPC on/);
      expect(p.err()).toMatch(/bad-shape\.json is unreadable and was moved to/);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it('exits 1 when start-up fails after the compute workers started (metrics port taken)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-cli-busy-'));
    const p = cli(['serve', '--grpc-addr', '127.0.0.1:0', '--metrics-addr', `127.0.0.1:${port}`, '--backend', 'reference', '--data-dir', dataDir]);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    const code = await p.exited;
    clearTimeout(timer);
    blocker.close();
    expect(code).toBe(1);
    expect(p.err()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} for metrics`));
  });
});
