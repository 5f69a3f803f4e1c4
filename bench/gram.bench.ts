/**
 * Gram accumulation speed: K += B Bᵀ for a float32 block B (N×cols) on our backends, next to numpy's float32
 * `A @ A.T` (OpenBLAS) on seeded input of the same size, run side by side on this machine (docs/design.md §6).
 *
 *   npx tsx bench/gram.bench.ts [--full] [--repeats R] [--backends wasm,wasm-f32,gpujs,reference]
 *
 * Backends: a BackendKind (auto, gpujs, wasm, reference), or wasm-f32 = wasm with float32 products.
 *
 * Flop count, for every figure (ours and numpy's): N²·cols, the work of the N(N+1)/2 distinct dot products
 * (2 flops per multiply-add) that symmetry leaves. A plain gemm does 2N²·cols; numpy may or may not exploit
 * symmetry for A @ A.T, and its figure here is on the same N²·cols basis either way.
 * Times are the median of R timed calls after one untimed warm-up call (which compiles gpu.js kernels).
 * --full adds N = 1024 × cols = 65536 (≈ 69 GFLOP per call: minutes on the JS backends).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { createGramBackend, type BackendKind, type GramBackendOptions } from '../src/kernel/index.js';
import { mulberry32, normal } from '../src/random.js';

interface Args {
  full: boolean;
  repeats: number;
  backends: string[];
}

const BACKENDS: Record<string, { kind: BackendKind; opts: GramBackendOptions }> = {
  auto: { kind: 'auto', opts: {} },
  gpujs: { kind: 'gpujs', opts: {} },
  wasm: { kind: 'wasm', opts: {} },
  'wasm-f32': { kind: 'wasm', opts: { wasmPrecision: 'f32' } },
  reference: { kind: 'reference', opts: {} },
};

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, repeats: 5, backends: ['wasm', 'wasm-f32', 'gpujs', 'reference'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') args.full = true;
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--backends') args.backends = argv[++i].split(',');
    else throw new Error(`unknown argument ${a}; usage: gram.bench.ts [--full] [--repeats R] [--backends ${Object.keys(BACKENDS).join(',')}]`);
  }
  for (const b of args.backends) if (!(b in BACKENDS)) throw new Error(`unknown backend ${b}: expected one of ${Object.keys(BACKENDS).join(', ')}`);
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function seededBlock(seed: number, length: number): Float32Array {
  const draw = normal(mulberry32(seed));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = draw();
  return out;
}

const NUMPY = `
import json, os, statistics, sys, time
import numpy as np
n, cols, repeats, seed = (int(a) for a in sys.argv[1:5])
a = np.random.default_rng(seed).standard_normal((n, cols), dtype=np.float32)
k = a @ a.T  # warm-up
times = []
for _ in range(repeats):
    t = time.perf_counter()
    k = a @ a.T
    times.append(time.perf_counter() - t)
print(json.dumps({"median_s": statistics.median(times), "numpy": np.__version__, "cpus": os.cpu_count()}))
`;

interface NumpyResult {
  median_s: number;
  numpy: string;
  cpus: number;
}

/** threads: undefined = OpenBLAS' default (all cores), 1 = pinned to one thread. */
function runNumpy(n: number, cols: number, repeats: number, seed: number, threads?: number): NumpyResult | string {
  const env = threads === undefined ? process.env : { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const res = spawnSync('python3', ['-c', NUMPY, String(n), String(cols), String(repeats), String(seed)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env,
  });
  if (res.error) return `python3 not runnable: ${res.error.message}`;
  if (res.status !== 0) return `python3 failed: ${res.stderr.trim().split('\n').pop()}`;
  return JSON.parse(res.stdout) as NumpyResult;
}

async function timeBackend(spec: string, block: Float32Array, n: number, cols: number, repeats: number) {
  const backend = await createGramBackend(BACKENDS[spec].kind, BACKENDS[spec].opts);
  try {
    const k = new Float64Array(n * n);
    await backend.accumulate(k, n, block, cols); // warm-up: compiles gpu.js kernels, starts its workers
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const c = process.cpuUsage();
      const t = performance.now();
      await backend.accumulate(k, n, block, cols);
      times.push((performance.now() - t) / 1000);
      const used = process.cpuUsage(c);
      cpuTimes.push((used.user + used.system) / 1e6);
    }
    return { name: backend.name, fallbackReason: backend.fallbackReason, seconds: median(times), cpuSeconds: median(cpuTimes) };
  } finally {
    backend.dispose();
  }
}

function fmt(x: number, digits = 2): string {
  return x.toFixed(digits);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}, node ${process.version}`);
  console.log(`load average at start: ${os.loadavg().map((l) => fmt(l)).join(' ')} (other work on this machine skews every figure)`);
  console.log(`flops counted: N²·cols per call (symmetric work), median of ${args.repeats} calls after a warm-up\n`);
  const combos: Array<[number, number]> = [
    [256, 4096],
    [1024, 4096],
    [256, 65536],
  ];
  if (args.full) combos.push([1024, 65536]);
  else console.log('(N=1024 × cols=65536 skipped; --full runs it)\n');

  // numpy twice: OpenBLAS' default threading, and one thread (on a shared machine its spinning threads can
  // lose badly to other load); the ratio is against the faster of the two.
  // 'ours cpu GF/s' divides by this process' CPU time (all its threads): on a loaded machine it shows what a
  // single-threaded backend does while it actually runs, where wall time also counts time-slices lost to others.
  const header = ['N', 'cols', 'backend', 'ours s', 'ours GF/s', 'ours cpu GF/s', 'numpy s', 'numpy GF/s', 'numpy 1T GF/s', 'ours/numpy'];
  const rows: string[][] = [];
  for (const [n, cols] of combos) {
    const seed = n * 7919 + cols;
    const flops = n * n * cols;
    const seconds = (r: NumpyResult | string) => (typeof r === 'string' ? NaN : r.median_s);
    const np = runNumpy(n, cols, args.repeats, seed);
    const np1 = runNumpy(n, cols, args.repeats, seed, 1);
    for (const r of [np, np1]) if (typeof r === 'string') console.log(`numpy for N=${n} cols=${cols}: ${r}`);
    const npSeconds = Math.min(seconds(np), seconds(np1));
    const block = seededBlock(seed, n * cols);
    for (const kind of args.backends) {
      const r = await timeBackend(kind, block, n, cols, args.repeats);
      const ours = flops / r.seconds / 1e9;
      const theirs = flops / npSeconds / 1e9;
      rows.push([
        String(n),
        String(cols),
        r.name + (r.fallbackReason ? ' (fallback)' : ''),
        fmt(r.seconds, 3),
        fmt(ours),
        fmt(flops / r.cpuSeconds / 1e9),
        fmt(npSeconds, 4),
        fmt(flops / seconds(np) / 1e9, 1),
        fmt(flops / seconds(np1) / 1e9, 1),
        fmt(ours / theirs, 3),
      ]);
      console.log(rows[rows.length - 1].join('\t'));
      if (r.fallbackReason) console.log(`  ${kind} fell back: ${r.fallbackReason}`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`\n${line(header)}`);
  for (const r of rows) console.log(line(r));
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'gram', header, rows })}`); // for bench/run.ts
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
