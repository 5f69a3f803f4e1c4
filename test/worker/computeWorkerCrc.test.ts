/** The compute worker verifies a chunk's deferred CRC-32C before decoding (issue 15): same code and message as the event loop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, SidecarError } from '../../src/errors.js';
import { crc32c, verifyChunkCrc32c } from '../../src/ingest/crc32c.js';
import { ComputePool } from '../../src/worker/computePool.js';
import type { ChunkWork, SnapshotPlan } from '../../src/worker/protocol.js';

const N = 4;
const P = 6;
const PLAN: SnapshotPlan = {
  samples: N,
  outputs: 1,
  reduction: 'full',
  kernel: { kind: 'TENSOR_KIND_JACOBIAN', dtype: 'DTYPE_F32', rows: N, cols: P },
  exactMax: 2048,
  topK: 4,
};

function work(crc: number | 'auto'): ChunkWork {
  const values = new Float32Array(N * P).map((_, i) => Math.sin(i + 1));
  const data = new Uint8Array(values.buffer);
  return {
    kind: 'TENSOR_KIND_JACOBIAN',
    dtype: 'DTYPE_F32',
    offset: 0,
    rows: N,
    cols: P,
    data,
    crc32c: crc === 'auto' ? crc32c(data) : crc,
    where: 'snapshot 3: TENSOR_KIND_JACOBIAN chunk at column 0',
  };
}

describe('compute worker CRC-32C check', () => {
  let pool: ComputePool;
  beforeAll(async () => {
    pool = await ComputePool.start(1, 'reference');
  }, 60_000);
  afterAll(async () => {
    await pool.close();
  });

  it('DATA_LOSS with the event-loop message for a wrong CRC, before decoding; the buffer was transferred', async () => {
    await pool.begin('r', PLAN);
    const bad = work(0xdeadbeef);
    const copy = bad.data.slice();
    let expected: Error | undefined;
    try {
      verifyChunkCrc32c(copy, 0xdeadbeef, bad.where);
    } catch (err) {
      expected = err as Error;
    }
    expect(expected).toBeInstanceOf(SidecarError);
    const failure = pool.chunk('r', bad);
    expect(bad.data.byteLength).toBe(0); // transferred, not copied
    const err = await failure.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SidecarError);
    expect((err as SidecarError).code).toBe(Code.DATA_LOSS);
    expect((err as SidecarError).scope).toBe('snapshot');
    expect((err as SidecarError).message).toBe(expected!.message);
    expect((err as SidecarError).message).toMatch(/^snapshot 3: TENSOR_KIND_JACOBIAN chunk at column 0 \(96 bytes\) fails its checksum: crc32c 0xdeadbeef was sent/);
    await pool.abort('r');
  }, 60_000);

  it('a correct CRC, or none, is accepted and accumulated', async () => {
    for (const crc of ['auto', 0] as const) {
      await pool.begin('r', PLAN);
      await pool.chunk('r', work(crc));
      await pool.abort('r');
    }
  }, 60_000);
});
