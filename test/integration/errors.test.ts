/**
 * Every fault class of docs/design.md §3 against the real server: the documented code, a message with the numbers,
 * and nothing else disturbed — the same stream accepts the next snapshot and another run keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status as grpcStatus } from '@grpc/grpc-js';
import { AttachedRun, NtkSidecarClient, tensorChunks } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import type { TrainerMessage } from '../../src/gen/ntksidecar/v1/TrainerMessage.js';

let server: TestServer;
let client: NtkSidecarClient;

beforeAll(async () => {
  server = await startTestServer((c) => {
    c.limits.maxRows = 64;
    c.limits.maxActiveRuns = 4;
    c.limits.maxReceiveBytes = 1024 * 1024;
    c.limits.maxChunkBytes = 256 * 1024;
  });
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const N = 6;
const P = 40;

function start(runId: string, samples = N): RunStart {
  return { run_id: runId, probe: { num_samples: samples, num_outputs: 1, sample_ids_hash: 'h1' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } };
}

function header(id: number, cols = P): TrainerMessage {
  return { header: { snapshot_id: id, step: id, train_loss: 1, tensors: [{ tensor: 'TENSOR_KIND_JACOBIAN', dtype: 'DTYPE_F32', rows: N, cols }] } };
}

function block(id: number, offset: number, cols: number, extra: Record<string, unknown> = {}): TrainerMessage {
  const data = new Uint8Array(new Float32Array(N * cols).fill(0.25).buffer);
  return { chunk: { snapshot_id: id, tensor: 'TENSOR_KIND_JACOBIAN', offset, rows: N, cols, dtype: 'DTYPE_F32', data, ...extra } };
}

async function sendAll(run: AttachedRun, msgs: TrainerMessage[]): Promise<void> {
  for (const m of msgs) await run.write(m);
}

async function goodSnapshot(run: AttachedRun, id: number): Promise<void> {
  const res = await run.sendSnapshot({ id, step: id, trainLoss: 1, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: N, cols: P, data: new Float32Array(N * P).fill(0.5) }] });
  expect(res.ack.accepted, res.ack.message).toBe(true);
  expect(res.decision).toBeDefined();
}

describe('snapshot-level faults: negative ack, the stream and the run go on', () => {
  const cases: Array<{ name: string; code: number; msgs: (id: number) => TrainerMessage[]; message: RegExp }> = [
    {
      name: 'wrong byte length',
      code: grpcStatus.INVALID_ARGUMENT,
      msgs: (id) => [header(id), { chunk: { ...block(id, 0, P).chunk!, data: new Uint8Array(N * P * 4 - 4) } }],
      message: new RegExp(`${N * P * 4 - 4}.*${N * P * 4}|${N * P * 4}.*${N * P * 4 - 4}`),
    },
    { name: 'chunk outside the declared shape', code: grpcStatus.OUT_OF_RANGE, msgs: (id) => [header(id), block(id, 30, 20)], message: /30.*50|50.*40/ },
    { name: 'columns missing at SnapshotEnd', code: grpcStatus.ABORTED, msgs: (id) => [header(id), block(id, 0, 25), { end: { snapshot_id: id } }], message: /25/ },
    { name: 'columns sent twice', code: grpcStatus.ABORTED, msgs: (id) => [header(id), block(id, 0, 25), block(id, 20, 20)], message: /20/ },
    { name: 'bad checksum', code: grpcStatus.DATA_LOSS, msgs: (id) => [header(id), block(id, 0, P, { crc32c: 0xdeadbeef })], message: /deadbeef/i },
    { name: 'rows that do not match the probe set', code: grpcStatus.INVALID_ARGUMENT, msgs: (id) => [{ header: { snapshot_id: id, step: id, tensors: [{ tensor: 'TENSOR_KIND_JACOBIAN', dtype: 'DTYPE_F32', rows: N + 1, cols: P }] } }], message: new RegExp(`${N + 1}`) },
  ];

  it.each(cases)('$name → code $code, then the next snapshot is accepted', async ({ code, msgs, message }) => {
    const runId = `fault-${code}-${Math.random().toString(36).slice(2, 8)}`;
    const run = client.attach(start(runId));
    await run.accepted;
    await goodSnapshot(run, 1);
    await sendAll(run, msgs(2));
    const ack = await run.ack(2);
    expect(ack).toMatchObject({ snapshot_id: 2, accepted: false, code });
    expect(ack.message).toMatch(message);
    // Trailing messages of the rejected snapshot (e.g. its SnapshotEnd) are dropped quietly.
    await sendAll(run, [{ end: { snapshot_id: 2 } }]);
    await goodSnapshot(run, 3);
    const report = await client.getRun(runId);
    expect(report).toMatchObject({ snapshots_accepted: 2, snapshots_rejected: 1 });
    await run.finish();
    await client.endRun(runId);
  });

  it('counts rejected snapshots by code in /metrics', async () => {
    const text = await (await fetch(server.metricsUrl)).text();
    expect(text).toMatch(/ntk_sidecar_snapshots_total\{outcome="rejected",code="DATA_LOSS"\} [1-9]/);
    expect(text).toMatch(/ntk_sidecar_snapshots_total\{outcome="rejected",code="OUT_OF_RANGE"\} [1-9]/);
  });
});

describe('stream-level faults end the stream with their status; other runs keep working', () => {
  async function expectStreamStatus(run: AttachedRun, code: number, message: RegExp): Promise<void> {
    const status = await run.closed;
    expect(status.code, status.details).toBe(code);
    expect(status.details).toMatch(message);
  }

  it('no RunStart first → FAILED_PRECONDITION', async () => {
    const raw = client.raw.Attach(client.metadata());
    const run = new AttachedRun(raw);
    await run.write(header(1));
    await expectStreamStatus(run, grpcStatus.FAILED_PRECONDITION, /RunStart/);
  });

  it('a chunk for a snapshot that was never opened → FAILED_PRECONDITION, never acked (issue 14 #8)', async () => {
    const run = client.attach(start('stray-chunk'));
    await run.accepted;
    await run.write(block(2, 0, P));
    await expectStreamStatus(run, grpcStatus.FAILED_PRECONDITION, /no SnapshotHeader on this stream opened/);
    expect(run.received.some((m) => m.ack?.snapshot_id === 2)).toBe(false);
    await client.endRun('stray-chunk');
  });

  it('N above --max-rows → RESOURCE_EXHAUSTED with both numbers', async () => {
    const run = client.attach(start('too-big', 65));
    await expectStreamStatus(run, grpcStatus.RESOURCE_EXHAUSTED, /65.*64/);
  });

  it('a message above the receive limit → RESOURCE_EXHAUSTED', async () => {
    const run = client.attach(start('huge-message'));
    await run.accepted;
    await run.write(header(1, 60_000));
    await run.write(block(1, 0, 50_000)); // 1.2 MB > 1 MiB receive limit
    const status = await run.closed;
    expect(status.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    await client.endRun('huge-message');
  });

  it('a changed probe set on reattach → FAILED_PRECONDITION; unknown runs → NOT_FOUND', async () => {
    const first = client.attach(start('probe-fixed'));
    await first.accepted;
    first.cancel();
    await first.closed;
    await expect.poll(async () => (await client.getRun('probe-fixed')).state).toBe('detached');
    const changed = client.attach({ ...start('probe-fixed'), probe: { num_samples: N, num_outputs: 1, sample_ids_hash: 'h2' } });
    await expectStreamStatus(changed, grpcStatus.FAILED_PRECONDITION, /h1.*h2/);
    await expect(client.getRun('never-seen')).rejects.toMatchObject({ code: grpcStatus.NOT_FOUND });
    await expect(client.checkStop({})).rejects.toMatchObject({ code: grpcStatus.INVALID_ARGUMENT });
    await client.endRun('probe-fixed');
  });

  it('an unknown policy name → INVALID_ARGUMENT naming the known ones', async () => {
    const run = client.attach({ ...start('bad-policy'), policy: 'nope' });
    await expectStreamStatus(run, grpcStatus.INVALID_ARGUMENT, /nope.*default/);
  });

  it('more attached runs than --max-active-runs → RESOURCE_EXHAUSTED; ended runs are evicted first', async () => {
    const runs: AttachedRun[] = [];
    for (let i = 0; i < 4; i++) {
      const r = client.attach(start(`full-${i}`));
      await r.accepted;
      runs.push(r);
    }
    const extra = client.attach(start('full-extra'));
    await expectStreamStatus(extra, grpcStatus.RESOURCE_EXHAUSTED, /4.*limit.*4/);
    // The attached runs are untouched by the refusal.
    await goodSnapshot(runs[0], 1);
    await runs[3].finish();
    const replacement = client.attach(start('full-extra'));
    expect((await replacement.accepted).run_id).toBe('full-extra');
    await expect(client.getRun('full-3')).rejects.toMatchObject({ code: grpcStatus.NOT_FOUND });
    for (const r of [...runs.slice(0, 3), replacement]) await r.finish();
  });

  it('chunks from the client helper respect max_chunk_bytes from RunAccepted', async () => {
    const run = client.attach(start('chunked'));
    const accepted = await run.accepted;
    const msgs = [...tensorChunks(1, { kind: 'TENSOR_KIND_JACOBIAN', rows: N, cols: 20_000, data: new Float32Array(N * 20_000) }, accepted.max_chunk_bytes)];
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect((m.chunk!.data as Uint8Array).byteLength).toBeLessThanOrEqual(accepted.max_chunk_bytes);
    await run.finish();
  });
});
