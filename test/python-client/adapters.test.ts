/**
 * ntk_sidecar adapters without a sidecar: the torch adapter's Jacobian, sketch, Grams, logits and probe loss
 * against independent float64 references, and the JAX adapter's framework-free parts (per-leaf blocks, the shared
 * sketch rule equal to the torch adapter's, Gram/trace, chunking, FlaxHook).
 */
import { beforeAll, describe, it } from 'vitest';
import { expectNoProblem, expectPassed, pythonProblem, runPythonTests, type PythonRun } from './pythonTests.js';

const MODULES = ['test_torch_adapter', 'test_jax_parts'];

let problem: string | undefined;
let run: PythonRun;

beforeAll(async () => {
  problem = pythonProblem();
  if (!problem) run = await runPythonTests(MODULES);
}, 120_000);

describe('ntk_sidecar Python client: adapters', () => {
  it('pass (optional frameworks skip loudly)', () => {
    expectNoProblem(problem);
    expectPassed(run, 14);
  });
});
