/**
 * Ingest throughput: a 1 GiB float32 Jacobian stream (N rows × P = 1 GiB/(4N) columns, 4 MiB chunks) sent by a
 * SEPARATE client process into the real sidecar (`ntk-sidecar serve`, its own process), next to the same client
 * streaming the same bytes with the same chunking into a grpc-js server for the same service that does no work
 * (bench/support/rawServer.ts). Figure: MiB/s = bytes / (header written → ack received); the ack comes after
 * every chunk was checked, decoded and accumulated and the spectrum solved.
 *
 *   npx tsx bench/ingest.bench.ts [--rows 16,256] [--mib 1024] [--chunk-mib 4] [--repeats R] [--backend auto]
 *                                 [--no-checksum]
 *
 * Raw and sidecar snapshots alternate (one fresh client process each, one untimed 128 MiB warm-up snapshot
 * first) so a change in machine load hits both; the figure is the median over R pairs.
 * The sidecar does N²·P flops of Gram work for the stream (N(N+1)/2 dot products of length P): at N = 256 that
 * is 6.9e10 flops for 1 GiB, so it is compute-bound there; at N = 16 the work per byte is 16× smaller and the
 * ingest path (HTTP/2, protobuf decode, CRC-32C, copy, hand-off to the compute worker) is what is measured.
 * Where the time goes: CPU seconds per GiB of the server process and of its main thread (/proc/<pid>/stat and
 * /proc/<pid>/task/<pid>/stat; the untimed warm-up snapshot is included in these and in the GiB), and the compute
 * worker's busy time (the sidecar's accumulate-stage histogram).
 *
 * First, in this process: the event loop's cost per 4 MiB chunk handed to a worker thread (issue 15 #2), before
 * (CRC-32C on the event loop + `new Uint8Array(view)` copy + transfer of the copy) and after (the view into grpc-js'
 * own message buffer transferred as is; the CRC-32C runs in the worker), on a buffer shaped like grpc-js' (4 MiB +
 * 37 bytes, data at offset 31). Main-thread milliseconds per chunk, median of 40 round trips after 10 warm-ups.
 */
import { Worker } from 'node:worker_threads';
import { crc32c } from '../src/ingest/crc32c.js';
import { RawServer, runStreamClient } from './support/children.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { emitReport, formatTable, type BenchRow } from './support/report.js';
import { SidecarProcess, cpuSeconds } from './support/sidecarProcess.js';
import { median, MiB, sig } from './support/stats.js';
import type { StreamPlan, StreamResult } from './support/streamClient.js';

interface Args {
  rows: number[];
  mib: number;
  chunkMib: number;
  repeats: number;
  backend: string;
  checksum: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rows: [16, 256], mib: 1024, chunkMib: 4, repeats: 3, backend: 'auto', checksum: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rows') args.rows = argv[++i].split(',').map(Number);
    else if (a === '--mib') args.mib = Number(argv[++i]);
    else if (a === '--chunk-mib') args.chunkMib = Number(argv[++i]);
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--backend') args.backend = argv[++i];
    else if (a === '--no-checksum') args.checksum = false;
    else throw new Error(`unknown argument ${a}; usage: ingest.bench.ts [--rows 16,256] [--mib 1024] [--chunk-mib 4] [--repeats R] [--backend auto] [--no-checksum]`);
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  for (const n of args.rows) if (!Number.isInteger(n) || n < 1) throw new Error(`--rows: ${n} is not a positive integer`);
  if (!(args.mib > 0) || !(args.chunkMib > 0)) throw new Error(`--mib and --chunk-mib must be positive, got ${args.mib}, ${args.chunkMib}`);
  return args;
}

const rate = (r: StreamResult) => r.bytes / MiB / r.ack;

/** Event-loop ms per chunk handed to a worker: before (CRC + copy + transfer) and after (transfer of the view). */
async function handOffCost(chunkBytes: number): Promise<{ before: number; after: number; copyOnly: number; crcOnly: number }> {
  // The worker verifies nothing here: only the event loop's side of the hand-off is timed; it echoes an empty reply.
  const worker = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => parentPort.postMessage(0));`, { eval: true });
  const roundTrip = (data: Uint8Array, transfer: boolean) =>
    new Promise<void>((resolve) => {
      worker.once('message', () => resolve());
      worker.postMessage({ data }, transfer ? [data.buffer as ArrayBuffer] : []);
    });
  const fresh = () => {
    const buf = new Uint8Array(chunkBytes + 37); // grpc-js: 5-byte frame prefix + the TensorChunk around its data
    for (let i = 0; i < buf.length; i += 4096) buf[i] = i & 0xff;
    return buf.subarray(31, 31 + chunkBytes);
  };
  const time = async (step: (view: Uint8Array) => Promise<void>) => {
    const ms: number[] = [];
    for (let r = 0; r < 50; r++) {
      const view = fresh();
      const t0 = performance.now();
      await step(view);
      if (r >= 10) ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  try {
    const before = await time(async (v) => {
      crc32c(v);
      await roundTrip(new Uint8Array(v), true);
    });
    const after = await time((v) => roundTrip(v, true));
    const copyOnly = await time(async (v) => void new Uint8Array(v));
    const crcOnly = await time(async (v) => void crc32c(v));
    return { before, after, copyOnly, crcOnly };
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(describeMachine(machineInfo()));
  const chunkBytes0 = Math.round(args.chunkMib * MiB);
  const hand = await handOffCost(chunkBytes0);
  const handNote =
    `event loop per ${sig(args.chunkMib)} MiB chunk handed to the compute worker: before (CRC-32C + copy + transfer) ${sig(hand.before)} ms ` +
    `→ after (transfer of grpc-js' buffer, CRC in the worker) ${sig(hand.after)} ms; of the before, CRC ${sig(hand.crcOnly)} ms, copy ${sig(hand.copyOnly)} ms`;
  console.log(handNote);
  const raw = await RawServer.start();
  const sidecar = await SidecarProcess.start({ backend: args.backend });
  console.log(`sidecar pid ${sidecar.pid} on ${sidecar.grpcAddress}, backend ${sidecar.backend} (--backend ${args.backend}); raw grpc-js server on ${raw.address}`);
  const rows: BenchRow[] = [];
  try {
    for (const n of args.rows) {
      const chunkBytes = Math.round(args.chunkMib * MiB);
      const perChunk = Math.max(1, Math.floor(chunkBytes / (4 * n)));
      const cols = Math.round((args.mib * MiB) / (4 * n));
      const plan: Omit<StreamPlan, 'target'> = {
        kind: 'jacobian',
        rows: n,
        cols,
        chunkBytes,
        warmup: 1,
        warmupCols: 32 * perChunk,
        snapshots: 1,
        seed: 5000 + n,
        checksum: args.checksum,
      };
      const got: { raw: StreamResult[]; sidecar: StreamResult[] } = { raw: [], sidecar: [] };
      // CPU seconds per GiB received (warm-up snapshot included), for the whole server and its main thread.
      const cpu = { raw: [] as number[], sidecar: [] as number[], sidecarMain: [] as number[], sidecarAccumulate: [] as number[] };
      const gib = (4 * n * (cols + Math.min(cols, plan.warmupCols!))) / 2 ** 30;
      for (let r = 0; r < args.repeats; r++) {
        let c0 = cpuSeconds(raw.pid);
        got.raw.push(...(await runStreamClient({ ...plan, target: raw.address })));
        cpu.raw.push((cpuSeconds(raw.pid).process - c0.process) / gib);
        c0 = cpuSeconds(sidecar.pid);
        const acc0 = (await sidecar.histogram('ntk_sidecar_analysis_duration_seconds', { stage: 'accumulate' })).sum;
        got.sidecar.push(...(await runStreamClient({ ...plan, target: sidecar.grpcAddress })));
        const c1 = cpuSeconds(sidecar.pid);
        cpu.sidecar.push((c1.process - c0.process) / gib);
        cpu.sidecarMain.push((c1.mainThread - c0.mainThread) / gib);
        cpu.sidecarAccumulate.push(((await sidecar.histogram('ntk_sidecar_analysis_duration_seconds', { stage: 'accumulate' })).sum - acc0) / gib);
        const [a, b] = [got.raw[got.raw.length - 1], got.sidecar[got.sidecar.length - 1]];
        console.log(
          `N=${n} P=${cols} (${sig(a.bytes / MiB)} MiB, ${a.chunks} chunks): raw ${sig(rate(a))} MiB/s (ack ${sig(a.ack)} s, ${sig(cpu.raw[r])} CPU s/GiB); ` +
            `sidecar ${sig(rate(b))} MiB/s (all written ${sig(b.written)} s, ack ${sig(b.ack)} s, decision ${sig(b.decision)} s; ` +
            `CPU s/GiB: process ${sig(cpu.sidecar[r])}, main thread ${sig(cpu.sidecarMain[r])}, worker accumulate ${sig(cpu.sidecarAccumulate[r])} wall)`,
        );
      }
      const ours = median(got.sidecar.map(rate));
      const theirs = median(got.raw.map(rate));
      const gramFlops = n * n * cols;
      const gramRate = gramFlops / median(got.sidecar.map((r) => r.ack)) / 1e9;
      rows.push({
        case: 'ingest',
        size: `N=${n} P=${cols} (${sig((4 * n * cols) / MiB)} MiB f32, ${sig(chunkBytes / MiB)} MiB chunks${args.checksum ? ', crc32c' : ''})`,
        ours: `sidecar (${sidecar.backend})`,
        unit: 'MiB/s',
        value: ours,
        reference: theirs,
        referenceName: 'raw grpc-js stream',
        ratio: ours / theirs,
        target: { on: 'ratio', cmp: '>=', value: 0.8, text: '≥ 0.8' },
        note:
          `Gram work N²P = ${gramFlops.toExponential(2)} flops, i.e. ${sig(gramRate)} GF/s sustained over the stream; ` +
          `per GiB: sidecar ${sig(median(cpu.sidecar))} CPU s (main thread ${sig(median(cpu.sidecarMain))} s, compute worker busy ` +
          `${sig(median(cpu.sidecarAccumulate))} s), raw server ${sig(median(cpu.raw))} CPU s; wall ${sig(1024 / ours)} s vs ${sig(1024 / theirs)} s`,
      });
    }
  } finally {
    await sidecar.stop();
    await raw.stop();
  }
  console.log(`\n${formatTable(rows)}`);
  for (const r of rows) console.log(`${r.size}: ${r.note}`);
  console.log(handNote);
  emitReport({ bench: 'ingest', rows, notes: [handNote, `sidecar backend ${sidecar.backend}; median of ${args.repeats} alternating raw/sidecar pairs`] });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
