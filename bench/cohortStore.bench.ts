/**
 * PostgresCohortStore throughput against a real PostgreSQL 15 started in a temp dir (test/cohort/support/postgres.ts):
 * 1000 runs × 100 rungs of one cohort.
 *
 *   npx tsx bench/cohortStore.bench.ts [--runs 1000] [--rungs 100] [--concurrency 8] [--queries 2000]
 *
 * - write: record() of every (run, rung) value, `concurrency` in flight (each is one INSERT … ON CONFLICT plus the
 *   run's progress upsert), in rung order as a sweep produces them; rows/s.
 * - rung statistics: the queries the rules make at a rung — median (percentile_cont, one run excluded), ASHA
 *   (k-th best with k = ⌊n/η⌋), spectral (k-th best prediction) — and budgetStanding, on random rungs/runs with
 *   every row present; p50/p99 milliseconds and queries/s.
 * - read: rungValues() of whole rungs (1000 rows each); rows/s.
 * Prints the CPU model and load: other work on the machine skews every figure. Ends with a BENCH_JSON line.
 */
import { parseArgs } from 'node:util';
import { describeMachine, machineInfo } from './support/machine.js';
import { mulberry32 } from '../src/random.js';
import { PostgresCohortStore } from '../src/cohort/postgresCohortStore.js';
import type { RungStatsQuery } from '../src/policy/cohort.js';
import { postgresBinaries, SKIP_REASON, startPostgres } from '../test/cohort/support/postgres.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '1000' }, rungs: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' }, queries: { type: 'string', default: '2000' } },
});
const RUNS = Number(values.runs);
const RUNGS = Number(values.rungs);
const CONCURRENCY = Number(values.concurrency);
const QUERIES = Number(values.queries);

if (!postgresBinaries()) {
  process.stderr.write(`${SKIP_REASON}\n`);
  process.exit(2);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function pooled<T>(items: T[], fn: (item: T) => Promise<unknown>, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const machine = machineInfo();
process.stdout.write(`${describeMachine(machine)}\nCPU model: ${machine.cpu}\n`);
const pg = await startPostgres();
const store = new PostgresCohortStore(pg.url, { maxConnections: CONCURRENCY, timeoutMs: 30_000 });
try {
  await store.migrate();
  const rand = mulberry32(13);
  const rungAt = (k: number) => 10 * 2 ** (k / 10); // 100 increasing rungs
  const cohort = 'bench';
  const rows = [];
  for (let k = 0; k < RUNGS; k++) {
    for (let r = 0; r < RUNS; r++) {
      rows.push({ cohort, runId: `run-${String(r).padStart(4, '0')}`, rung: rungAt(k), value: 2 * Math.exp(-k / 30) * (0.5 + rand()), predicted: rand(), step: Math.round(rungAt(k)), compute: rungAt(k) * (1 + (r % 4)) });
    }
  }
  let t0 = performance.now();
  await pooled(rows, (row) => store.record(row), CONCURRENCY);
  const writeSeconds = (performance.now() - t0) / 1000;
  const writeRate = rows.length / writeSeconds;
  process.stdout.write(`write: ${rows.length} rung values in ${writeSeconds.toFixed(2)} s = ${writeRate.toFixed(0)} rows/s (concurrency ${CONCURRENCY})\n`);

  const kinds: Array<{ name: string; query: (k: number, run: string) => RungStatsQuery | undefined }> = [
    { name: 'median', query: (k, run) => ({ cohort, rung: rungAt(k), metric: 'value', excludeRun: run, lowerIsBetter: true, quantile: 0.5 }) },
    { name: 'asha', query: (k) => ({ cohort, rung: rungAt(k), metric: 'value', lowerIsBetter: true, kth: { eta: 3 } }) },
    { name: 'spectral', query: (k, run) => ({ cohort, rung: rungAt(k), metric: 'predicted', excludeRun: run, lowerIsBetter: true, kth: { k: 3 } }) },
    { name: 'budget', query: () => undefined },
  ];
  const results: Record<string, { p50Ms: number; p99Ms: number; perSecond: number }> = {};
  for (const kind of kinds) {
    const times: number[] = [];
    const jobs = Array.from({ length: QUERIES }, () => ({ k: Math.floor(rand() * RUNGS), run: `run-${String(Math.floor(rand() * RUNS)).padStart(4, '0')}` }));
    t0 = performance.now();
    await pooled(jobs, async ({ k, run }) => {
      const q = kind.query(k, run);
      const s = performance.now();
      if (q) await store.rungStats(q);
      else await store.budgetStanding(cohort, run, true);
      times.push(performance.now() - s);
    }, CONCURRENCY);
    const total = (performance.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    results[kind.name] = { p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99), perSecond: QUERIES / total };
    process.stdout.write(`${kind.name.padEnd(8)} rung query: p50 ${results[kind.name].p50Ms.toFixed(2)} ms, p99 ${results[kind.name].p99Ms.toFixed(2)} ms, ${results[kind.name].perSecond.toFixed(0)} queries/s (concurrency ${CONCURRENCY}, ${QUERIES} queries over ${RUNS} runs × ${RUNGS} rungs)\n`);
  }

  const readJobs = Array.from({ length: Math.min(200, RUNGS * 2) }, (_, i) => i % RUNGS);
  let read = 0;
  t0 = performance.now();
  await pooled(readJobs, async (k) => {
    read += (await store.rungValues(cohort, rungAt(k))).length;
  }, CONCURRENCY);
  const readRate = read / ((performance.now() - t0) / 1000);
  process.stdout.write(`read: ${read} rows by whole rungs = ${readRate.toFixed(0)} rows/s\n`);
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ case: 'cohortStore', cpu: machine.cpu, cores: machine.cores, load: machine.loadAverage, runs: RUNS, rungs: RUNGS, concurrency: CONCURRENCY, writeRowsPerSecond: writeRate, readRowsPerSecond: readRate, queries: results })}\n`);
} finally {
  await store.close();
  pg.destroy();
}
