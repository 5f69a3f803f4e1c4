/**
 * ntk_sidecar.optuna with a real Optuna (Debian python3-optuna) against the real sidecar (startTestServer): the
 * pruner without a sidecar (fake decisions, a dead port, wrapping another pruner, multi-objective helper), real
 * 6-trial studies on digits whose losers the sidecar stops (REASON_BUDGET), and examples/optuna_sweep.py end to end.
 * The cohort sweep (CohortStudyTest) runs in optunaCohort.test.ts.
 */
import { describePythonAgainstSidecar, TEST_POLICIES } from './pythonTests.js';

describePythonAgainstSidecar({
  title: 'ntk_sidecar.optuna (real Optuna studies against the sidecar)',
  it: 'prunes the losers with the sidecar’s reason, fails open, runs the example',
  modules: ['test_optuna.PrunerWithoutSidecarTest', 'test_optuna.RealStudyTest', 'test_optuna.ExampleTest'],
  minTests: 8,
  policyDocument: TEST_POLICIES,
  timeoutMs: 180_000,
});
