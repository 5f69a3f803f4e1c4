/**
 * Fail-open (clients/python/tests/test_fail_open.py): the sidecar CLI is killed mid-run and restarted on the same
 * port by the Python test; training finishes at full speed and the client reconnects and resumes sending. Also the
 * client's recordings (test_recording.py): replayed with the real CLI, they give the sidecar's own recording's timeline.
 */
import { beforeAll, describe, it } from 'vitest';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (!problem) run = await runPythonTests(['test_fail_open', 'test_recording']);
}, 150_000);

describe('ntk_sidecar Python client: fail open', () => {
  it('keeps training through a sidecar crash and reconnects after its restart; client recordings replay', () => {
    expectNoProblem(problem);
    expectPassed(run, 7);
  });
});
