/**
 * `npm run bench`: every case of issue 5 side by side with its reference, in ONE table with the issue's targets.
 *
 *   npm run bench [-- --quick] [--only gram,eigh,topk,ingest,latency,rss,scale] [--repeats R] [--backend auto]
 *                 [--numpy-threads T] [--p-max 1e8]
 *
 * Each case runs as its own child process (bench/<case>.bench.ts; a fresh heap per case, so the 512 MiB top-k
 * matrix or a sidecar's memory does not leak into the next figure) and ends with a `BENCH_JSON {...}` line that
 * this harness collects. Its output is echoed with a [case] prefix as it runs. Seeds are fixed in every bench;
 * each figure is a median of repeats after a warm-up. The sidecar is built once from src/ into
 * .bench-out/sidecar and started as `ntk-sidecar serve` by the benches that need it.
 *
 * The numpy/scipy reference runs with OpenBLAS' default threads and with one thread, and the faster counts
 * (gram does this itself; eigh is run twice and merged; topk does it itself), unless --numpy-threads fixes it:
 * on a shared machine multi-threaded OpenBLAS can lose badly to other load, and our solvers are single-threaded.
 *
 * --quick (about 15 minutes on a busy 2-core machine): Gram without N = 1024 × 65536, eigh at N = 1024 and 2048 on
 * the NTK-like matrix only, top-k at N = 2048 only, ingest of N = 256 once, RSS against P up to 1e7, 100 runs at
 * N = 256 for one minute (scale.bench.ts; three minutes in the full run). The full run
 * adds those, and P = 1e8 (3.2 GB streamed; --p-max sets the largest P in either mode).
 * Results are also written to .bench-out/bench-results.json and .bench-out/bench-table.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeMachine, loadAverage, machineInfo } from './support/machine.js';
import { BENCH_JSON_PREFIX, formatTable, targetMet, type BenchReport, type BenchRow } from './support/report.js';
import { REPO_ROOT, buildSidecar } from './support/sidecarProcess.js';
import { sig } from './support/stats.js';

const CASES = ['gram', 'eigh', 'topk', 'ingest', 'latency', 'rss', 'scale'] as const;
type Case = (typeof CASES)[number];

interface Args {
  quick: boolean;
  only: Case[];
  repeats: number;
  backend: string;
  numpyThreads?: number;
  pMax?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [...CASES], repeats: 3, backend: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--only') args.only = argv[++i].split(',') as Case[];
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--backend') args.backend = argv[++i];
    else if (a === '--numpy-threads') args.numpyThreads = Number(argv[++i]);
    else if (a === '--p-max') args.pMax = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; usage: npm run bench -- [--quick] [--only ${CASES.join(',')}] [--repeats R] [--backend auto] [--numpy-threads T] [--p-max 1e8]`);
  }
  for (const c of args.only) if (!CASES.includes(c)) throw new Error(`--only: unknown case ${c}; cases: ${CASES.join(', ')}`);
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  if (args.numpyThreads !== undefined && !(Number.isInteger(args.numpyThreads) && args.numpyThreads >= 1)) throw new Error(`--numpy-threads must be a positive integer, got ${args.numpyThreads}`);
  if (args.pMax !== undefined && !(Number.isInteger(args.pMax) && args.pMax >= 1e6)) throw new Error(`--p-max must be an integer ≥ 1e6, got ${args.pMax}`);
  return args;
}

/** One child bench invocation: the script and its flags. */
interface Step {
  label: Case;
  script: string;
  flags: string[];
}

function plan(args: Args): Step[] {
  const r = ['--repeats', String(args.repeats)];
  const np = args.numpyThreads === undefined ? [] : ['--numpy-threads', String(args.numpyThreads)];
  const be = ['--backend', args.backend];
  const steps: Step[] = [];
  const add = (label: Case, flags: string[]) => steps.push({ label, script: `${label}.bench.ts`, flags });
  for (const c of args.only) {
    switch (c) {
      case 'gram':
        add('gram', [...r, ...(args.quick ? [] : ['--full'])]);
        break;
      case 'eigh': {
        const sizes = args.quick ? ['--sizes', '1024,2048', '--kinds', 'ntk'] : [];
        // numpy with OpenBLAS' default threads and with one thread; rows merge to the faster of each side.
        if (args.numpyThreads === undefined) {
          add('eigh', [...r, ...sizes]);
          add('eigh', [...r, ...sizes, '--numpy-threads', '1']);
        } else add('eigh', [...r, ...sizes, ...np]);
        break;
      }
      case 'topk':
        add('topk', ['--sizes', '2048', ...r, ...np]);
        // One call at N = 8192: each takes about a minute per solver here.
        if (!args.quick) add('topk', ['--sizes', '8192', '--repeats', '1', ...np]);
        break;
      case 'ingest':
        add('ingest', ['--rows', '16', ...r, ...be]);
        add('ingest', ['--rows', '256', '--repeats', args.quick ? '1' : String(args.repeats), ...be]);
        break;
      case 'latency':
        add('latency', [...r, ...be]);
        break;
      case 'scale':
        // 100 concurrent runs at N = 256: one minute in --quick, three minutes in the full run.
        add('scale', ['--runs', '100', '--seconds', args.quick ? '60' : '180', ...be]);
        break;
      case 'rss': {
        const pMax = args.pMax ?? (args.quick ? 1e7 : 1e8);
        const ps = [1e6, 1e7, 1e8].filter((p) => p < pMax);
        add('rss', ['--ps', [...ps, pMax].join(','), '--snapshots', args.quick ? '2' : '3', ...be]);
        break;
      }
    }
  }
  return steps;
}

/** gram.bench.ts reports its own text table as strings: { header, rows }. */
function gramRows(doc: { header: string[]; rows: string[][] }): BenchRow[] {
  const col = (name: string) => {
    const i = doc.header.indexOf(name);
    if (i < 0) throw new Error(`gram bench output has no "${name}" column (header: ${doc.header.join(', ')})`);
    return i;
  };
  const [n, cols, backend, oursS, oursGf, npS] = ['N', 'cols', 'backend', 'ours s', 'ours GF/s', 'numpy s'].map(col);
  return doc.rows.map((row) => {
    const ours = Number(row[oursGf]);
    // The reference on the same N²·cols flop basis, from the faster of numpy's default-threads and 1-thread runs.
    const reference = (Number(row[n]) ** 2 * Number(row[cols])) / Number(row[npS]) / 1e9;
    return {
      case: 'gram',
      size: `N=${row[n]} cols=${row[cols]}`,
      ours: row[backend],
      unit: 'GF/s',
      value: ours,
      reference,
      referenceName: 'numpy f32 A@A.T',
      ratio: Number(row[npS]) / Number(row[oursS]),
      target: { on: 'ratio', cmp: '>=', value: 0.2, text: '≥ 0.20' },
    };
  });
}

interface EighResult {
  n: number;
  kind: string;
  mode: 'values' | 'vectors' | 'top64';
  ours: number;
  numpy: number | null;
  dev: number | null;
}

function eighRows(doc: { results: EighResult[] }): BenchRow[] {
  return doc.results.map((e) => {
    const reference = e.numpy ?? NaN;
    return {
      case: e.mode === 'vectors' ? 'eigh' : e.mode === 'top64' ? 'eigh top-64 vectors' : 'eigvalsh',
      size: `N=${e.n} ${e.kind}`,
      ours: e.mode === 'vectors' ? 'eighSymmetric (vectors)' : e.mode === 'top64' ? 'eighSymmetric (vectorCount 64)' : 'eighSymmetric (values)',
      unit: 's',
      value: e.ours,
      reference,
      referenceName: e.mode === 'vectors' ? 'numpy eigh' : e.mode === 'top64' ? "scipy eigh(subset_by_index, 'evr')" : 'numpy eigvalsh',
      ratio: e.ours / reference,
      target: e.n >= 1024 ? { on: 'ratio', cmp: '<=', value: 3, text: '≤ 3×' } : undefined,
      note: e.dev === null ? undefined : `extreme eigenvalues agree to ${e.dev.toExponential(1)} relative`,
    };
  });
}

function toRows(label: Case, doc: unknown): BenchRow[] {
  if (label === 'gram') return gramRows(doc as { header: string[]; rows: string[][] });
  if (label === 'eigh') return eighRows(doc as { results: EighResult[] });
  // Our own benches already report BenchRows; JSON turned non-finite numbers into null.
  return (doc as BenchReport).rows.map((r) => ({ ...r, reference: r.reference ?? NaN, ratio: r.ratio ?? NaN }));
}

/**
 * eigh ran twice (numpy with default threads, then one thread): keep one row per case with the faster figure of
 * each side, and say what the reference took in each setting.
 */
function mergeEighThreads(rows: BenchRow[]): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.case !== 'eigh' && r.case !== 'eigvalsh') continue;
    const key = `${r.case} ${r.size}`;
    const j = seen.get(key);
    if (j === undefined) {
      seen.set(key, i);
      continue;
    }
    const first = rows[j];
    const value = Math.min(first.value, r.value);
    const reference = Math.min(first.reference, r.reference);
    rows[j] = {
      ...first,
      value,
      reference,
      ratio: value / reference,
      note: `numpy default threads ${sig(first.reference)} s, 1 thread ${sig(r.reference)} s; ours ${sig(first.value)} s and ${sig(r.value)} s (faster of each counts); ${first.note ?? ''}`,
    };
    rows.splice(i--, 1);
  }
}

function runStep(step: Step, env: NodeJS.ProcessEnv): Promise<{ rows: BenchRow[]; error?: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', step.script), ...step.flags], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let json: string | undefined;
  let tail = '';
  const echo = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(BENCH_JSON_PREFIX)) json = line.slice(BENCH_JSON_PREFIX.length);
        else if (!line.startsWith('npm warn')) {
          console.log(`[${step.label}] ${line}`);
          tail = `${tail}\n${line}`.slice(-2000);
        }
      }
    });
  };
  echo(child.stdout);
  echo(child.stderr);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      if (code !== 0 || json === undefined) {
        resolve({ rows: [], error: `${step.script} ${step.flags.join(' ')} exited with ${code}${json === undefined ? ' without a BENCH_JSON line' : ''}: ${tail.trim().split('\n').slice(-3).join(' | ')}` });
        return;
      }
      try {
        resolve({ rows: toRows(step.label, JSON.parse(json)) });
      } catch (err) {
        resolve({ rows: [], error: `${step.script}: unreadable BENCH_JSON (${err instanceof Error ? err.message : String(err)})` });
      }
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  console.log(`mode: ${args.quick ? 'quick' : 'full'}; repeats ${args.repeats}; sidecar --backend ${args.backend}; numpy threads ${args.numpyThreads ?? 'OpenBLAS default and 1, the faster counts'}\n`);
  const env = { ...process.env };
  if (args.only.some((c) => c === 'ingest' || c === 'latency' || c === 'rss' || c === 'scale')) {
    console.log('building the sidecar from src/ into .bench-out/sidecar …');
    env.NTK_BENCH_SIDECAR = buildSidecar();
  }
  const rows: BenchRow[] = [];
  const errors: string[] = [];
  for (const step of plan(args)) {
    const t = performance.now();
    const res = await runStep(step, env);
    rows.push(...res.rows);
    if (res.error) errors.push(res.error);
    console.log(`[${step.label}] done in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  }
  mergeEighThreads(rows);
  const minutes = (Date.now() - started.getTime()) / 60000;
  const loadEnd = loadAverage();
  const gramBackends = [...new Set(rows.filter((r) => r.case === 'gram').map((r) => r.ours))];
  const sidecarBackends = [...new Set(rows.map((r) => /^sidecar \((\S+)\)/.exec(r.ours)?.[1]).filter((b) => b !== undefined))];
  const header =
    `${describeMachine(machine)}\n` +
    `load average at the end: ${loadEnd.map((l) => l.toFixed(2)).join(' ')}; ${started.toISOString()}, ${minutes.toFixed(1)} min, ${args.quick ? 'quick' : 'full'} mode, repeats ${args.repeats}\n` +
    `Gram backends benchmarked: ${gramBackends.join(', ') || '—'}; the sidecar ran with: ${sidecarBackends.join(', ') || '—'}\n` +
    `numpy/scipy threads: ${args.numpyThreads ?? 'OpenBLAS default and 1, the faster counts'}; sidecar started with --backend ${args.backend}\n` +
    'ratio = ours / reference (GF/s and MiB/s: higher is better; seconds and MiB: lower is better)';
  console.log(`\n${'='.repeat(100)}\n${header}\n\n${formatTable(rows)}`);
  const notes = rows.filter((r) => r.note).map((r) => `${r.case} ${r.size}: ${r.note}`);
  if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}`);
  const missed = rows.filter((r) => targetMet(r) === false).length;
  const met = rows.filter((r) => targetMet(r) === true).length;
  console.log(`\ntargets: ${met} met, ${missed} missed, ${rows.length - met - missed} rows without a target or a reference`);
  if (errors.length) console.log(`\nfailed cases:\n${errors.map((e) => `  ${e}`).join('\n')}`);
  const out = path.join(REPO_ROOT, '.bench-out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'bench-results.json'), JSON.stringify({ machine, loadEnd, started, args, rows, errors }, null, 2));
  writeFileSync(path.join(out, 'bench-table.md'), `${header.replace(/\n/g, '  \n')}\n\n${formatTable(rows, true)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  console.log(`\nwritten: .bench-out/bench-results.json, .bench-out/bench-table.md`);
  if (errors.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
