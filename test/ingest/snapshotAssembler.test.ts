import { describe, expect, it } from 'vitest';
import { Code, SidecarError } from '../../src/errors.js';
import type { ErrorScope } from '../../src/errors.js';
import type { DType__Output } from '../../src/gen/ntksidecar/v1/DType.js';
import type { KernelReduction__Output } from '../../src/gen/ntksidecar/v1/KernelReduction.js';
import type { SnapshotHeader__Output } from '../../src/gen/ntksidecar/v1/SnapshotHeader.js';
import type { TensorChunk__Output } from '../../src/gen/ntksidecar/v1/TensorChunk.js';
import type { TensorKind__Output } from '../../src/gen/ntksidecar/v1/TensorKind.js';
import type { TensorSpec__Output } from '../../src/gen/ntksidecar/v1/TensorSpec.js';
import { crc32c, verifyChunkCrc32c } from '../../src/ingest/crc32c.js';
import { SnapshotAssembler } from '../../src/ingest/snapshotAssembler.js';
import type { AcceptedChunk, IngestLimits, ProbeShape } from '../../src/ingest/snapshotAssembler.js';
import { mulberry32 } from '../../src/random.js';

const MiB = 1024 * 1024;
const probe: ProbeShape = { samples: 4, outputs: 3 }; // N = 12
const limits: IngestLimits = { maxRows: 64, maxChunkBytes: 4 * MiB, maxSnapshotBytes: 2 ** 40 };
const SIZE: Record<string, number> = { DTYPE_F32: 4, DTYPE_F64: 8, DTYPE_F16: 2, DTYPE_BF16: 2 };

function spec(tensor: TensorKind__Output, dtype: DType__Output, rows: number, cols: number): TensorSpec__Output {
  return { tensor, dtype, rows, cols };
}

function header(
  tensors: TensorSpec__Output[],
  kernel_reduction: KernelReduction__Output = 'KERNEL_REDUCTION_FULL',
  snapshot_id = 7,
): SnapshotHeader__Output {
  return {
    snapshot_id,
    step: 1200,
    samples_seen: 38400,
    compute_spent: 1.5,
    learning_rate: 0.1,
    train_loss: NaN, // allowed: a finding, not an error
    kernel_preconditioned: false,
    tensors,
    kernel_reduction,
  };
}

/** A chunk whose data has the right length for its shape (filled with a seeded byte pattern) unless given. */
function chunk(
  tensor: TensorKind__Output,
  dtype: DType__Output,
  offset: number,
  rows: number,
  cols: number,
  opts: { data?: Buffer; crc?: number | 'auto'; snapshotId?: number } = {},
): TensorChunk__Output {
  const data = opts.data ?? Buffer.from(Uint8Array.from({ length: rows * cols * SIZE[dtype] }, (_, i) => (i * 31 + offset) & 0xff));
  const crc = opts.crc === 'auto' ? crc32c(data) : (opts.crc ?? 0);
  return { snapshot_id: opts.snapshotId ?? 7, tensor, offset, rows, cols, dtype, data, crc32c: crc };
}

/** Runs fn, expects a SidecarError with `code` and `scope`, and that its message contains every fragment. */
function expectFault(fn: () => unknown, code: Code, scope: ErrorScope, ...fragments: string[]): SidecarError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SidecarError);
  const err = caught as SidecarError;
  expect({ code: err.code, scope: err.scope }).toEqual({ code, scope });
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

/** Seeded Fisher–Yates shuffle. */
function shuffled<T>(items: T[], seed: number): T[] {
  const rng = mulberry32(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits [0, extent) into blocks of seeded random width 1..maxWidth. */
function blocks(extent: number, maxWidth: number, seed: number): Array<[number, number]> {
  const rng = mulberry32(seed);
  const out: Array<[number, number]> = [];
  for (let a = 0; a < extent; ) {
    const w = Math.min(extent - a, 1 + Math.floor(rng() * maxWidth));
    out.push([a, w]);
    a += w;
  }
  return out;
}

const jacobian = (cols = 1000, dtype: DType__Output = 'DTYPE_F32'): TensorSpec__Output =>
  spec('TENSOR_KIND_JACOBIAN', dtype, 12, cols);

describe('SnapshotAssembler: a complete snapshot', () => {
  it('accepts every tensor kind with chunks in random order and closes cleanly', () => {
    const specs = [
      jacobian(1000, 'DTYPE_BF16'),
      spec('TENSOR_KIND_SKETCH', 'DTYPE_F32', 12, 64),
      spec('TENSOR_KIND_GRAM', 'DTYPE_F64', 12, 12),
      spec('TENSOR_KIND_LOGITS', 'DTYPE_F16', 4, 3),
    ];
    const asm = new SnapshotAssembler(header(specs), { ...probe, sketchDim: 64 }, limits);
    expect(asm.snapshotId).toBe(7);
    expect(asm.step).toBe(1200);
    expect(asm.reduction).toBe('full');
    expect(asm.plans).toEqual(specs.map(({ tensor, dtype, rows, cols }) => ({ kind: tensor, dtype, rows, cols })));
    expect(asm.declaredBytes).toBe(12 * 1000 * 2 + 12 * 64 * 4 + 12 * 12 * 8 + 4 * 3 * 2);

    const all: TensorChunk__Output[] = [
      ...blocks(1000, 90, 1).map(([o, w], i) =>
        chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_BF16', o, 12, w, { crc: i % 2 ? 'auto' : 0 }),
      ),
      ...blocks(64, 10, 2).map(([o, w]) => chunk('TENSOR_KIND_SKETCH', 'DTYPE_F32', o, 12, w, { crc: 'auto' })),
      ...blocks(12, 4, 3).map(([o, h]) => chunk('TENSOR_KIND_GRAM', 'DTYPE_F64', o, h, 12)),
      ...blocks(4, 2, 4).map(([o, h]) => chunk('TENSOR_KIND_LOGITS', 'DTYPE_F16', o, h, 3)),
    ];
    const order = shuffled(all, 99);
    let last: AcceptedChunk | undefined;
    for (const c of order) {
      expect(asm.complete).toBe(false);
      last = asm.accept(c);
    }
    expect(asm.complete).toBe(true);
    const lastIn = order[order.length - 1];
    expect(last).toEqual({
      kind: lastIn.tensor,
      dtype: lastIn.dtype,
      offset: lastIn.offset,
      rows: lastIn.rows,
      cols: lastIn.cols,
      data: lastIn.data,
      layout: lastIn.tensor === 'TENSOR_KIND_JACOBIAN' || lastIn.tensor === 'TENSOR_KIND_SKETCH' ? 'columns' : 'rows',
      crc32c: 0, // verified here (no deferChecksum)
      where: expect.stringMatching(/^snapshot 7: TENSOR_KIND_\w+ chunk at (column|row) \d+$/) as unknown,
    });
    expect(last?.data).toBe(lastIn.data); // aliased, not copied
    expect(asm.chunkCount).toBe(all.length);
    expect(asm.receivedBytes).toBe(asm.declaredBytes);
    expect(asm.intervalCount).toBe(4); // fully coalesced: one interval per tensor
    asm.end({ snapshot_id: 7, chunk_count: all.length, total_bytes: asm.declaredBytes });
    expect(asm.state).toBe('ended');
  });

  it('skips the count checks when SnapshotEnd leaves them 0', () => {
    const asm = new SnapshotAssembler(header([spec('TENSOR_KIND_LOGITS', 'DTYPE_F32', 4, 3)]), probe, limits);
    asm.accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 4, 3));
    asm.end({ snapshot_id: 7, chunk_count: 0, total_bytes: 0 });
    expect(asm.state).toBe('ended');
  });

  it('accepts NaN and Inf in the data (a finding downstream, not an error)', () => {
    const asm = new SnapshotAssembler(header([jacobian(2, 'DTYPE_F32')]), probe, limits);
    const values = new Float32Array(24).fill(NaN);
    values[3] = Infinity;
    values[4] = -Infinity;
    const data = Buffer.from(values.buffer);
    asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 2, { data, crc: 'auto' }));
    asm.end({ snapshot_id: 7, chunk_count: 1, total_bytes: 96 });
    expect(asm.state).toBe('ended');
  });
});

describe('SnapshotAssembler: kernel reduction and Gram order', () => {
  const gram = (order: number): TensorSpec__Output => spec('TENSOR_KIND_GRAM', 'DTYPE_F32', order, order);

  it('TRACE takes an n×n Gram, FULL and UNSPECIFIED an N×N Gram', () => {
    expect(new SnapshotAssembler(header([gram(4)], 'KERNEL_REDUCTION_TRACE'), probe, limits).reduction).toBe('trace');
    expect(new SnapshotAssembler(header([gram(12)], 'KERNEL_REDUCTION_FULL'), probe, limits).reduction).toBe('full');
    expect(new SnapshotAssembler(header([gram(12)], 'KERNEL_REDUCTION_UNSPECIFIED'), probe, limits).reduction).toBe('full');
  });

  it('rejects a Gram whose order does not match the reduction, naming both orders', () => {
    expectFault(
      () => new SnapshotAssembler(header([gram(12)], 'KERNEL_REDUCTION_TRACE'), probe, limits),
      Code.INVALID_ARGUMENT, 'snapshot', '12×12', 'n×n = 4×4', 'KERNEL_REDUCTION_TRACE',
    );
    expectFault(
      () => new SnapshotAssembler(header([gram(4)], 'KERNEL_REDUCTION_FULL'), probe, limits),
      Code.INVALID_ARGUMENT, 'snapshot', '4×4', 'N×N = 12×12',
    );
    expectFault(
      () => new SnapshotAssembler(header([spec('TENSOR_KIND_GRAM', 'DTYPE_F32', 12, 11)]), probe, limits),
      Code.INVALID_ARGUMENT, 'snapshot', '12×11',
    );
  });
});

describe('SnapshotAssembler: header faults', () => {
  const make = (tensors: TensorSpec__Output[], p: ProbeShape = probe, l: IngestLimits = limits) => () =>
    new SnapshotAssembler(header(tensors), p, l);

  it('rejects malformed headers with INVALID_ARGUMENT (snapshot scope)', () => {
    expectFault(make([]), Code.INVALID_ARGUMENT, 'snapshot', 'snapshot 7', 'tensors is empty');
    expectFault(make([jacobian(), jacobian(5)]), Code.INVALID_ARGUMENT, 'snapshot', 'tensors[1]', 'TENSOR_KIND_JACOBIAN a second time');
    expectFault(make([spec('TENSOR_KIND_UNSPECIFIED', 'DTYPE_F32', 12, 3)]), Code.INVALID_ARGUMENT, 'snapshot', 'TENSOR_KIND_UNSPECIFIED');
    expectFault(make([spec('TENSOR_KIND_JACOBIAN', 'DTYPE_UNSPECIFIED', 12, 3)]), Code.INVALID_ARGUMENT, 'snapshot', 'DTYPE_UNSPECIFIED');
    expectFault(make([spec('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 10, 3)]), Code.INVALID_ARGUMENT, 'snapshot', '10×3', 'N = 12', 'n = 4', 'C = 3');
    expectFault(make([spec('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 12, 0)]), Code.INVALID_ARGUMENT, 'snapshot', '12×0');
    expectFault(make([spec('TENSOR_KIND_SKETCH', 'DTYPE_F32', 4, 64)]), Code.INVALID_ARGUMENT, 'snapshot', '4×64', 'N = 12 rows');
    expectFault(make([spec('TENSOR_KIND_LOGITS', 'DTYPE_F32', 12, 1)]), Code.INVALID_ARGUMENT, 'snapshot', '12×1', 'n×C = 4×3');
    expectFault(
      make([spec('TENSOR_KIND_SKETCH', 'DTYPE_F32', 12, 32)], { ...probe, sketchDim: 64 }),
      Code.INVALID_ARGUMENT, 'snapshot', '12×32', 'm = 64',
    );
    expectFault(make([spec('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 12, 2 ** 60)]), Code.INVALID_ARGUMENT, 'snapshot', '2^53');
    expectFault(
      () => new SnapshotAssembler(header([jacobian()], 'KERNEL_REDUCTION_BOGUS' as KernelReduction__Output), probe, limits),
      Code.INVALID_ARGUMENT, 'snapshot', 'KERNEL_REDUCTION_BOGUS',
    );
  });

  it('ends the stream with RESOURCE_EXHAUSTED when N exceeds max rows, with both numbers', () => {
    expectFault(
      make([jacobian()], probe, { ...limits, maxRows: 10 }),
      Code.RESOURCE_EXHAUSTED, 'stream', 'N = n·C = 4·3 = 12', 'max rows 10', '--max-rows',
    );
    // N = max rows is allowed.
    expect(() => make([jacobian()], probe, { ...limits, maxRows: 12 })()).not.toThrow();
  });

  it('ends the stream with RESOURCE_EXHAUSTED when the declared snapshot is too big, with both numbers', () => {
    // 12 × 1000 f32 + 4 × 3 f64 = 48000 + 96 = 48096 bytes.
    const tensors = [jacobian(), spec('TENSOR_KIND_LOGITS', 'DTYPE_F64', 4, 3)];
    expectFault(make(tensors, probe, { ...limits, maxSnapshotBytes: 48095 }), Code.RESOURCE_EXHAUSTED, 'stream', '48096 bytes', '48095');
    expect(new SnapshotAssembler(header(tensors), probe, { ...limits, maxSnapshotBytes: 48096 }).declaredBytes).toBe(48096);
  });
});

describe('SnapshotAssembler: chunk faults', () => {
  const open = () =>
    new SnapshotAssembler(
      header([jacobian(1000, 'DTYPE_F32'), spec('TENSOR_KIND_GRAM', 'DTYPE_F64', 12, 12)]),
      probe,
      limits,
    );

  it('INVALID_ARGUMENT for a foreign snapshot id, an undeclared kind and a dtype mismatch', () => {
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 5, { snapshotId: 8 })),
      Code.INVALID_ARGUMENT, 'snapshot', 'snapshot 8', 'snapshot 7 is open',
    );
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 4, 3)),
      Code.INVALID_ARGUMENT, 'snapshot', 'TENSOR_KIND_LOGITS', 'does not declare', 'TENSOR_KIND_JACOBIAN, TENSOR_KIND_GRAM',
    );
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F16', 0, 12, 5)),
      Code.INVALID_ARGUMENT, 'snapshot', 'DTYPE_F16', 'declares DTYPE_F32',
    );
  });

  it('column blocks: INVALID_ARGUMENT when rows ≠ N, OUT_OF_RANGE past P with the numbers', () => {
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 6, 5)),
      Code.INVALID_ARGUMENT, 'snapshot', 'has 6 rows', 'N = 12',
    );
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 0)),
      Code.INVALID_ARGUMENT, 'snapshot', '12×0',
    );
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 990, 12, 20)),
      Code.OUT_OF_RANGE, 'snapshot', 'columns 990–1009', 'offset + cols = 990 + 20 = 1010 > 1000', 'has 1000 columns',
    );
    // The last column exactly fits.
    expect(open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 999, 12, 1)).offset).toBe(999);
  });

  it('row blocks: INVALID_ARGUMENT when cols differ, OUT_OF_RANGE past the last row', () => {
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_GRAM', 'DTYPE_F64', 0, 2, 6)),
      Code.INVALID_ARGUMENT, 'snapshot', 'has 6 columns', 'whole rows of 12 columns',
    );
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_GRAM', 'DTYPE_F64', 10, 4, 12)),
      Code.OUT_OF_RANGE, 'snapshot', 'rows 10–13', 'offset + rows = 10 + 4 = 14 > 12', 'has 12 rows',
    );
  });

  it('INVALID_ARGUMENT when the byte length does not match the shape, with expected and actual bytes', () => {
    expectFault(
      () => open().accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 5, { data: Buffer.alloc(236) })),
      Code.INVALID_ARGUMENT, 'snapshot', 'holds 236 bytes, expected 240', '12×5 DTYPE_F32',
    );
  });

  it('RESOURCE_EXHAUSTED (stream) for a chunk over max chunk bytes, with both numbers', () => {
    const asm = new SnapshotAssembler(header([jacobian()]), probe, { ...limits, maxChunkBytes: 4800 });
    expect(asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 100)).cols).toBe(100); // 4800 bytes: at the limit
    expectFault(
      () => asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 100, 12, 101)),
      Code.RESOURCE_EXHAUSTED, 'stream', '4848 bytes', 'max chunk bytes 4800',
    );
  });

  it('DATA_LOSS on a checksum mismatch, printing both CRCs as hex; a correct CRC passes', () => {
    const good = chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 5, { crc: 'auto' });
    expect(open().accept(good).cols).toBe(5);
    const actual = crc32c(good.data);
    const sent = (actual ^ 0x00010000) >>> 0;
    const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
    expectFault(
      () => open().accept({ ...good, crc32c: sent }),
      Code.DATA_LOSS, 'snapshot', hex(sent), hex(actual), 'column 0', '240 bytes',
    );
    // Deferred (the sidecar verifies in the compute worker): accepted with the CRC handed back, and the deferred
    // check throws exactly the fault accept would have thrown.
    const deferred = open().accept({ ...good, crc32c: sent }, { deferChecksum: true });
    expect(deferred.crc32c).toBe(sent);
    let here: unknown;
    try {
      open().accept({ ...good, crc32c: sent });
    } catch (err) {
      here = err;
    }
    expect(() => verifyChunkCrc32c(deferred.data, deferred.crc32c, deferred.where)).toThrow(here as Error);
    expect(() => verifyChunkCrc32c(deferred.data, actual, deferred.where)).not.toThrow();
    expect(open().accept({ ...good, crc32c: 0 }, { deferChecksum: true }).crc32c).toBe(0);
    // A flipped data bit with the original CRC is caught too.
    const flipped = Buffer.from(good.data);
    flipped[17] ^= 4;
    expectFault(() => open().accept({ ...good, data: flipped }), Code.DATA_LOSS, 'snapshot', hex(actual));
  });

  it('ABORTED as soon as columns or rows arrive twice, naming the overlap', () => {
    const asm = open();
    asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 100));
    asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 200, 12, 100));
    expectFault(
      () => asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 100, 12, 150)),
      Code.ABORTED, 'snapshot', 'columns 200–249 sent twice', 'covers columns 100–249', 'resend the snapshot',
    );
    const g = open();
    g.accept(chunk('TENSOR_KIND_GRAM', 'DTYPE_F64', 3, 1, 12));
    expectFault(() => g.accept(chunk('TENSOR_KIND_GRAM', 'DTYPE_F64', 0, 4, 12)), Code.ABORTED, 'snapshot', 'rows 3 sent twice');
  });

  it('after a fault the assembler is rejected and refuses further messages', () => {
    const asm = open();
    expect(() => asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 995, 12, 10))).toThrow(SidecarError);
    expect(asm.state).toBe('rejected');
    expectFault(() => asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 0, 12, 10)), Code.FAILED_PRECONDITION, 'snapshot', 'rejected');
    expectFault(() => asm.end({ snapshot_id: 7, chunk_count: 0, total_bytes: 0 }), Code.FAILED_PRECONDITION, 'snapshot', 'rejected');
    // Nothing from the failed chunk was counted.
    expect(asm.chunkCount).toBe(0);
    expect(asm.receivedBytes).toBe(0);
  });
});

describe('SnapshotAssembler: SnapshotEnd faults', () => {
  const open = () =>
    new SnapshotAssembler(
      header([jacobian(1000, 'DTYPE_F16'), spec('TENSOR_KIND_LOGITS', 'DTYPE_F32', 4, 3)]),
      probe,
      limits,
    );

  it('INVALID_ARGUMENT for an end of another snapshot', () => {
    expectFault(() => open().end({ snapshot_id: 6, chunk_count: 0, total_bytes: 0 }), Code.INVALID_ARGUMENT, 'snapshot', 'snapshot 6', 'snapshot 7');
  });

  it('ABORTED listing the first missing ranges and the counts per tensor', () => {
    const asm = open();
    // Every other 10-column block of the Jacobian: 50 gaps of 10 columns; logits rows 1–3 missing.
    for (let o = 0; o < 1000; o += 20) asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F16', o, 12, 10));
    asm.accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 1, 3));
    expect(asm.complete).toBe(false);
    expectFault(
      () => asm.end({ snapshot_id: 7, chunk_count: 60, total_bytes: 0 }),
      Code.ABORTED, 'snapshot',
      'incomplete',
      'TENSOR_KIND_JACOBIAN is missing columns 10–19, 30–39, 50–59, 70–79, 90–99, and 45 more gaps (500 of 1000 columns in 50 gaps)',
      'TENSOR_KIND_LOGITS is missing rows 1–3 (3 of 4 rows in 1 gap)',
      '51 chunks arrived, SnapshotEnd.chunk_count says 60',
      'resend the whole snapshot',
    );
    expect(asm.state).toBe('rejected');
  });

  it('ABORTED for a tensor that got no chunk at all', () => {
    const asm = open();
    asm.accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 4, 3));
    expectFault(() => asm.end({ snapshot_id: 7, chunk_count: 1, total_bytes: 48 }), Code.ABORTED, 'snapshot', 'TENSOR_KIND_JACOBIAN is missing columns 0–999 (1000 of 1000 columns in 1 gap)');
  });

  const fill = (asm: SnapshotAssembler) => {
    asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F16', 500, 12, 500));
    asm.accept(chunk('TENSOR_KIND_JACOBIAN', 'DTYPE_F16', 0, 12, 500));
    asm.accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 4, 3));
  };
  const total = 12 * 1000 * 2 + 48;

  it('ABORTED when chunk_count disagrees although coverage is complete', () => {
    const asm = open();
    fill(asm);
    expectFault(() => asm.end({ snapshot_id: 7, chunk_count: 4, total_bytes: total }), Code.ABORTED, 'snapshot', 'chunk_count is 4 but 3 chunks arrived');
  });

  it('DATA_LOSS when total_bytes disagrees, with both byte counts', () => {
    const asm = open();
    fill(asm);
    expectFault(
      () => asm.end({ snapshot_id: 7, chunk_count: 3, total_bytes: total + 2 }),
      Code.DATA_LOSS, 'snapshot', `total_bytes is ${total + 2} but ${total} bytes`,
    );
    const ok = open();
    fill(ok);
    ok.end({ snapshot_id: 7, chunk_count: 3, total_bytes: total });
    expect(ok.state).toBe('ended');
    expectFault(() => ok.accept(chunk('TENSOR_KIND_LOGITS', 'DTYPE_F32', 0, 4, 3)), Code.FAILED_PRECONDITION, 'snapshot', 'ended');
  });
});

describe('SnapshotAssembler: a 10^8-column Jacobian', () => {
  it('accepts 4 MiB chunks in random order with bookkeeping independent of P', () => {
    const P = 1e8;
    const bigProbe: ProbeShape = { samples: 8, outputs: 2 }; // N = 16
    const colsPerChunk = (4 * MiB) / (16 * 4); // 65536 f32 columns of 16 rows = 4 MiB
    const before = process.memoryUsage();
    const asm = new SnapshotAssembler(
      header([spec('TENSOR_KIND_JACOBIAN', 'DTYPE_F32', 16, P)]),
      bigProbe,
      { maxRows: 8192, maxChunkBytes: 4 * MiB, maxSnapshotBytes: 2 ** 50 },
    );
    const after = process.memoryUsage();
    // A per-column structure would cost ≥ 12.5 MB even as a bitmap; the header needs a few hundred bytes.
    // 2 MiB of slack covers unrelated allocation noise in the test process.
    expect(after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)).toBeLessThan(2 * MiB);
    expect(asm.declaredBytes).toBe(16 * P * 4);

    const payload = Buffer.alloc(4 * MiB, 0x3f); // shared by every chunk: the assembler never copies data
    const starts: number[] = [];
    for (let o = 0; o < P; o += colsPerChunk) starts.push(o);
    expect(starts.length).toBe(Math.ceil(P / colsPerChunk)); // 1526 chunks
    let peak = 0;
    for (const o of shuffled(starts, 2024)) {
      const cols = Math.min(colsPerChunk, P - o);
      const data = cols === colsPerChunk ? payload : payload.subarray(0, cols * 16 * 4);
      asm.accept({ snapshot_id: 7, tensor: 'TENSOR_KIND_JACOBIAN', offset: o, rows: 16, cols, dtype: 'DTYPE_F32', data, crc32c: 0 });
      peak = Math.max(peak, asm.intervalCount);
    }
    // Random order: at most one interval per chunk, about chunks/4 at the peak; none left once complete.
    expect(peak).toBeLessThan(starts.length / 2);
    expect(asm.intervalCount).toBe(1);
    asm.end({ snapshot_id: 7, chunk_count: starts.length, total_bytes: 16 * P * 4 });
    expect(asm.state).toBe('ended');
    expect(asm.receivedBytes).toBe(6.4e9);
  });
});
