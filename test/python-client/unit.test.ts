/**
 * ntk_sidecar (clients/python) tests that need neither a sidecar nor torch: wire dtypes, CRC-32C, layout, the
 * (seed, block) sketch rule, message building, generated files up to date, fail-open against a dead, a slow and a
 * limiting sidecar (minimal grpcio servers), the monitor and the framework callbacks.
 */
import { beforeAll, describe, it } from 'vitest';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

const MODULES = [
  'test_dtypes', 'test_crc32c', 'test_layout', 'test_sketch', 'test_messages', 'test_generated',
  'test_client_offline', 'test_monitor_callbacks',
];

let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (!problem) run = await runPythonTests(MODULES);
}, 120_000);

describe('ntk_sidecar Python client: unit tests', () => {
  it('pass (optional frameworks skip loudly)', () => {
    expectNoProblem(problem);
    expectPassed(run, 35);
  });
});
