/**
 * torch.distributed (clients/python/tests/test_distributed.py): two gloo processes, rank 0 attached to the real
 * sidecar with a step budget; DistributedStop broadcasts rank 0's answer and both ranks stop on the same step.
 */
import { describePythonAgainstSidecar } from './pythonTests.js';

describePythonAgainstSidecar({
  title: 'ntk_sidecar Python client: torch.distributed',
  it: 'stops both gloo ranks on the same step',
  modules: ['test_distributed'],
  minTests: 1,
  timeoutMs: 150_000,
});
