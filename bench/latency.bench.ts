/**
 * Snapshot → decision latency: N = 1024 probe rows sent as a float32 sketch with m = 4096 columns (16 MiB,
 * four 4 MiB chunks) to the real sidecar (its own process), timed from the SnapshotHeader's write to the
 * Decision's arrival at the client. The sidecar's own split (accumulate = the Gram work on chunks in its compute
 * worker; spectrum = eigensolver and diagnostics after SnapshotEnd) is read from its
 * ntk_sidecar_analysis_duration_seconds histogram after each snapshot.
 *
 *   npx tsx bench/latency.bench.ts [--rows 1024] [--m 4096] [--repeats R] [--backend auto]
 *
 * One untimed warm-up snapshot, then R timed ones on the same run, each with fresh seeded data; from the second
 * snapshot on the sidecar also compares against the run's reference kernels (drift, docs/science.md A6/A8), as it does
 * in steady state. No numpy reference: the target is absolute (≤ 1 s).
 */
import { describeMachine, machineInfo } from './support/machine.js';
import { emitReport, formatTable, type BenchRow } from './support/report.js';
import { SidecarProcess } from './support/sidecarProcess.js';
import { median, MiB, sig } from './support/stats.js';
import { streamRun, type StreamResult } from './support/streamClient.js';

interface Args {
  rows: number;
  m: number;
  repeats: number;
  backend: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rows: 1024, m: 4096, repeats: 3, backend: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rows') args.rows = Number(argv[++i]);
    else if (a === '--m') args.m = Number(argv[++i]);
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--backend') args.backend = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: latency.bench.ts [--rows 1024] [--m 4096] [--repeats R] [--backend auto]`);
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  if (!Number.isInteger(args.rows) || args.rows < 2 || !Number.isInteger(args.m) || args.m < 1) throw new Error(`--rows ${args.rows} / --m ${args.m}: positive integers, rows ≥ 2`);
  return args;
}

const STAGES = ['accumulate', 'spectrum', 'total'] as const;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(describeMachine(machineInfo()));
  const sidecar = await SidecarProcess.start({ backend: args.backend });
  console.log(`sidecar pid ${sidecar.pid}, backend ${sidecar.backend} (--backend ${args.backend})`);
  const split: Record<(typeof STAGES)[number], number[]> = { accumulate: [], spectrum: [], total: [] };
  let results: StreamResult[];
  try {
    const last = { accumulate: 0, spectrum: 0, total: 0 };
    const read = async () => {
      const now = { ...last };
      for (const stage of STAGES) now[stage] = (await sidecar.histogram('ntk_sidecar_analysis_duration_seconds', { stage })).sum;
      return now;
    };
    results = await streamRun(
      { target: sidecar.grpcAddress, kind: 'sketch', rows: args.rows, cols: args.m, chunkBytes: 4 * MiB, warmup: 1, snapshots: args.repeats, seed: 9000, checksum: true },
      async (r, warm) => {
        const now = await read();
        if (!warm) {
          for (const stage of STAGES) split[stage].push(now[stage] - last[stage]);
          console.log(
            `snapshot ${r.snapshot}: header → decision ${sig(r.decision)} s (all chunks written ${sig(r.written)} s, ack ${sig(r.ack)} s); ` +
              `sidecar: accumulate ${sig(now.accumulate - last.accumulate)} s, spectrum+analysis ${sig(now.spectrum - last.spectrum)} s, total ${sig(now.total - last.total)} s; ${r.message}`,
          );
        }
        Object.assign(last, now);
      },
    );
  } finally {
    await sidecar.stop();
  }
  const latency = median(results.map((r) => r.decision));
  const afterEnd = median(results.map((r) => r.decision - r.written));
  const note =
    `median split in the sidecar: accumulate ${sig(median(split.accumulate))} s, spectrum+analysis ${sig(median(split.spectrum))} s; ` +
    `SnapshotEnd written → decision ${sig(afterEnd)} s; Gram work N²m = ${(args.rows * args.rows * args.m).toExponential(2)} flops`;
  const rows: BenchRow[] = [
    {
      case: 'latency',
      size: `N=${args.rows} sketch m=${args.m} (f32, ${sig((4 * args.rows * args.m) / MiB)} MiB)`,
      ours: `sidecar (${sidecar.backend})`,
      unit: 's',
      value: latency,
      reference: NaN,
      referenceName: '—',
      ratio: NaN,
      target: { on: 'ours', cmp: '<=', value: 1, text: '≤ 1 s' },
      note,
    },
  ];
  console.log(`\n${formatTable(rows)}\n${note}`);
  emitReport({ bench: 'latency', rows, notes: [`header written → decision received, median of ${args.repeats} snapshots after one warm-up`] });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
