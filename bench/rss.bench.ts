/**
 * Peak resident memory of the sidecar process (VmHWM of /proc/<pid>/status: main thread, compute workers and
 * gpu.js/WebAssembly memory together) against the probe size N and against the streamed parameter count P,
 * next to the budget 8·N² bytes (one float64 kernel) + 128 MiB. Every configuration gets a fresh
 * sidecar process (VmHWM only ever grows), fed by a separate client process.
 *
 *   npx tsx bench/rss.bench.ts [--ns 256,1024,2048] [--cols 2048] [--snapshots 3] [--ps 1e6,1e7] [--p-rows 8]
 *                              [--backend auto]
 *
 * Against N: `--snapshots` Jacobian snapshots of N × cols on one run, so the run reaches its steady state (it keeps
 * reference kernels from earlier snapshots for drift, docs/science.md A6/A8). Against P: one snapshot of
 * p-rows × P float32 (P = 1e8 at N = 8 is 3.2 GB over loopback), 4 MiB chunks. A P-independent peak is what the
 * bounded-memory design promises (docs/design.md §1: never the whole J, only K and one block).
 */
import { runStreamClient } from './support/children.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { emitReport, formatTable, type BenchRow } from './support/report.js';
import { SidecarProcess } from './support/sidecarProcess.js';
import { MiB, sig } from './support/stats.js';

interface Args {
  ns: number[];
  cols: number;
  snapshots: number;
  ps: number[];
  pRows: number;
  backend: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { ns: [256, 1024, 2048], cols: 2048, snapshots: 3, ps: [1e6, 1e7], pRows: 8, backend: 'auto' };
  const ints = (s: string, flag: string) =>
    s.split(',').filter(Boolean).map((x) => {
      const v = Number(x);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${flag}: ${x} is not a positive integer`);
      return v;
    });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ns') args.ns = ints(argv[++i], a);
    else if (a === '--cols') args.cols = ints(argv[++i], a)[0];
    else if (a === '--snapshots') args.snapshots = ints(argv[++i], a)[0];
    else if (a === '--ps') args.ps = ints(argv[++i], a);
    else if (a === '--p-rows') args.pRows = ints(argv[++i], a)[0];
    else if (a === '--backend') args.backend = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: rss.bench.ts [--ns 256,1024,2048] [--cols 2048] [--snapshots 3] [--ps 1e6,1e7] [--p-rows 8] [--backend auto]`);
  }
  return args;
}

const budget = (n: number) => 8 * n * n + 128 * MiB;

interface Measured {
  idle: number;
  peak: number;
  backend: string;
  seconds: number;
}

async function measure(backend: string, rows: number, cols: number, snapshots: number): Promise<Measured> {
  const sidecar = await SidecarProcess.start({ backend });
  try {
    const idle = sidecar.memory().peak;
    const t = performance.now();
    await runStreamClient({ target: sidecar.grpcAddress, kind: 'jacobian', rows, cols, chunkBytes: 4 * MiB, warmup: 0, snapshots, seed: 3000 + rows, checksum: true });
    return { idle, peak: sidecar.memory().peak, backend: sidecar.backend, seconds: (performance.now() - t) / 1000 };
  } finally {
    await sidecar.stop();
  }
}

function row(size: string, m: Measured, n: number, note: string): BenchRow {
  return {
    case: 'rss',
    size,
    ours: `sidecar (${m.backend}) VmHWM`,
    unit: 'MiB',
    value: m.peak / MiB,
    reference: budget(n) / MiB,
    referenceName: '8·N² B + 128 MiB',
    ratio: m.peak / budget(n),
    target: { on: 'ratio', cmp: '<=', value: 1, text: '≤ 1' },
    note,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(describeMachine(machineInfo()));
  if (process.platform !== 'linux') console.log('VmHWM is read from /proc: not available on this platform, figures will be n/a');
  const rows: BenchRow[] = [];
  for (const n of args.ns) {
    const m = await measure(args.backend, n, args.cols, args.snapshots);
    const note = `idle ${sig(m.idle / MiB)} MiB after start; ${args.snapshots} snapshots of ${n}×${args.cols} f32 in ${sig(m.seconds)} s; 8·N² = ${sig((8 * n * n) / MiB)} MiB`;
    console.log(`N=${n}: peak ${sig(m.peak / MiB)} MiB (budget ${sig(budget(n) / MiB)} MiB); ${note}`);
    rows.push(row(`N=${n}, ${args.snapshots}× P=${args.cols}`, m, n, note));
  }
  const byP: Array<{ p: number; m: Measured }> = [];
  for (const p of args.ps) {
    const m = await measure(args.backend, args.pRows, p, 1);
    const bytes = 4 * args.pRows * p;
    const note = `idle ${sig(m.idle / MiB)} MiB after start; ${sig(bytes / MiB)} MiB streamed in ${sig(m.seconds)} s (${sig(bytes / MiB / m.seconds)} MiB/s incl. client start)`;
    console.log(`N=${args.pRows} P=${p.toExponential(0)}: peak ${sig(m.peak / MiB)} MiB; ${note}`);
    byP.push({ p, m });
    rows.push(row(`N=${args.pRows}, P=${p.toExponential(0)} (${sig(bytes / 2 ** 30)} GiB)`, m, args.pRows, note));
  }
  if (byP.length >= 2) {
    const lo = byP[0];
    const hi = byP[byP.length - 1];
    rows.push({
      case: 'rss',
      size: `flat in P: P=${hi.p.toExponential(0)} vs P=${lo.p.toExponential(0)}`,
      ours: `VmHWM at P=${hi.p.toExponential(0)}`,
      unit: 'MiB',
      value: hi.m.peak / MiB,
      reference: lo.m.peak / MiB,
      referenceName: `VmHWM at P=${lo.p.toExponential(0)}`,
      ratio: hi.m.peak / lo.m.peak,
      target: { on: 'ratio', cmp: '<=', value: 1.05, text: '≤ 1.05 (flat)' },
      note: `growth ${sig((hi.m.peak - lo.m.peak) / MiB)} MiB for ${sig(hi.p / lo.p)}× the parameters`,
    });
  }
  console.log(`\n${formatTable(rows)}`);
  emitReport({ bench: 'rss', rows, notes: ['VmHWM of a fresh sidecar process per configuration'] });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
