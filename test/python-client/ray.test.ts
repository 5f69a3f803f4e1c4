/**
 * ntk_sidecar.ray.NtkStopper: the framework-free part (decision lookup, fail-open, run id mapping, pickling) and a
 * spent budget stopping a trial against the real sidecar. Ray does not install here: the Tune test skips loudly
 * ("ray.tune is not installed"), accepted as an optional framework.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, TEST_POLICIES, type PythonRun } from './pythonTests.js';

let server: TestServer | undefined;
let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (problem) return;
  server = await startTestServer(undefined, { policyDocument: TEST_POLICIES });
  run = await runPythonTests(['test_ray'], { NTK_SIDECAR_TEST_TARGET: server.grpcTarget });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('ntk_sidecar.ray (NtkStopper)', () => {
  it('stops on an enforced STOP only, fails open, maps trial ids (Ray itself skips loudly)', () => {
    expectNoProblem(problem);
    expectPassed(run, 6);
  });
});
