/**
 * Runs streamed to a real sidecar with the TypeScript client for the page and picture tests (issue 16):
 * - the lazy linear model of test/scenarios/stopping.test.ts (K = diag(100, 10, 0.1), exact GD), which STOPs with
 *   KESS_REACHED near step 30;
 * - a run whose kernel has a prescribed power-law spectrum λ_i = 100·i^−1.5 (J = diag(√λ_i)), so the spectrum
 *   chart has points and a fitted decay line (the exponent 1.5 is known).
 */
import { expect } from 'vitest';
import type { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { f64Bytes } from '../support/testIo.js';


/** Streams the lazy linear model until its STOP and returns the STOP step; `afterFirstSnapshot` runs once the run has a page. */
export async function streamStoppingRun(client: NtkSidecarClient, runId: string, opts: { policy?: string; finish?: boolean; afterFirstSnapshot?: () => Promise<void> } = {}): Promise<number> {
  const J = Float64Array.from([10, 0, 0, 0, Math.sqrt(10), 0, 0, 0, Math.sqrt(0.1)]);
  const lambda = [100, 10, 0.1];
  const cL = 1 / 6;
  const eta = 0.015;
  const run = client.attach({
    run_id: runId,
    job_id: 'ui-test',
    policy: opts.policy ?? '',
    probe: { num_samples: 3, num_outputs: 1, targets: { dtype: 'DTYPE_F64', shape: [3, 1], data: f64Bytes([1, 1, 1]) } },
    loss: { kind: 'LOSS_KIND_MSE', scale: cL },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: eta,
    budget: { max_steps: 1000 },
  });
  await run.accepted;
  const f = [0, 0, 0];
  let id = 0;
  let stopStep: number | undefined;
  for (let step = 0; step <= 200 && stopStep === undefined; step++) {
    const loss = cL * f.reduce((acc, v) => acc + (v - 1) ** 2, 0);
    if (step % 5 === 0) {
      const res = await run.sendSnapshot({
        id: ++id,
        step,
        trainLoss: loss,
        tensors: [
          { kind: 'TENSOR_KIND_JACOBIAN', rows: 3, cols: 3, data: J },
          { kind: 'TENSOR_KIND_LOGITS', rows: 3, cols: 1, data: Float64Array.from(f) },
        ],
      });
      expect(res.ack.accepted, res.ack.message).toBe(true);
      if (res.decision?.action === 'ACTION_STOP') stopStep = step;
      if (id === 1) await opts.afterFirstSnapshot?.();
    } else {
      await run.sendScalars({ step, train_loss: loss, learning_rate: eta });
    }
    for (let i = 0; i < 3; i++) f[i] -= 2 * cL * eta * lambda[i] * (f[i] - 1);
  }
  expect(stopStep, `run ${runId} never stopped`).toBeDefined();
  if (opts.finish !== false) await run.finish('RUN_STATUS_STOPPED');
  return stopStep!;
}

/** Eigenvalues of the power-law run's kernel. */
export const POWER_LAW = Array.from({ length: 32 }, (_, i) => 100 * (i + 1) ** -1.5);

/** One snapshot of a kernel with the spectrum POWER_LAW (N = 32); the run stays attached unless `finish`. */
export async function streamPowerLawRun(client: NtkSidecarClient, runId: string, opts: { finish?: boolean; jobId?: string } = {}): Promise<void> {
  const n = POWER_LAW.length;
  const J = new Float64Array(n * n);
  POWER_LAW.forEach((l, i) => (J[i * n + i] = Math.sqrt(l)));
  const run = client.attach({ run_id: runId, job_id: opts.jobId ?? 'ui-test', probe: { num_samples: n, num_outputs: 1 }, learning_rate: 0.01 });
  await run.accepted;
  const res = await run.sendSnapshot({ id: 1, step: 10, trainLoss: 0.5, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: n, cols: n, data: J }] });
  expect(res.ack.accepted, res.ack.message).toBe(true);
  if (opts.finish) await run.finish('RUN_STATUS_COMPLETED');
}
