/**
 * Issue 13's Done-when sweep (clients/python/tests/test_optuna.py CohortStudyTest): a real Optuna study of 8 real
 * trainings against one sidecar process with the in-memory cohort store, the losers stopped by the median and ASHA
 * rules with their sentences; then the same trainings (seeded) in a second study spread over two sidecar processes
 * (`serve --cohort-store postgres://…`) sharing a real PostgreSQL started here (test/cohort/support/postgres.ts):
 * the same decisions. Without the PostgreSQL binaries the second half skips LOUDLY (the first still runs).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { postgresBinaries, startPostgres, warnIfSkipped, type TestPostgres } from '../cohort/support/postgres.js';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

const HAVE_PG = postgresBinaries() !== undefined;
warnIfSkipped();

let pg: TestPostgres | undefined;
let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (problem) return;
  if (HAVE_PG) pg = await startPostgres();
  run = await runPythonTests(['test_optuna.CohortStudyTest'], pg ? { NTK_SIDECAR_TEST_PG_URL: pg.url } : {});
}, 240_000);

afterAll(() => {
  pg?.destroy();
});

describe('cohort sweep: real Optuna study, memory store, then two sidecars sharing PostgreSQL', () => {
  it('stops the losers by median and ASHA with readable reasons; two sidecars on PostgreSQL decide alike', () => {
    expectNoProblem(problem);
    // The studies' trials with their states and the sidecar's sentences, in the test log.
    for (const line of run.output.split('\n')) if (/^(cohort sweep|the same sweep| {2}trial \d)/.test(line)) console.log(line);
    expectPassed(run, 1, HAVE_PG ? undefined : /^PostgreSQL is not available/);
  });
});
