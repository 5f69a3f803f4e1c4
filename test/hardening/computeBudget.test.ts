/**
 * Defect 5 (issue 14): one NaN (or negative) compute_spent must not disable the compute budget — not on the
 * stream, and not through a run file that already holds a NaN from an older sidecar.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NtkSidecarClient, type AttachedRun } from '../../src/client/ntkSidecarClient.js';
import { startTestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';

const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array(3) };
const start = (runId: string): RunStart => ({
  run_id: runId,
  probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'h' },
  loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 },
  budget: { max_compute: 100 },
});

/** Sends snapshots with the given compute_spent values and returns the last decision. */
async function snapshots(run: AttachedRun, first: number, computes: number[]) {
  let last;
  for (const [i, compute] of computes.entries()) {
    const id = first + i;
    const res = await run.sendSnapshot({ id, step: 10 * id, trainLoss: 1, computeSpent: compute, tensors: [logits] });
    expect(res.ack.accepted, res.ack.message).toBe(true);
    last = res.decision;
  }
  return last;
}

describe('compute budget', () => {
  it('ignores a NaN, infinite or negative compute_spent; a later real value past the budget still stops', async () => {
    const server = await startTestServer();
    const client = new NtkSidecarClient(server.grpcTarget);
    const run = client.attach(start('nan-compute'));
    await run.accepted;
    const before = await snapshots(run, 1, [10, Number.NaN, -5, Number.POSITIVE_INFINITY, 20]);
    expect(before?.action).toBe('ACTION_CONTINUE');
    expect(server.server.ctx.runs.get('nan-compute')!.computeSpent).toBe(20);
    const after = await snapshots(run, 6, [150]);
    expect(after).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    await run.finish();
    client.close();
    await server.stop();
  });

  it('a NaN compute_spent stored by an older sidecar is reset at restore', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-nan-'));
    const first = await startTestServer((c) => (c.dataDir = dataDir));
    let client = new NtkSidecarClient(first.grpcTarget);
    const run = client.attach(start('stored-nan'));
    await run.accepted;
    await snapshots(run, 1, [10]);
    run.cancel();
    await run.closed;
    client.close();
    await first.stop();
    const [file] = readdirSync(join(dataDir, 'runs')).filter((n) => n.endsWith('.json'));
    const doc = JSON.parse(readFileSync(join(dataDir, 'runs', file), 'utf8')) as { run: { computeSpent: unknown } };
    doc.run.computeSpent = { $num: 'NaN' };
    writeFileSync(join(dataDir, 'runs', file), JSON.stringify(doc));

    const warnings: string[] = [];
    const second = await startTestServer((c) => (c.dataDir = dataDir), { log: (level, m) => level === 'warn' && warnings.push(m) });
    client = new NtkSidecarClient(second.grpcTarget);
    expect(warnings.join('\n')).toMatch(/stored-nan.*compute_spent NaN/);
    const again = client.attach(start('stored-nan'));
    expect((await again.accepted).resumed).toBe(true);
    expect(await snapshots(again, 2, [150])).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    await again.finish();
    client.close();
    await second.stop();
  });
});
