/**
 * The trainer's side of a bench, as a SEPARATE process (so its CPU time and memory are not the server's):
 * attaches one run to `target` with the TypeScript client and streams `snapshots` seeded float32 Jacobian or
 * sketch snapshots of rows × cols in column chunks of ≤ chunkBytes, exactly as `tensorChunks` splits them.
 * Chunk payloads are drawn from a pool of up to four seeded blocks per snapshot, prepared (with their CRC-32C)
 * before the clock starts, so the timed part is the wire and the server, not the generator.
 *
 *   node --import tsx bench/support/streamClient.ts '<StreamPlan as JSON>'
 *
 * Prints one `STREAM_RESULT {...}` line per timed snapshot (warm-up snapshots are sent first and not reported).
 * `streamRun` is the same thing in-process.
 */
import { pathToFileURL } from 'node:url';
import { crc32c } from '../../src/ingest/crc32c.js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { mulberry32, normal } from '../../src/random.js';
import type { TrainerMessage } from '../../src/gen/ntksidecar/v1/TrainerMessage.js';

export interface StreamPlan {
  target: string;
  kind: 'jacobian' | 'sketch';
  rows: number;
  cols: number;
  chunkBytes: number;
  /** Untimed snapshots first (JIT, connection, kernel compilation); they carry min(cols, warmupCols) columns. */
  warmup: number;
  warmupCols?: number;
  snapshots: number;
  seed: number;
  /** Fill TensorChunk.crc32c (the client's default). */
  checksum: boolean;
}

export interface StreamResult {
  snapshot: number;
  bytes: number;
  chunks: number;
  /** Seconds from the header's write: until SnapshotEnd was handed to grpc-js, the ack, the decision. */
  written: number;
  ack: number;
  decision: number;
  accepted: boolean;
  message: string;
}

export const STREAM_RESULT = 'STREAM_RESULT ';

function seededBlock(seed: number, length: number): Float32Array {
  const draw = normal(mulberry32(seed));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = draw();
  return out;
}

interface PreparedChunk {
  data: Uint8Array;
  crc: number;
}

function prepare(plan: StreamPlan, seed: number, cols: number): { perChunk: number; pool: PreparedChunk[]; tail?: PreparedChunk } {
  const perChunk = Math.max(1, Math.floor(plan.chunkBytes / (plan.rows * 4)));
  const chunks = Math.ceil(cols / perChunk);
  const pool: PreparedChunk[] = [];
  for (let b = 0; b < Math.min(4, chunks); b++) {
    const data = new Uint8Array(seededBlock(seed * 16 + b, plan.rows * Math.min(perChunk, cols)).buffer);
    pool.push({ data, crc: plan.checksum ? crc32c(data) : 0 });
  }
  const rest = cols % perChunk;
  let tail: PreparedChunk | undefined;
  if (rest && chunks > 1) {
    const data = pool[0].data.subarray(0, plan.rows * rest * 4);
    tail = { data, crc: plan.checksum ? crc32c(data) : 0 };
  }
  return { perChunk, pool, tail };
}

/**
 * Streams the plan's snapshots on one run and returns the timed ones. `after` runs after each snapshot's decision
 * (outside the timed span), e.g. to read the server's metrics; the latency bench uses it in-process.
 */
export async function streamRun(plan: StreamPlan, after?: (r: StreamResult, warm: boolean) => Promise<void>): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  const client = new NtkSidecarClient(plan.target);
  const tensor = plan.kind === 'jacobian' ? 'TENSOR_KIND_JACOBIAN' : 'TENSOR_KIND_SKETCH';
  const run = client.attach({
    run_id: `bench-${process.pid}-${Date.now()}`,
    probe: { num_samples: plan.rows, num_outputs: 1, sample_ids_hash: 'bench' },
    loss: { kind: 'LOSS_KIND_MSE', scale: 1 / (2 * plan.rows) },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: 0.1,
    sketch: plan.kind === 'sketch' ? { kind: 'SKETCH_KIND_GAUSSIAN', dim: plan.cols, seed: plan.seed } : undefined,
  });
  await run.accepted;
  for (let s = 1; s <= plan.warmup + plan.snapshots; s++) {
    const warm = s <= plan.warmup;
    const cols = warm ? Math.min(plan.cols, plan.warmupCols ?? plan.cols) : plan.cols;
    if (plan.kind === 'sketch' && cols !== plan.cols) throw new Error('sketch snapshots must carry all m columns');
    const { perChunk, pool, tail } = prepare(plan, plan.seed + s, cols);
    const ack = run.ack(s);
    const decision = run.decision(s);
    decision.catch(() => undefined);
    const t0 = performance.now();
    await run.write({
      header: {
        snapshot_id: s,
        step: 100 * s,
        train_loss: 1 / s,
        learning_rate: 0.1,
        kernel_reduction: 'KERNEL_REDUCTION_FULL',
        tensors: [{ tensor, dtype: 'DTYPE_F32', rows: plan.rows, cols }],
      },
    });
    let chunks = 0;
    let bytes = 0;
    for (let c0 = 0; c0 < cols; c0 += perChunk) {
      const n = Math.min(perChunk, cols - c0);
      const p = n === perChunk || !tail ? pool[chunks % pool.length] : tail;
      const msg: TrainerMessage = { chunk: { snapshot_id: s, tensor, offset: c0, rows: plan.rows, cols: n, dtype: 'DTYPE_F32', data: p.data, crc32c: p.crc } };
      await run.write(msg);
      chunks++;
      bytes += p.data.byteLength;
    }
    await run.write({ end: { snapshot_id: s, chunk_count: chunks, total_bytes: bytes } });
    const written = performance.now();
    const a = await ack;
    const acked = performance.now();
    const d = a.accepted ? await decision : undefined;
    const decided = performance.now();
    if (!a.accepted) throw new Error(`snapshot ${s} rejected: ${a.code} ${a.message}`);
    const r: StreamResult = {
      snapshot: s,
      bytes,
      chunks,
      written: (written - t0) / 1000,
      ack: (acked - t0) / 1000,
      decision: (decided - t0) / 1000,
      accepted: a.accepted,
      message: d?.reason ?? '',
    };
    if (!warm) results.push(r);
    await after?.(r, warm);
  }
  await run.finish();
  client.close();
  return results;
}

// As a script (a separate client process): one line per timed snapshot.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  streamRun(JSON.parse(process.argv[2]) as StreamPlan).then(
    (results) => {
      for (const r of results) console.log(STREAM_RESULT + JSON.stringify(r));
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
