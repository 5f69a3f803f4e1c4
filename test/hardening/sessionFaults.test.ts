/**
 * Issue 14, the rest of #7 and #8 and the generic INTERNAL, on the real server with real grpc-js clients:
 * - an unknown (non-SidecarError) failure reaches the trainer as a generic INTERNAL with a reference, the detail only
 *   in the log under the same reference (stream status and snapshot ack alike);
 * - a chunk/SnapshotEnd for a snapshot id never opened on the stream is never acked (FAILED_PRECONDITION ends the
 *   stream); a late one for a closed snapshot gets exactly one INVALID_ARGUMENT ack and the stream goes on;
 * - EndRun from another client: the owner gets a negative ack for a snapshot in progress and the stream ends with
 *   FAILED_PRECONDITION "run ended by EndRun from another client; start a new run_id".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import { waitFor } from './helpers.js';

let server: TestServer;
let client: NtkSidecarClient;
const logs: string[] = [];

beforeAll(async () => {
  server = await startTestServer(undefined, { log: (level, message) => logs.push(`${level} ${message}`) });
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const start = (runId: string): RunStart => ({ run_id: runId, probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });
const logits = (v = 0) => ({ kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array([v, 1, 2]) });
const GENERIC = /^internal error \((ref \d+-\d+)\); the sidecar logged the details — report them, then retry with backoff$/;

async function receivedBytes(): Promise<number> {
  const m = await server.server.ctx.metrics.receivedBytes.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

describe('unknown errors on an Attach stream', () => {
  it('end the stream with a generic INTERNAL and a reference; the detail is only in the log', async () => {
    const pool = server.server.ctx.pool;
    const begin = pool.begin.bind(pool);
    pool.begin = () => Promise.reject(new Error('secret detail: /var/lib/ntk/key.pem at worker.ts:42'));
    try {
      const run = client.attach(start('internal-stream'));
      await run.accepted;
      await run.write({ header: { snapshot_id: 1, step: 1, train_loss: 1, tensors: [{ tensor: 'TENSOR_KIND_LOGITS', dtype: 'DTYPE_F64', rows: 3, cols: 1 }] } });
      const status = await run.closed;
      expect(status.code).toBe(grpc.status.INTERNAL);
      expect(status.details).toMatch(GENERIC);
      expect(status.details).not.toMatch(/secret/);
      const ref = GENERIC.exec(status.details)![1];
      expect(logs.find((l) => l.includes(`(${ref})`))).toMatch(/^error attach stream failed \(run "internal-stream"\) \(ref \d+-\d+\): Error: secret detail/);
    } finally {
      pool.begin = begin;
    }
  });

  it('a compute-worker chunk failure is a negative ack with a generic INTERNAL; the stream goes on', async () => {
    const pool = server.server.ctx.pool;
    const chunk = pool.chunk.bind(pool);
    pool.chunk = () => Promise.reject(new TypeError('cannot read properties of undefined (reading "secretField")'));
    const run = client.attach(start('internal-ack'));
    try {
      await run.accepted;
      const { ack } = await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits()] });
      expect(ack.accepted).toBe(false);
      expect(ack.code).toBe(grpc.status.INTERNAL);
      expect(ack.message).toMatch(GENERIC);
      expect(ack.message).not.toMatch(/secretField/);
      const ref = GENERIC.exec(ack.message)![1];
      expect(logs.find((l) => l.includes(`(${ref})`))).toMatch(/snapshot 1: a chunk failed in the compute worker.*secretField/s);
    } finally {
      pool.chunk = chunk;
    }
    const next = await run.sendSnapshot({ id: 2, step: 2, trainLoss: 1, tensors: [logits()] });
    expect(next.ack.accepted).toBe(true);
    expect(next.decision).toBeDefined();
    expect((await run.finish()).code).toBe(grpc.status.OK);
  });
});

describe('stray chunks and SnapshotEnds', () => {
  it('an id never opened on the stream is not acked: FAILED_PRECONDITION ends the stream, the run resumes', async () => {
    const run = client.attach(start('stray-unopened'));
    await run.accepted;
    expect((await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits()] })).ack.accepted).toBe(true);
    // Snapshot 5 was never opened: acking it would leave a stale ack for the trainer's real snapshot 5.
    await run.write({ chunk: { snapshot_id: 5, tensor: 'TENSOR_KIND_LOGITS', dtype: 'DTYPE_F64', offset: 0, rows: 3, cols: 1, data: new Uint8Array(24) } });
    const status = await run.closed;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toMatch(/^chunk for snapshot 5, which no SnapshotHeader on this stream opened \(no snapshot is open\); send SnapshotHeader/);
    expect(run.received.filter((m) => m.ack?.snapshot_id === 5)).toEqual([]);
    await waitFor(() => server.server.ctx.runs.get('stray-unopened')?.attached === false, 5000, 'run detached');

    const again = client.attach(start('stray-unopened'));
    expect((await again.accepted).resumed).toBe(true);
    await again.write({ end: { snapshot_id: 6, chunk_count: 0, total_bytes: 0 } });
    expect((await again.closed).details).toMatch(/^SnapshotEnd for snapshot 6, which no SnapshotHeader on this stream opened/);

    const third = client.attach(start('stray-unopened'));
    await third.accepted;
    const real = await third.sendSnapshot({ id: 5, step: 5, trainLoss: 1, tensors: [logits()] });
    expect(real.ack).toMatchObject({ snapshot_id: 5, accepted: true });
    expect(real.decision?.snapshot_id).toBe(5);
    expect((await third.finish()).code).toBe(grpc.status.OK);
    expect(server.server.ctx.runs.get('stray-unopened')!.snapshotsAccepted).toBe(2);
  });

  it('late messages of a closed snapshot get one INVALID_ARGUMENT ack in all; the stream goes on', async () => {
    const run = client.attach(start('stray-late'));
    await run.accepted;
    expect((await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits()] })).ack.accepted).toBe(true);
    const late = { snapshot_id: 1, tensor: 'TENSOR_KIND_LOGITS' as const, dtype: 'DTYPE_F64' as const, offset: 0, rows: 3, cols: 1, data: new Uint8Array(24) };
    await run.write({ chunk: late });
    await run.write({ chunk: late });
    await run.write({ end: { snapshot_id: 1, chunk_count: 1, total_bytes: 24 } });
    const next = await run.sendSnapshot({ id: 2, step: 2, trainLoss: 1, tensors: [logits()] });
    expect(next.ack.accepted).toBe(true);
    const acksFor1 = run.received.filter((m) => m.ack?.snapshot_id === 1).map((m) => m.ack!);
    expect(acksFor1.map((a) => [a.accepted, a.code])).toEqual([
      [true, 0],
      [false, grpc.status.INVALID_ARGUMENT],
    ]);
    expect(acksFor1[1].message).toMatch(/^chunk for snapshot 1 arrived after snapshot 1 was closed/);
    expect((await run.finish()).code).toBe(grpc.status.OK);
  });
});

describe('EndRun from another client', () => {
  it('ends an idle owner stream with FAILED_PRECONDITION; its next snapshot fails loudly', async () => {
    const owner = client.attach(start('ended-idle'));
    await owner.accepted;
    expect((await owner.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits()] })).ack.accepted).toBe(true);
    const other = new NtkSidecarClient(server.grpcTarget);
    const res = await other.endRun('ended-idle', 'RUN_STATUS_CANCELLED');
    other.close();
    expect(res.existed).toBe(true);
    const status = await owner.closed;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toMatch(/^run ended by EndRun from another client; start a new run_id \(run "ended-idle" has status RUN_STATUS_CANCELLED\)$/);
    await expect(owner.sendSnapshot({ id: 2, step: 2, trainLoss: 1, tensors: [logits()] })).rejects.toThrow(/FAILED_PRECONDITION run ended by EndRun from another client/);
    const report = await client.getRun('ended-idle');
    expect([report.state, report.status]).toEqual(['ended', 'RUN_STATUS_CANCELLED']);
  });

  it('a snapshot in progress gets a negative ack, then the stream ends; other runs are untouched', async () => {
    const bystander = client.attach(start('ended-bystander'));
    await bystander.accepted;
    const owner = client.attach(start('ended-midway'));
    await owner.accepted;
    const before = await receivedBytes();
    await owner.write({
      header: { snapshot_id: 7, step: 7, train_loss: 1, tensors: [{ tensor: 'TENSOR_KIND_LOGITS', dtype: 'DTYPE_F64', rows: 3, cols: 1 }] },
    });
    await owner.write({ chunk: { snapshot_id: 7, tensor: 'TENSOR_KIND_LOGITS', dtype: 'DTYPE_F64', offset: 0, rows: 1, cols: 1, data: new Uint8Array(8) } });
    // The first chunk was taken in: snapshot 7 is open on the server.
    for (let i = 0; i < 250 && (await receivedBytes()) < before + 8; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await receivedBytes()).toBeGreaterThanOrEqual(before + 8);
    await client.endRun('ended-midway');
    const ack = await owner.ack(7);
    expect(ack).toMatchObject({ snapshot_id: 7, accepted: false, code: grpc.status.FAILED_PRECONDITION });
    expect(ack.message).toMatch(/^snapshot 7 was discarded: run ended by EndRun from another client; start a new run_id/);
    const status = await owner.closed;
    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    const r = await bystander.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [logits()] });
    expect(r.ack.accepted).toBe(true);
    expect(r.decision).toBeDefined();
    expect((await bystander.finish()).code).toBe(grpc.status.OK);
    expect(server.server.ctx.sessions.size).toBe(0);
  });
});
