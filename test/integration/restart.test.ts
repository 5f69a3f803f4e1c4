/**
 * Run history survives a sidecar restart (store/): GetRun and CheckStop answer for known runs, a reattaching
 * trainer resumes with its latched decision, and an unreadable history file is skipped with a warning.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer } from '../support/startTestServer.js';

describe('restart', () => {
  it('keeps run history, decisions and probe checks across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ntk-restart-'));
    const first = await startTestServer((c) => (c.dataDir = dataDir));
    let client = new NtkSidecarClient(first.grpcTarget);
    const runId = 'job/../rank 0'; // hostile characters stay inside the data directory
    const start = { run_id: runId, job_id: 'j1', probe: { num_samples: 3, num_outputs: 1, sample_ids_hash: 'p1' }, budget: { max_steps: 50 } };
    const run = client.attach(start);
    const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: 3, cols: 1, data: new Float64Array(3) };
    await run.sendSnapshot({ id: 1, step: 10, trainLoss: 1, tensors: [logits] });
    const stop = await run.sendSnapshot({ id: 2, step: 60, trainLoss: 0.5, tensors: [logits] });
    expect(stop.decision).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    run.cancel();
    await run.closed;
    client.close();
    await first.stop();
    expect(readdirSync(join(dataDir, 'runs'))).toEqual([`${encodeURIComponent(runId).replace(/\./g, '%2E')}.json`]);
    writeFileSync(join(dataDir, 'runs', 'broken.json'), '{ not json');

    const warnings: string[] = [];
    const second = await startTestServer((c) => (c.dataDir = dataDir), { log: (level, message) => level === 'warn' && warnings.push(message) });
    client = new NtkSidecarClient(second.grpcTarget);
    expect(warnings.join('\n')).toMatch(/broken\.json is unreadable and was moved to .*unreadable/);
    const report = await client.getRun(runId);
    expect(report).toMatchObject({ state: 'detached', snapshots_accepted: 2, last_step: 60, num_samples: 3 });
    expect((await client.checkStop({ jobId: 'j1' })).reason).toBe('REASON_BUDGET');
    // The probe set is still enforced, and the latched STOP holds for the resumed run.
    const changed = client.attach({ ...start, probe: { ...start.probe, sample_ids_hash: 'p2' } });
    expect((await changed.closed).code).toBe(9);
    const again = client.attach(start);
    expect((await again.accepted).resumed).toBe(true);
    const next = await again.sendSnapshot({ id: 3, step: 70, trainLoss: 0.4, tensors: [logits] });
    expect(next.decision).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    expect((await client.getRun(runId)).snapshots_accepted).toBe(3);
    await again.finish();
    client.close();
    await second.stop();
  });
});
