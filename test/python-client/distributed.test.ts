/**
 * torch.distributed (clients/python/tests/test_distributed.py): two gloo processes, rank 0 attached to the real
 * sidecar with a step budget; DistributedStop broadcasts rank 0's answer and both ranks stop on the same step.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

let server: TestServer | undefined;
let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (problem) return;
  server = await startTestServer();
  run = await runPythonTests(['test_distributed'], { NTK_SIDECAR_TEST_TARGET: server.grpcTarget });
}, 150_000);

afterAll(async () => {
  await server?.stop();
});

describe('ntk_sidecar Python client: torch.distributed', () => {
  it('stops both gloo ranks on the same step', () => {
    expectNoProblem(problem);
    expectPassed(run, 1);
  });
});
