/**
 * Per-cohort metrics on a live /metrics: a sweep of one cohort against a real sidecar (memory store) with median and
 * ASHA rules, half of the runs in shadow mode. ntk_sidecar_cohort_rung_median/_rung carry the peers' median at the
 * highest judged rung, ntk_sidecar_cohort_stopped_runs counts the runs stopped per rule, and
 * ntk_sidecar_cohort_shadow_compute_saved sums the compute shadow runs spent after a cohort rule's would-stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient, type AttachedRun } from '../../src/client/ntkSidecarClient.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { CohortStats, MAX_COHORT_SERIES } from '../../src/cohort/cohortMetrics.js';

const POLICY = {
  policies: { shadow: { enforced: false } },
  cohort: { rules: [{ rule: 'median', rungs: [4], minPeers: 2 }, { rule: 'asha', minResource: 4, reductionFactor: 2, maxResource: 4 }] },
};

let server: TestServer;
let client: NtkSidecarClient;
beforeAll(async () => {
  server = await startTestServer(undefined, { policyDocument: POLICY });
  client = new NtkSidecarClient(server.grpcTarget);
}, 60_000);
afterAll(async () => {
  client?.close();
  await server?.stop();
});

function runStart(runId: string, shadow: boolean): RunStart {
  return {
    run_id: runId,
    job_id: runId,
    cohort: 'metrics-sweep',
    policy: shadow ? 'shadow' : '',
    probe: { num_samples: 4, num_outputs: 1, sample_ids_hash: 'p' },
    loss: { kind: 'LOSS_KIND_MSE', scale: 1 / 8 },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: 0.1,
  };
}

/** Sample value of `name{labels}` in the exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (m && m[1] === name && want.every((w) => m[2].split(',').includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('per-cohort metrics', () => {
  it('rung median, runs stopped by rule, shadow compute saved per cohort', async () => {
    // Losses at step 4 (the rung): a 1, b 2 (ASHA: 1 peer is too few for the median), c 9 (shadow), d 8 (enforced).
    const finals: Record<string, number> = { a: 1, b: 2, c: 9, d: 8 };
    const streams: AttachedRun[] = [];
    for (const id of Object.keys(finals)) {
      const s = client.attach(runStart(id, id === 'c'));
      await s.accepted;
      streams.push(s);
      for (let step = 1; step <= 8; step++) {
        await s.sendScalars({ step, train_loss: finals[id] + 0.001 * (8 - step), compute_spent: 10 * step });
        let report = await client.getRun(id);
        while (Number(report.last_step) < step) report = await client.getRun(id);
        if (report.decision?.action === 'ACTION_STOP' && id !== 'c') break;
      }
    }
    const c = await client.getRun('c');
    expect(c.decision).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_COHORT', step: 4 });
    expect(c.decision!.detail).toMatch(/^Cohort median rule: training loss 9.004 at step 4 is above the median 1.504 of 2 peers/);
    expect((await client.getRun('d')).decision!.detail).toMatch(/^Cohort median rule: training loss 8.004 at step 4 is above the median 2.004 of 3 peers/);

    const text = await (await fetch(server.metricsUrl)).text();
    const cohort = { cohort: 'metrics-sweep' };
    expect(sample(text, 'ntk_sidecar_cohort_rung', cohort)).toBe(4);
    expect(sample(text, 'ntk_sidecar_cohort_rung_median', cohort)).toBeCloseTo(2.004, 12); // d's peers: a, b, c
    expect(sample(text, 'ntk_sidecar_cohort_stopped_runs', { ...cohort, rule: 'median' })).toBe(2);
    expect(sample(text, 'ntk_sidecar_cohort_stopped_runs', { ...cohort, rule: 'asha' })).toBe(1); // b: not the best of 2
    // c (shadow) trained on to step 8 at compute 80 after its would-stop at compute 40.
    expect(sample(text, 'ntk_sidecar_cohort_shadow_compute_saved', { ...cohort, rule: 'median' })).toBe(40);
    for (const s of streams) await s.finish();
  }, 60_000);

  it('keeps at most MAX_COHORT_SERIES cohorts, the least recently active dropped first', () => {
    const stats = new CohortStats();
    for (let i = 0; i <= MAX_COHORT_SERIES; i++) stats.median(`c${i}`, 1, i, 3);
    stats.stopped('c1', 'r', 'asha');
    stats.stopped('c1', 'r', 'median'); // one STOP per run
    const cohorts = [...stats.medians()].map((m) => m.cohort);
    expect(cohorts).toHaveLength(MAX_COHORT_SERIES);
    expect(cohorts).not.toContain('c0');
    expect([...stats.stops()]).toEqual([{ cohort: 'c1', rule: 'asha', runs: 1 }]);
    expect(stats.ruleOfStop('c1', 'r')).toBe('asha');
  });
});
