/**
 * ntk_sidecar against the real sidecar (startTestServer, backend 'reference'): the Jacobian, sketch and Gram the
 * torch adapter sends make the kernel of a direct float64 computation (clients/python/tests/test_server_kernels.py
 * states the tolerances), budget STOP reaches the training loop, shadow mode, a refused RunStart.
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
  run = await runPythonTests(['test_server_kernels'], { NTK_SIDECAR_TEST_TARGET: server.grpcTarget });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('ntk_sidecar Python client against the sidecar', () => {
  it('sends kernels equal to float64 references and obeys STOP', () => {
    expectNoProblem(problem);
    expectPassed(run, 7);
  });
});
