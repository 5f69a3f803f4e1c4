/**
 * Fail-open (clients/python/tests/test_fail_open.py): the sidecar CLI is killed mid-run and restarted on the same
 * port by the Python test; training finishes at full speed and the client reconnects and resumes sending.
 */
import { beforeAll, describe, it } from 'vitest';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (!problem) run = await runPythonTests(['test_fail_open']);
}, 150_000);

describe('ntk_sidecar Python client: fail open', () => {
  it('keeps training through a sidecar crash and reconnects after its restart', () => {
    expectNoProblem(problem);
    expectPassed(run, 1);
  });
});
