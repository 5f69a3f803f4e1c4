/**
 * Defect 2 (issue 14): ids and labels are bounded in bytes and must be valid UTF-8; ListRuns is paged; a long
 * (but allowed) id is persisted and restored. Each refusal names the field, the size and the limit, and the server
 * and other runs keep working.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import type { ListRunsResponse__Output } from '../../src/gen/ntksidecar/v1/ListRunsResponse.js';
import { rawAttachStatus, statusOf } from './helpers.js';

let server: TestServer;
let client: NtkSidecarClient;

beforeAll(async () => {
  server = await startTestServer((c) => (c.limits.maxActiveRuns = 16));
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const start = (runId: string, extra: Partial<RunStart> = {}): RunStart => ({
  run_id: runId,
  probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h' },
  loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 },
  ...extra,
});

async function refused(s: RunStart): Promise<grpc.StatusObject> {
  const run = client.attach(s);
  return run.closed;
}

async function canaryWorks(): Promise<void> {
  const id = `canary-${Math.random().toString(36).slice(2, 8)}`;
  const run = client.attach(start(id));
  expect((await run.accepted).run_id).toBe(id);
  expect((await run.finish()).code).toBe(0);
}

/** Protobuf varint / length-delimited field helpers, to send bytes no proto library would produce. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function field(no: number, bytes: Uint8Array): Buffer {
  return Buffer.from([...varint((no << 3) | 2), ...varint(bytes.length), ...bytes]);
}

describe('ids and labels', () => {
  it('refuses a 1 MiB run_id before anything is allocated, with the size and the limit', async () => {
    const status = await refused(start('r'.repeat(1024 * 1024)));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/RunStart\.run_id is 1048576 bytes .*limit of 256 bytes/);
    expect(status.details.length).toBeLessThan(400);
    expect([...server.server.ctx.runs.values()].some((r) => r.id.length > 256)).toBe(false);
    await canaryWorks();
  });

  it.each([
    ['job_id', { job_id: 'j'.repeat(257) }, /RunStart\.job_id is 257 bytes/],
    ['cohort', { cohort: 'c'.repeat(300) }, /RunStart\.cohort is 300 bytes/],
    ['sample_ids_hash', { probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h'.repeat(257) } }, /sample_ids_hash is 257 bytes/],
    ['33 labels', { labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /labels has 33 entries, over the limit of 32/],
    ['a long label key', { labels: { ['k'.repeat(65)]: 'v' } }, /65 bytes.*limit of 64/],
    ['a long label value', { labels: { k: 'v'.repeat(8 * 1024 * 1024) } }, /8388608 bytes.*limit of 256/],
    ['a control character', { job_id: 'a\nb' }, /control character/],
  ])('refuses %s', async (_name, extra, message) => {
    const status = await refused(start(`lim-${Math.random().toString(36).slice(2, 8)}`, extra as Partial<RunStart>));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(message);
    await canaryWorks();
  });

  it('counts bytes, not characters: 128 × "é" (256 bytes) is accepted, 129 is not', async () => {
    const ok = client.attach(start('é'.repeat(128), { labels: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'é'.repeat(128)])) }));
    expect((await ok.accepted).run_id).toBe('é'.repeat(128));
    await ok.finish();
    const status = await refused(start('é'.repeat(129)));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/258 bytes/);
  });

  it('refuses invalid UTF-8 instead of colliding on U+FFFD', async () => {
    // TrainerMessage{start: RunStart{run_id: 0x61 0xff, probe{num_samples: 3}}}: two ids that differ only in their
    // invalid byte would otherwise both become "a\ufffd".
    const probe = Buffer.from([...varint((1 << 3) | 0), 3]); // ProbeSet.num_samples = 3
    const runStart = Buffer.concat([field(1, Uint8Array.from([0x61, 0xff])), field(7, probe)]);
    const message = field(1, runStart);
    const status = await rawAttachStatus(server.grpcTarget, message);
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/RunStart\.run_id "a\ufffd" is not valid UTF-8/);
    expect(server.server.ctx.runs.get('a\ufffd')).toBeUndefined();
  });

  it('unary calls refuse oversized ids with INVALID_ARGUMENT (not a NOT_FOUND echoing 1 MiB)', async () => {
    const long = 'x'.repeat(1024 * 1024);
    for (const call of [() => client.getRun(long), () => client.checkStop({ runId: long }), () => client.checkStop({ jobId: long }), () => client.endRun(long), () => client.listRuns({ cohort: long })]) {
      const err = statusOf(await call().then(() => undefined, (e: unknown) => e));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/1048576 bytes/);
      expect(err.details.length).toBeLessThan(400);
    }
  });
});

describe('ListRuns paging', () => {
  function list(req: { page_size?: number; page_token?: string; job_id?: string }): Promise<ListRunsResponse__Output> {
    return new Promise((resolve, reject) =>
      client.raw.ListRuns({ job_id: '', cohort: '', ...req }, client.metadata(), (err, res) => (err ? reject(err) : resolve(res!))),
    );
  }

  it('pages by run_id with a token, refuses page_size > 1000 and foreign tokens', async () => {
    const ids = ['page-c', 'page-a', 'page-e', 'page-b', 'page-d'];
    for (const id of ids) {
      const run = client.attach(start(id, { job_id: 'paging' }));
      await run.accepted;
      await run.finish();
    }
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const res = await list({ job_id: 'paging', page_size: 2, page_token: token });
      expect(res.runs.length).toBeLessThanOrEqual(2);
      seen.push(...res.runs.map((r) => r.run_id));
      token = res.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
    const all = await list({ job_id: 'paging' });
    expect(all.runs).toHaveLength(5);
    expect(all.next_page_token).toBe('');

    const tooBig = statusOf(await list({ page_size: 1001 }).catch((e: unknown) => e));
    expect(tooBig.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(tooBig.details).toMatch(/page_size is 1001, over the maximum of 1000/);
    const foreign = statusOf(await list({ page_token: '%%%' }).catch((e: unknown) => e));
    expect(foreign.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(foreign.details).toMatch(/page_token/);
  });
});

describe('long ids are persisted', () => {
  it('a 256-byte id whose percent-encoding exceeds 255 bytes survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-longid-'));
    const warnings: string[] = [];
    const log = (level: string, message: string) => void (level === 'warn' && warnings.push(message));
    const first = await startTestServer((c) => (c.dataDir = dataDir), { log });
    let c = new NtkSidecarClient(first.grpcTarget);
    const runId = 'é'.repeat(128); // 256 bytes; encodeURIComponent makes 768 characters
    const run = c.attach({ ...start(runId), budget: { max_steps: 5 } });
    await run.accepted;
    const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array(3) };
    const res = await run.sendSnapshot({ id: 1, step: 10, trainLoss: 1, tensors: [logits] });
    expect(res.decision?.action).toBe('ACTION_STOP');
    await run.finish();
    c.close();
    await first.stop();
    expect(warnings.join('\n')).not.toMatch(/cannot write/);

    const second = await startTestServer((cfg) => (cfg.dataDir = dataDir), { log });
    c = new NtkSidecarClient(second.grpcTarget);
    expect(await c.getRun(runId)).toMatchObject({ run_id: runId, state: 'ended', snapshots_accepted: 1 });
    c.close();
    await second.stop();
  });
});
