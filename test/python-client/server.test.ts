/**
 * ntk_sidecar against the real sidecar (startTestServer, backend 'reference'): the Jacobian, sketch and Gram the
 * torch adapter sends make the kernel of a direct float64 computation (clients/python/tests/test_server_kernels.py
 * states the tolerances), budget STOP reaches the training loop, shadow mode, a refused RunStart.
 */
import { describePythonAgainstSidecar, TEST_POLICIES } from './pythonTests.js';

describePythonAgainstSidecar({
  title: 'ntk_sidecar Python client against the sidecar',
  it: 'sends kernels equal to float64 references and obeys STOP',
  modules: ['test_server_kernels'],
  minTests: 7,
  policyDocument: TEST_POLICIES,
  timeoutMs: 120_000,
});
