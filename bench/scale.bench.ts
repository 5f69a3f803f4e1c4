/**
 * Scale on one sidecar (issue 15 #4): R concurrent runs (default 100) at N = 256 stream sketch snapshots to the
 * real sidecar (its own process) for a fixed wall time; each run sends a snapshot, waits for its Decision, then
 * pauses `--interval` seconds (the trainer's steps between snapshots) and sends the next. Reported: decisions per
 * second over the window, p50/p99 of snapshot header → Decision at the client, the sidecar's peak and final RSS
 * (VmHWM / VmRSS, all threads), its event-loop lag (max and p99 of prom-client's nodejs_eventloop_lag_* sampled
 * every 5 s, the max over the window) and every error.
 *
 *   npx tsx bench/scale.bench.ts [--runs 100] [--rows 256] [--m 1024] [--seconds 60] [--interval 1] [--backend auto]
 *
 * The client runs in this process (one HTTP/2 connection, one stream per run): on a 2-core machine it shares
 * the CPU with the sidecar, as a co-located trainer would. Each run's payloads are two seeded blocks with their
 * CRC-32C prepared before the clock starts. Runs start staggered over the first interval.
 */
import { crc32c } from '../src/ingest/crc32c.js';
import { NtkSidecarClient, type AttachedRun } from '../src/client/ntkSidecarClient.js';
import { mulberry32, normal } from '../src/random.js';
import { describeMachine, loadAverage, machineInfo } from './support/machine.js';
import { emitReport, formatTable, type BenchRow } from './support/report.js';
import { SidecarProcess } from './support/sidecarProcess.js';
import { MiB, sig } from './support/stats.js';

interface Args {
  runs: number;
  rows: number;
  m: number;
  seconds: number;
  interval: number;
  backend: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 100, rows: 256, m: 1024, seconds: 60, interval: 1, backend: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[i + 1]);
    if (a === '--runs') args.runs = v;
    else if (a === '--rows') args.rows = v;
    else if (a === '--m') args.m = v;
    else if (a === '--seconds') args.seconds = v;
    else if (a === '--interval') args.interval = v;
    else if (a === '--backend') {
      args.backend = argv[++i];
      continue;
    } else throw new Error(`unknown argument ${a}; usage: scale.bench.ts [--runs 100] [--rows 256] [--m 1024] [--seconds 60] [--interval 1] [--backend auto]`);
    i++;
  }
  for (const [k, v] of Object.entries(args)) {
    if (k !== 'backend' && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new Error(`--${k} must be a positive number, got ${String(v)}`);
  }
  return args;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gauge(sidecar: SidecarProcess, name: string): Promise<number> {
  const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(describeMachine(machineInfo()));
  // The default --max-active-runs (64) would refuse runs beyond it; the case measures R attached runs.
  const sidecar = await SidecarProcess.start({ backend: args.backend, flags: ['--max-active-runs', String(Math.max(64, args.runs))] });
  const idle = sidecar.memory().current;
  console.log(`sidecar pid ${sidecar.pid}, backend ${sidecar.backend}; idle RSS ${sig(idle / MiB)} MiB`);
  const blocks = [0, 1].map((b) => {
    const draw = normal(mulberry32(4242 + b));
    const f = new Float32Array(args.rows * args.m);
    for (let i = 0; i < f.length; i++) f[i] = draw();
    const data = new Uint8Array(f.buffer);
    return { data, crc: crc32c(data) };
  });
  const client = new NtkSidecarClient(sidecar.grpcAddress);
  const latencies: number[] = [];
  const errors: string[] = [];
  let lagMax = 0;
  let lagP99 = 0;
  let stop = false;
  const t0 = performance.now();
  const deadline = t0 + args.seconds * 1000;

  async function oneRun(r: number): Promise<void> {
    await sleep((r / args.runs) * args.interval * 1000);
    let run: AttachedRun | undefined;
    try {
      run = client.attach({
        run_id: `scale-${process.pid}-${r}`,
        probe: { num_samples: args.rows, num_outputs: 1, sample_ids_hash: 'scale' },
        loss: { kind: 'LOSS_KIND_MSE', scale: 1 / (2 * args.rows) },
        optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
        learning_rate: 0.1,
        sketch: { kind: 'SKETCH_KIND_GAUSSIAN', dim: args.m, seed: 7 },
      });
      await run.accepted;
      for (let s = 1; !stop && performance.now() < deadline; s++) {
        const blk = blocks[s % 2];
        const ack = run.ack(s);
        const decision = run.decision(s);
        decision.catch(() => undefined);
        const start = performance.now();
        await run.write({
          header: {
            snapshot_id: s,
            step: 100 * s,
            train_loss: 1 / s,
            learning_rate: 0.1,
            kernel_reduction: 'KERNEL_REDUCTION_FULL',
            tensors: [{ tensor: 'TENSOR_KIND_SKETCH', dtype: 'DTYPE_F32', rows: args.rows, cols: args.m }],
          },
        });
        await run.write({ chunk: { snapshot_id: s, tensor: 'TENSOR_KIND_SKETCH', offset: 0, rows: args.rows, cols: args.m, dtype: 'DTYPE_F32', data: blk.data, crc32c: blk.crc } });
        await run.write({ end: { snapshot_id: s, chunk_count: 1, total_bytes: blk.data.byteLength } });
        const a = await ack;
        if (!a.accepted) throw new Error(`snapshot ${s} rejected: ${a.code} ${a.message}`);
        await decision;
        const done = performance.now();
        if (done <= deadline) latencies.push((done - start) / 1000);
        await sleep(args.interval * 1000);
      }
      await run.finish();
    } catch (err) {
      errors.push(`run ${r}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const sampler = (async () => {
    while (!stop) {
      await sleep(5000);
      try {
        lagMax = Math.max(lagMax, await gauge(sidecar, 'nodejs_eventloop_lag_max_seconds'));
        lagP99 = Math.max(lagP99, await gauge(sidecar, 'nodejs_eventloop_lag_p99_seconds'));
      } catch {
        // the sidecar may be busy; the next sample counts
      }
    }
  })();
  const loadStart = loadAverage()[0];
  await Promise.all(Array.from({ length: args.runs }, (_, r) => oneRun(r)));
  const elapsed = Math.min(performance.now(), deadline) - t0;
  stop = true;
  await sampler;
  const mem = sidecar.memory();
  const loadEnd = loadAverage()[0];
  client.close();
  await sidecar.stop();

  const rate = latencies.length / (elapsed / 1000);
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  const size = `${args.runs} runs, N=${args.rows} sketch m=${args.m}, ${args.seconds} s, ${args.interval} s between snapshots`;
  const ours = `sidecar (${sidecar.backend})`;
  const note = `load average ${sig(loadStart)} at start, ${sig(loadEnd)} at end; ${latencies.length} decisions; errors ${errors.length}`;
  const bound = 4 * 8 * args.rows * args.rows * args.runs + 100 * MiB;
  const rows: BenchRow[] = [
    { case: 'scale', size, ours, unit: 'decisions/s', value: rate, reference: NaN, referenceName: '—', ratio: NaN, note },
    { case: 'scale p50', size, ours, unit: 's', value: p50, reference: NaN, referenceName: '—', ratio: NaN },
    { case: 'scale p99', size, ours, unit: 's', value: p99, reference: NaN, referenceName: '—', ratio: NaN, target: { on: 'ours', cmp: '<=', value: 2, text: '≤ 2 s' } },
    {
      case: 'scale peak RSS',
      size,
      ours,
      unit: 'MiB',
      value: mem.peak / MiB,
      reference: bound / MiB,
      referenceName: `R·4·8N² + 100 MiB`,
      ratio: mem.peak / bound,
      target: { on: 'ratio', cmp: '<=', value: 1, text: '≤ 1' },
      note: `idle ${sig(idle / MiB)} MiB, at the end ${sig(mem.current / MiB)} MiB`,
    },
    { case: 'scale event-loop lag', size, ours, unit: 's', value: lagMax, reference: NaN, referenceName: '—', ratio: NaN, note: `p99 ≤ ${sig(lagP99)} s (max over 5 s samples)` },
    { case: 'scale errors', size, ours, unit: 'count', value: errors.length, reference: NaN, referenceName: '—', ratio: NaN, target: { on: 'ours', cmp: '<=', value: 0, text: '0' } },
  ];
  for (const e of errors.slice(0, 10)) console.log(`error: ${e}`);
  console.log(`\n${formatTable(rows)}\n${note}`);
  emitReport({ bench: 'scale', rows, notes: [note] });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
