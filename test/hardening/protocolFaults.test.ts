/**
 * Defect 8 (issue 14): protobuf garbage is INVALID_ARGUMENT (not INTERNAL, which errors.md calls a sidecar bug);
 * evicting a run that had not ended keeps its history (runs/evicted/); RunStore file-name and disk errors are
 * warnings, never unhandled rejections.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { RunStore } from '../../src/store/runStore.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import { rawAttachStatus } from './helpers.js';

let server: TestServer;
let client: NtkSidecarClient;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ntk-protofaults-'));
  server = await startTestServer((c) => {
    c.dataDir = dataDir;
    c.limits.maxActiveRuns = 2;
  });
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const start = (runId: string): RunStart => ({ run_id: runId, probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });
const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array(3) };
// An unknown field 15 with wire type 7, which does not exist: the decoder cannot skip it.
const GARBAGE = Buffer.from([0x7f, 0x01, 0x02]);

describe('protobuf garbage', () => {
  it('a unary request that does not decode is INVALID_ARGUMENT', async () => {
    const raw = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure());
    for (const method of ['GetRun', 'CheckStop', 'ListRuns', 'EndRun']) {
      const err = await new Promise<grpc.ServiceError>((resolve) =>
        raw.makeUnaryRequest(`/ntksidecar.v1.NtkSidecar/${method}`, (b: Buffer) => b, (b: Buffer) => b, GARBAGE, (e) => resolve(e!)),
      );
      expect(err.code, method).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(new RegExp(`not a valid ${method}Request protobuf message`));
    }
    raw.close();
  });

  it('an Attach message that does not decode ends the stream with a client-error code, and the server goes on', async () => {
    const status = await rawAttachStatus(server.grpcTarget, GARBAGE);
    expect([grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION]).toContain(status.code);
    const canary = client.attach(start('canary-garbage'));
    await canary.accepted;
    await canary.finish();
  });
});

describe('eviction', () => {
  it('evicting a detached run keeps its history file in runs/evicted/', async () => {
    const detached = client.attach(start('detached-a'));
    await detached.accepted;
    await detached.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits] });
    detached.cancel();
    await detached.closed;
    await expect.poll(() => existsSync(join(dataDir, 'runs', 'detached-a.json'))).toBe(true);
    // The table (2) holds canary-garbage (ended) and detached-a: the ended run goes first, its file with it.
    const b = client.attach(start('attached-b'));
    await b.accepted;
    expect(server.server.ctx.runs.get('canary-garbage')).toBeUndefined();
    const c = client.attach(start('attached-c'));
    await c.accepted; // evicts detached-a, which had not ended
    expect(server.server.ctx.runs.get('detached-a')).toBeUndefined();
    await expect.poll(() => existsSync(join(dataDir, 'runs', 'evicted', 'detached-a.json'))).toBe(true);
    expect(existsSync(join(dataDir, 'runs', 'detached-a.json'))).toBe(false);
    await b.finish();
    await c.finish();
  });
});

describe('RunStore', () => {
  it('turns file-name and disk errors into warnings, never unhandled rejections', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ntk-store-'));
      const warnings: string[] = [];
      const store = new RunStore(dir, (m) => warnings.push(m));
      await store.open();
      // A lone surrogate cannot be percent-encoded (URIError): it gets a hashed name instead.
      await store.save('lone \ud800 surrogate', { id: 'x' });
      expect(readdirSync(join(dir, 'runs')).some((n) => n.includes('%~'))).toBe(true);
      await store.remove('lone \ud800 surrogate');
      await store.evict('never-written');
      if (process.getuid?.() !== 0) {
        chmodSync(join(dir, 'runs'), 0o500); // read-only data dir
        await store.save('read-only', { id: 'read-only' });
        chmodSync(join(dir, 'runs'), 0o700);
        expect(warnings.join('\n')).toMatch(/cannot write run history .*read-only/);
        expect(readdirSync(join(dir, 'runs')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
