/**
 * PostgresCohortStore against a real PostgreSQL 15 (initdb/pg_ctl in a temp dir on 127.0.0.1): migrations, the
 * store contract (shared with MemoryCohortStore), identical rule outcomes of both stores on one event sequence,
 * STOP propagation by LISTEN/NOTIFY between two stores, and fail-open when PostgreSQL is killed mid-sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { mulberry32 } from '../../src/random.js';
import { parseCohortConfig, type CohortObservation } from '../../src/policy/cohort.js';
import { combineWithCohort } from '../../src/policy/cohortCombine.js';
import type { Verdict } from '../../src/policy/verdict.js';
import { CohortEngine } from '../../src/cohort/cohortEngine.js';
import type { CohortStore, LatchedStop } from '../../src/cohort/cohortStore.js';
import { MemoryCohortStore } from '../../src/cohort/memoryCohortStore.js';
import { PostgresCohortStore } from '../../src/cohort/postgresCohortStore.js';
import { postgresBinaries, startPostgres, warnIfSkipped, type TestPostgres } from './support/postgres.js';

const HAVE_PG = postgresBinaries() !== undefined;
warnIfSkipped();

let server: TestPostgres;
let db = 0;
/** A fresh database per test on the one server (CREATE DATABASE is cheap). */
async function freshDatabase(): Promise<string> {
  const name = `t${++db}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return server.url.replace(/\/postgres$/, `/${name}`);
}

beforeAll(async () => {
  if (HAVE_PG) server = await startPostgres();
}, 60_000);
afterAll(() => server?.destroy());

const rung = (runId: string, r: number, value: number, predicted?: number, compute = r) => ({ cohort: 'c', runId, rung: r, value, predicted, step: r, compute });

/** The contract both stores keep, checked on each. */
async function contract(store: CohortStore): Promise<void> {
  await store.record(rung('a', 10, 2));
  await store.record(rung('a', 10, 99)); // first write wins
  await store.record(rung('b', 10, Number.NaN, 0.5));
  await store.record(rung('c', 10, 3, 0.25));
  await store.record(rung('d', 10, 1, 0.75));
  await store.record(rung('d', 20, 0.5, undefined, 40));
  await store.progress('c', 'a', 15, 12);
  await store.progress('c', 'a', 14, 11); // only grows
  expect((await store.rungValues('c', 10)).map((v) => [v.runId, v.value])).toEqual([['a', 2], ['b', Number.NaN], ['c', 3], ['d', 1]]);
  // Median of the finite values except a's: [1, 3] → 2; with a: [1, 2, 3] → 2; ASHA η=2 over [1, 2, 3] → k = 1.
  expect(await store.rungStats({ cohort: 'c', rung: 10, metric: 'value', excludeRun: 'a', lowerIsBetter: true, quantile: 0.5 })).toEqual({ peers: 2, quantile: 2 });
  expect(await store.rungStats({ cohort: 'c', rung: 10, metric: 'value', lowerIsBetter: true, kth: { eta: 2 } })).toEqual({ peers: 3, k: 1, kthBest: 1 });
  expect(await store.rungStats({ cohort: 'c', rung: 10, metric: 'value', lowerIsBetter: false, kth: { k: 2 } })).toEqual({ peers: 3, k: 2, kthBest: 2 });
  expect(await store.rungStats({ cohort: 'c', rung: 10, metric: 'predicted', excludeRun: 'd', lowerIsBetter: true, kth: { k: 3 } })).toEqual({ peers: 2, k: 3 });
  expect(await store.rungStats({ cohort: 'c', rung: 10, metric: 'predicted', lowerIsBetter: true, quantile: 0.25 })).toEqual({ peers: 3, quantile: 0.375 });
  expect(await store.rungStats({ cohort: 'other', rung: 10, metric: 'value', lowerIsBetter: true, quantile: 0.5, kth: { eta: 3 } })).toEqual({ peers: 0, k: 1 });
  // Budget: compute a 12 (progress) + b 10 + c 10 + d 40; a is beaten by d at rung 10 (their highest common rung).
  expect(await store.budgetStanding('c', 'a', true)).toEqual({ spent: 72, active: 4, better: 1, ranked: true, rankedPeers: 3 });
  expect(await store.budgetStanding('c', 'b', true)).toEqual({ spent: 72, active: 4, better: 3, ranked: true, rankedPeers: 3 }); // NaN is worst
  const first: LatchedStop = { cohort: 'c', runId: 'd', ruleIndex: 1, rule: 'asha', detail: 'first', evidence: { value: Number.NaN, rung: 10 }, step: 10 };
  expect(await store.latchStop(first)).toEqual(first);
  expect(await store.latchStop({ ...first, detail: 'second' })).toEqual(first);
  expect(await store.stopOf('c', 'd')).toEqual(first);
  expect(await store.stopOf('c', 'a')).toBeUndefined();
  expect(await store.stops('c')).toEqual([first]);
  expect(await store.budgetStanding('c', 'a', true)).toEqual({ spent: 72, active: 3, better: 0, ranked: true, rankedPeers: 2 }); // d stopped
}

/** A seeded sweep: 12 runs of one cohort report at steps 1..40 in a shuffled interleaving, with ties and a NaN. */
function sweepEvents(seed: number): CohortObservation[] {
  const rand = mulberry32(seed);
  const runs = Array.from({ length: 12 }, (_, i) => ({ id: `run-${String(i).padStart(2, '0')}`, rate: 0.02 + 0.1 * rand(), floor: Math.round(rand() * 8) / 8, step: 0 }));
  const events: CohortObservation[] = [];
  for (let live = runs; live.length; live = runs.filter((r) => r.step < 40)) {
    const r = live[Math.floor(rand() * live.length)];
    r.step += 1 + Math.floor(rand() * 3);
    const loss = r.id === 'run-07' && r.step > 20 ? Number.NaN : r.floor + Math.exp(-r.rate * r.step);
    events.push({ cohort: 'sweep', runId: r.id, step: r.step, compute: r.step * (1 + Number(r.id.slice(-2)) % 3), objectives: { train_loss: Math.round(loss * 64) / 64 }, predicted: r.floor + 0.01 * Number(r.id.slice(-2)) % 0.05, kess: Number(r.id.slice(-2)) % 3 === 0 ? 2 : undefined });
  }
  return events;
}

const SWEEP_CONFIG = {
  rules: [
    { rule: 'kess', rungs: [3, 5], delta: 0.01, minPeers: 3 },
    { rule: 'median', rungs: [5, 15, 30], minPeers: 3 },
    { rule: 'asha', minResource: 2, reductionFactor: 3, bracket: 1 },
    { rule: 'spectral', rungs: [4], k: 3 },
    { rule: 'budget', maxCompute: 120, keep: 2, startFraction: 0.5 },
  ],
};

async function replay(store: CohortStore, events: CohortObservation[]): Promise<string[]> {
  const engine = new CohortEngine({ config: parseCohortConfig(SWEEP_CONFIG), store });
  const out: string[] = [];
  for (const e of events) {
    const d = await engine.observe(e);
    out.push(`${e.runId}@${e.step}: ${d.stop ? `${d.stop.detail} ${JSON.stringify(Object.entries(d.stop.evidence).sort())}` : (d.abstain ?? 'continue')}`);
  }
  await engine.close();
  return out;
}

describe.skipIf(!HAVE_PG)('PostgresCohortStore (real PostgreSQL 15)', () => {
  it('migrates once (schema version table), also when two sidecars start at the same time', async () => {
    const url = await freshDatabase();
    const a = new PostgresCohortStore(url);
    const b = new PostgresCohortStore(url);
    await Promise.all([a.migrate(), b.migrate()]);
    expect(await a.schemaVersion()).toBe(2);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const { rows } = await c.query('SELECT version, description FROM ntk_cohort_schema ORDER BY version');
    expect(rows).toEqual([
      { version: 1, description: 'rung values, run progress, latched STOPs with NOTIFY' },
      { version: 2, description: "each run's latest rung value in ntk_cohort_runs (budget standing without a probe per peer)" },
    ]);
    await c.end();
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps the store contract, exactly as the memory store does', async () => {
    await contract(new MemoryCohortStore());
    const store = new PostgresCohortStore(await freshDatabase());
    try {
      await contract(store);
    } finally {
      await store.close();
    }
  });

  it('gives the same rule outcomes as the memory store on the same event sequence', async () => {
    let kessStops = 0;
    for (const seed of [1, 2]) {
      const events = sweepEvents(seed);
      const memory = await replay(new MemoryCohortStore(), events);
      const postgres = await replay(new PostgresCohortStore(await freshDatabase()), events);
      expect(postgres).toEqual(memory);
      const stops = memory.filter((l) => l.includes('Cohort') || l.includes('ASHA'));
      // The sweep exercises every rule (so that equality means something); the KESS rule in at least one seed.
      for (const rule of ['median', 'ASHA', 'spectral', 'budget']) expect(stops.some((l) => l.includes(rule)), `seed ${seed}: ${rule}`).toBe(true);
      kessStops += stops.filter((l) => l.includes('Cohort KESS rule')).length;
    }
    expect(kessStops).toBeGreaterThan(0);
  }, 120_000);

  it('a STOP latched through one store reaches another sidecar’s store by NOTIFY and is then served from its cache', async () => {
    const url = await freshDatabase();
    const a = new PostgresCohortStore(url).start();
    const b = new PostgresCohortStore(url).start();
    await expect.poll(() => a.isListening && b.isListening, { timeout: 10_000 }).toBe(true);
    expect(await b.stopOf('sweep', 'r1')).toBeUndefined(); // loads the cohort into b's cache
    const received = new Promise<LatchedStop>((resolve) => b.subscribe(resolve));
    const t0 = performance.now();
    const stop: LatchedStop = { cohort: 'sweep', runId: 'r1', ruleIndex: 0, rule: 'median', detail: 'stopped by a', evidence: { rung: 5 }, step: 5 };
    await a.latchStop(stop);
    expect(await received).toEqual(stop);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Served from b's cache: still answered with the database gone.
    server.kill();
    try {
      expect(await b.stopOf('sweep', 'r1')).toEqual(stop);
    } finally {
      server.restart();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails open when PostgreSQL is killed mid-sequence and resumes when it returns', async () => {
    const url = await freshDatabase();
    const logs: string[] = [];
    const store = new PostgresCohortStore(url, { timeoutMs: 1000 });
    const engine = new CohortEngine({
      config: parseCohortConfig({ rules: [{ rule: 'median', rungs: [10, 20], minPeers: 2 }] }),
      store,
      retryAfterMs: 0,
      log: (_l, m) => logs.push(m),
    });
    const runVerdict: Verdict = { action: 'ACTION_CONTINUE', reason: 'REASON_COLLECTING', detail: 'No stopping criterion has fired.', evidence: {} };
    const o = (runId: string, step: number, loss: number) => engine.observe({ cohort: 'k', runId, step, compute: step, objectives: { train_loss: loss } });
    for (const [id, loss] of [['a', 1], ['b', 2], ['c', 3]] as const) await o(id, 10, loss);
    expect((await o('d', 10, 4)).stop?.detail).toMatch(/median 2 of 3 peers/); // the store works

    server.kill();
    const t0 = performance.now();
    const down = await o('e', 10, 5); // would be stopped, but the store is gone
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(down.stop).toBeUndefined();
    expect(down.abstain).toMatch(/^cohort store unreachable: /);
    const combined = combineWithCohort('run-first', runVerdict, down);
    expect(combined.action).toBe('ACTION_CONTINUE'); // per-run decisions go on
    expect(combined.detail).toMatch(/^No stopping criterion has fired\. Cohort rules abstain: cohort store unreachable: .+\.$/);
    expect((await o('a', 20, 0.5)).abstain).toMatch(/unreachable/);
    expect(logs.some((l) => l.includes('unreachable'))).toBe(true);

    server.restart();
    // e's rung 10, crossed while the store was down, is recorded and judged now; the rules resume.
    const back = await o('e', 12, 5);
    expect(back.stop?.detail).toBe('Cohort median rule: training loss 5 at step 10 is above the median 2.5 of 4 peers in cohort "k".');
    // a's rung 20, crossed during the outage, is recorded at a's next observation.
    expect(await store.rungValues('k', 20)).toEqual([]);
    expect((await o('a', 21, 0.5)).abstain).toBeUndefined();
    expect((await store.rungValues('k', 20)).map((v) => [v.runId, v.value, v.step])).toEqual([['a', 0.5, 20]]);
    expect(logs.some((l) => l.includes('answers again'))).toBe(true);
    await engine.close();
  });
});
