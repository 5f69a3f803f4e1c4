/** ComputePool starts its first worker with the pool and the others only when concurrent runs need them. */
import { afterEach, describe, expect, it } from 'vitest';
import { ComputePool } from '../../src/worker/computePool.js';
import type { SnapshotPlan } from '../../src/worker/protocol.js';

const PLAN: SnapshotPlan = { samples: 2, outputs: 1, reduction: 'full', exactMax: 2048, topK: 8 };

describe('ComputePool lazy workers', () => {
  let pool: ComputePool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('one worker when idle; a second for a second concurrent run; never more than the size', async () => {
    pool = await ComputePool.start(2, 'reference');
    expect(pool.size).toBe(1);
    expect(pool.backend).toBe('reference');
    await pool.begin('a', PLAN);
    expect(pool.size).toBe(1); // the idle worker takes the first run
    await Promise.all([pool.begin('b', PLAN), pool.begin('c', PLAN)]);
    expect(pool.size).toBe(2);
    await pool.begin('d', PLAN);
    expect(pool.size).toBe(2);
    // Runs keep working on whichever worker they were pinned to.
    for (const run of ['a', 'b', 'c', 'd']) {
      const res = await pool.end(run, {
        setup: { samples: 2, outputs: 1, loss: undefined, lossScale: 0, optimizer: { kind: 'sgd', momentum: 0, beta1: 0, weightDecay: 0 }, trainSetSize: 0, labelNoiseSigma: 0, evalHeldOut: false },
        snapshotId: 1,
        step: 1,
        trainLoss: 1,
        learningRate: 0.1,
        observed: [],
        preconditioned: false,
        kess: { rho: 0.01, eps: 0.01, horizonFraction: 0.2 },
      });
      expect(res.finite).toBe(true);
    }
  }, 60_000);

  it('a pool of one never starts another', async () => {
    pool = await ComputePool.start(1, 'reference');
    await pool.begin('a', PLAN);
    await pool.begin('b', PLAN);
    expect(pool.size).toBe(1);
  }, 60_000);

  it('after a drop the freed worker is reused before a new one starts', async () => {
    pool = await ComputePool.start(3, 'reference');
    await pool.begin('a', PLAN);
    await pool.drop('a');
    await pool.begin('b', PLAN);
    expect(pool.size).toBe(1);
  }, 60_000);
});
