/**
 * Cross-language golden fixtures: TrainerMessages written by the Python client (clients/python/scripts/
 * write_golden_chunks.py → test/fixtures/python-chunks/) decoded by the TypeScript side exactly as the server
 * does — proto-loader's Attach request deserializer, SnapshotAssembler (shape, range, CRC-32C, coverage) and
 * decodeTensor — must give the float64 values the Python side had, for f32, f64, f16 and bf16 (dtype and
 * endianness), in sample-major row order (row i·C + c = output c of sample i), at the right column offsets
 * (two client blocks cut into ≤ 3-column chunks) and, for a Gram, the right row offsets. Comparisons are exact:
 * every dtype widens to float64 without rounding. The Python suite checks that the fixtures are current.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import type { DType__Output } from '../../src/gen/ntksidecar/v1/DType.js';
import type { SidecarMessage, SidecarMessage__Output } from '../../src/gen/ntksidecar/v1/SidecarMessage.js';
import type { TrainerMessage, TrainerMessage__Output } from '../../src/gen/ntksidecar/v1/TrainerMessage.js';
import { decodeTensor } from '../../src/ingest/decodeTensor.js';
import { SnapshotAssembler } from '../../src/ingest/snapshotAssembler.js';
import { loadPackageDefinition } from '../../src/protoDefinition.js';
import { REPO } from './pythonTests.js';

const DIR = join(REPO, 'test/fixtures/python-chunks');

interface ChunkInfo {
  tensor: number;
  offset: number;
  rows: number;
  cols: number;
  bytes: number;
  crc32c: number;
}

interface JacobianFixture {
  dtype: 'f32' | 'f64' | 'f16' | 'bf16';
  snapshot_id: number;
  step: number;
  jacobian: number[][][];
  logits: number[][];
  targets: number[][];
  chunks: ChunkInfo[];
  one_le_hex: string;
}

interface GramFixture {
  dtype: 'f64';
  snapshot_id: number;
  step: number;
  gram: number[][];
  chunks: ChunkInfo[];
}

interface Expected {
  samples: number;
  outputs: number;
  params: number;
  files: Record<string, JacobianFixture | GramFixture>;
}

const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
const { samples: n, outputs: C, params: P } = expected;
const N = n * C;
const WIRE: Record<string, DType__Output> = { f32: 'DTYPE_F32', f64: 'DTYPE_F64', f16: 'DTYPE_F16', bf16: 'DTYPE_BF16' };
const LIMITS = { maxRows: 1 << 20, maxChunkBytes: 16 << 20, maxSnapshotBytes: 1 << 30 };

const attach = (loadPackageDefinition()['ntksidecar.v1.NtkSidecar'] as ServiceDefinition).Attach as MethodDefinition<
  TrainerMessage,
  SidecarMessage,
  TrainerMessage__Output,
  SidecarMessage__Output
>;

/** Messages of a fixture file: each prefixed by its length as a protobuf varint. */
function readMessages(name: string): TrainerMessage__Output[] {
  const buf = readFileSync(join(DIR, name));
  const out: TrainerMessage__Output[] = [];
  let at = 0;
  while (at < buf.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = buf[at++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    out.push(attach.requestDeserialize(buf.subarray(at, at + len)));
    at += len;
  }
  expect(at).toBe(buf.length);
  return out;
}

interface Decoded {
  dense: Float64Array[];
  chunks: ChunkInfo[];
  firstChunkData: Uint8Array;
}

/** Runs a snapshot's messages through the server's assembler and decoder; returns the placed values per tensor kind. */
function assemble(messages: TrainerMessage__Output[]): { start: TrainerMessage__Output['start']; byKind: Map<string, Decoded> } {
  expect(messages.map((m) => m.kind)).toEqual(['start', 'header', ...Array(messages.length - 3).fill('chunk'), 'end']);
  const start = messages[0].start!;
  const header = messages[1].header!;
  const assembler = new SnapshotAssembler(header, { samples: start.probe!.num_samples, outputs: start.probe!.num_outputs }, LIMITS);
  const byKind = new Map<string, Decoded>();
  for (const plan of assembler.plans) {
    byKind.set(plan.kind, { dense: Array.from({ length: plan.rows }, () => new Float64Array(plan.cols).fill(Number.NaN)), chunks: [], firstChunkData: new Uint8Array(0) });
  }
  for (const m of messages.slice(2, -1)) {
    const chunk = m.chunk!;
    const accepted = assembler.accept(chunk); // validates shape, byte length, range and CRC-32C
    const values = decodeTensor(accepted.data, accepted.dtype, accepted.rows * accepted.cols);
    const target = byKind.get(accepted.kind)!;
    if (target.chunks.length === 0) target.firstChunkData = accepted.data;
    target.chunks.push({ tensor: KIND_NUMBER[accepted.kind], offset: accepted.offset, rows: accepted.rows, cols: accepted.cols, bytes: accepted.data.length, crc32c: chunk.crc32c });
    for (let r = 0; r < accepted.rows; r++) {
      for (let c = 0; c < accepted.cols; c++) {
        const v = values[r * accepted.cols + c];
        if (accepted.layout === 'columns') target.dense[r][accepted.offset + c] = v;
        else target.dense[accepted.offset + r][c] = v;
      }
    }
  }
  assembler.end(messages[messages.length - 1].end!); // coverage: every column / row exactly once
  expect(assembler.state).toBe('ended');
  expect(assembler.complete).toBe(true);
  return { start, byKind };
}

const KIND_NUMBER: Record<string, number> = { TENSOR_KIND_JACOBIAN: 1, TENSOR_KIND_SKETCH: 2, TENSOR_KIND_GRAM: 3, TENSOR_KIND_LOGITS: 4 };

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

describe('Python client chunks decoded by the TypeScript ingest path', () => {
  it.each(['f32', 'f64', 'f16', 'bf16'])('jacobian_%s.bin: dtype, endianness, row order and column offsets', (dtype) => {
    const name = `jacobian_${dtype}.bin`;
    const fx = expected.files[name] as JacobianFixture;
    const messages = readMessages(name);
    const { start, byKind } = assemble(messages);

    expect(start!.probe).toMatchObject({ num_samples: n, num_outputs: C });
    const targets = start!.probe!.targets!;
    expect(targets).toMatchObject({ dtype: 'DTYPE_F32', shape: [n, C] });
    expect(Array.from(decodeTensor(targets.data, targets.dtype, n * C))).toEqual(fx.targets.flat());
    const header = messages[1].header!;
    expect(header).toMatchObject({ snapshot_id: fx.snapshot_id, step: fx.step, train_loss: 0.75, kernel_reduction: 'KERNEL_REDUCTION_FULL' });
    expect(header.tensors).toEqual([
      { tensor: 'TENSOR_KIND_JACOBIAN', dtype: WIRE[dtype], rows: N, cols: P },
      { tensor: 'TENSOR_KIND_LOGITS', dtype: 'DTYPE_F32', rows: n, cols: C },
    ]);

    const jac = byKind.get('TENSOR_KIND_JACOBIAN')!;
    for (const m of messages.slice(2, -1)) if (m.chunk!.tensor === 'TENSOR_KIND_JACOBIAN') expect(m.chunk!.dtype).toBe(WIRE[dtype]);
    // Client blocks [0, 4) and [4, 7), cut into ≤ 3-column chunks: offsets 0, 3 and 4.
    expect(jac.chunks.map((c) => [c.offset, c.cols])).toEqual([[0, 3], [3, 1], [4, 3]]);
    expect(jac.chunks).toEqual(fx.chunks.filter((c) => c.tensor === 1));
    // Little-endian: J[(0,0), 0] = 1.0 is the first element of the first chunk.
    expect(hex(jac.firstChunkData).startsWith(fx.one_le_hex)).toBe(true);
    // Sample-major rows: row i·C + c is output c of sample i (marked corners: 1, 2, 3 and −4).
    expect([jac.dense[0][0], jac.dense[1][0], jac.dense[C][0], jac.dense[N - 1][P - 1]]).toEqual([1, 2, 3, -4]);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) expect(Array.from(jac.dense[i * C + c]), `row ${i * C + c}`).toEqual(fx.jacobian[i][c]);
    }

    const logits = byKind.get('TENSOR_KIND_LOGITS')!;
    expect(logits.dense.map((r) => Array.from(r))).toEqual(fx.logits);
  });

  it('gram_f64.bin: whole-row chunks at rows 0, 3, 6, 9', () => {
    const fx = expected.files['gram_f64.bin'] as GramFixture;
    const { byKind } = assemble(readMessages('gram_f64.bin'));
    const gram = byKind.get('TENSOR_KIND_GRAM')!;
    expect(gram.chunks.map((c) => [c.offset, c.rows])).toEqual([[0, 3], [3, 3], [6, 3], [9, 1]]);
    expect(gram.chunks).toEqual(fx.chunks);
    expect(gram.dense.map((r) => Array.from(r))).toEqual(fx.gram);
  });
});
