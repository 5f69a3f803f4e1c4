/**
 * ntk_sidecar.ray.NtkStopper: the framework-free part (decision lookup, fail-open, run id mapping, pickling) and a
 * spent budget stopping a trial against the real sidecar. Ray does not install here: the Tune test skips loudly
 * ("ray.tune is not installed"), accepted as an optional framework.
 */
import { describePythonAgainstSidecar, TEST_POLICIES } from './pythonTests.js';

describePythonAgainstSidecar({
  title: 'ntk_sidecar.ray (NtkStopper)',
  it: 'stops on an enforced STOP only, fails open, maps trial ids (Ray itself skips loudly)',
  modules: ['test_ray'],
  minTests: 6,
  policyDocument: TEST_POLICIES,
  timeoutMs: 120_000,
});
