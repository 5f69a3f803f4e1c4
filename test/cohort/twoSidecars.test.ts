/**
 * Cluster-wide stopping end to end: one sweep (one cohort) reported over gRPC to (a) one sidecar with the in-memory
 * cohort store and (b) two sidecars sharing a real PostgreSQL, the runs spread across them. Both setups reach the
 * same decisions (which runs stop, at which step, with which reason and sentence).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient, type AttachedRun } from '../../src/client/ntkSidecarClient.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { postgresBinaries, startPostgres, warnIfSkipped, type TestPostgres } from './support/postgres.js';

const HAVE_PG = postgresBinaries() !== undefined;
warnIfSkipped();

const POLICY = {
  cohort: {
    order: 'run-first',
    rules: [
      { rule: 'median', rungs: [6], minPeers: 3 },
      { rule: 'asha', minResource: 2, reductionFactor: 2, bracket: 1 },
      { rule: 'budget', maxCompute: 110, keep: 2 },
    ],
  },
};
const RUNS = 10;
const STEPS = 12;

function runStart(runId: string): RunStart {
  return {
    run_id: runId,
    job_id: runId,
    cohort: 'sweep-42',
    probe: { num_samples: 4, num_outputs: 1, sample_ids_hash: 'p' },
    loss: { kind: 'LOSS_KIND_MSE', scale: 1 / 8 },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: 0.1,
  };
}
/** Run i: loss (1 + i mod 4 / 4)·exp(−rate_i·step), rate and floor differ; one diverges at step 2 (a per-run STOP). */
const loss = (i: number, step: number) => (i === 7 && step >= 2 ? Number.NaN : (1 + (i % 4) / 4) * Math.exp(-(0.05 + 0.03 * ((i * 7) % 5)) * step) + 0.01 * i);

interface Outcome {
  action: string;
  reason: string;
  step: number;
  detail: string;
}

/** Plays the sweep step by step, round-robin over the runs, one event at a time; a stopped run stops reporting. */
async function sweep(sidecarOf: (i: number) => NtkSidecarClient): Promise<Record<string, Outcome | 'continue'>> {
  const streams: AttachedRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = sidecarOf(i).attach(runStart(`trial-${i}`));
    await s.accepted;
    streams.push(s);
  }
  const stopped = new Set<number>();
  for (let step = 1; step <= STEPS; step++) {
    for (let i = 0; i < RUNS; i++) {
      if (stopped.has(i)) continue;
      await streams[i].sendScalars({ step, train_loss: loss(i, step), compute_spent: step * (1 + (i % 3)) });
      const client = sidecarOf(i);
      // Wait until this sidecar has decided on the event: the next event must see its effect on the cohort.
      let report = await client.getRun(`trial-${i}`);
      while (Number(report.last_step) < step) report = await client.getRun(`trial-${i}`);
      if (report.decision?.action === 'ACTION_STOP') stopped.add(i);
    }
  }
  const out: Record<string, Outcome | 'continue'> = {};
  for (let i = 0; i < RUNS; i++) {
    const d = (await sidecarOf(i).getRun(`trial-${i}`)).decision;
    out[`trial-${i}`] = d?.action === 'ACTION_STOP' ? { action: d.action, reason: d.reason, step: Number(d.step), detail: d.detail } : 'continue';
    if (d?.action === 'ACTION_STOP') expect((await sidecarOf(i).checkStop({ runId: `trial-${i}` })).action).toBe('ACTION_STOP');
    await streams[i].finish();
  }
  return out;
}

let pgServer: TestPostgres | undefined;
const servers: TestServer[] = [];
const clients: NtkSidecarClient[] = [];
async function sidecar(cohortStore: string): Promise<NtkSidecarClient> {
  const s = await startTestServer((c) => (c.cohortStore = cohortStore), { policyDocument: POLICY });
  servers.push(s);
  const c = new NtkSidecarClient(s.grpcTarget);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  if (HAVE_PG) pgServer = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  pgServer?.destroy();
});

describe.skipIf(!HAVE_PG)('two sidecars sharing PostgreSQL decide like one with the memory store', () => {
  it('same STOPs, steps, reasons and sentences for a sweep spread over two sidecars', async () => {
    const one = await sidecar('memory');
    const memory = await sweep(() => one);

    const a = await sidecar(pgServer!.url);
    const b = await sidecar(pgServer!.url);
    const shared = await sweep((i) => (i % 2 === 0 ? a : b));
    expect(shared).toEqual(memory);

    // The sweep means something: cohort rules stopped runs (median, ASHA and the budget), the per-run rule the NaN run,
    // and some runs survive.
    const outcomes = Object.values(memory);
    const cohortStops = outcomes.filter((o) => o !== 'continue' && o.reason === 'REASON_COHORT') as Outcome[];
    expect(cohortStops.some((o) => o.detail.startsWith('Cohort median rule'))).toBe(true);
    expect(cohortStops.some((o) => o.detail.startsWith('ASHA'))).toBe(true);
    expect(cohortStops.some((o) => o.detail.startsWith('Cohort budget'))).toBe(true);
    expect(memory['trial-7']).toMatchObject({ reason: 'REASON_DIVERGED' });
    expect(outcomes.filter((o) => o === 'continue').length).toBeGreaterThan(0);
  }, 120_000);
});
