/**
 * ntk_sidecar.optuna with a real Optuna (Debian python3-optuna) against the real sidecar (startTestServer): the
 * pruner without a sidecar (fake decisions, a dead port, wrapping another pruner, multi-objective helper), real
 * 6-trial studies on digits whose losers the sidecar stops (REASON_BUDGET), and examples/optuna_sweep.py end to end.
 * The cohort sweep (CohortStudyTest) runs in optunaCohort.test.ts.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, TEST_POLICIES, type PythonRun } from './pythonTests.js';

const MODULES = ['test_optuna.PrunerWithoutSidecarTest', 'test_optuna.RealStudyTest', 'test_optuna.ExampleTest'];

let server: TestServer | undefined;
let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (problem) return;
  server = await startTestServer(undefined, { policyDocument: TEST_POLICIES });
  run = await runPythonTests(MODULES, { NTK_SIDECAR_TEST_TARGET: server.grpcTarget });
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

describe('ntk_sidecar.optuna (real Optuna studies against the sidecar)', () => {
  it('prunes the losers with the sidecar’s reason, fails open, runs the example', () => {
    expectNoProblem(problem);
    expectPassed(run, 8);
  });
});
