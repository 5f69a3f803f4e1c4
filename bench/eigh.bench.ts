/**
 * Exact symmetric eigensolver speed: eighSymmetric (values only, with vectors, and all values with the top 64
 * vectors) next to numpy's eigvalsh / eigh and scipy's eigh(subset_by_index, driver='evr') for the top 64
 * (LAPACK via OpenBLAS) on the SAME seeded matrix, run side by side on this machine
 * (docs/design.md §6). The matrix is written once to a temporary raw float64 file that numpy reads back.
 *
 *   npx tsx bench/eigh.bench.ts [--sizes 512,1024,2048] [--repeats R] [--kinds gaussian,ntk] [--ml-matrix]
 *                                [--numpy-threads T]
 *
 * Matrix kinds: `gaussian` = (G + Gᵀ)/2 (no structure, little deflation for LAPACK's divide and conquer);
 * `ntk` = two-layer ReLU NTK Gram of points on S⁹ (a decaying, kernel-like spectrum as the sidecar sees).
 * Times are the median of R timed calls after one untimed warm-up call (JIT / BLAS thread start-up).
 * numpy's threads are whatever OpenBLAS picks here unless --numpy-threads sets OPENBLAS_NUM_THREADS /
 * OMP_NUM_THREADS; our solver is single-threaded. On a shared, loaded machine multi-threaded OpenBLAS
 * degrades far more than a single thread does, so compare with --numpy-threads 1 there.
 * --ml-matrix adds ml-matrix's EigenvalueDecomposition (JAMA tred2/tql2, always with vectors; one timed
 * call, N ≤ 1024 only because it is slow) as the pure-JS point of comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { eighSymmetric } from '../src/spectrum/eigh.js';
import { mulberry32, normalArray } from '../src/random.js';

type Kind = 'gaussian' | 'ntk';

interface Args {
  sizes: number[];
  repeats: number;
  kinds: Kind[];
  mlMatrix: boolean;
  numpyThreads?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [512, 1024, 2048], repeats: 3, kinds: ['gaussian', 'ntk'], mlMatrix: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sizes') args.sizes = argv[++i].split(',').map(Number);
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--kinds') args.kinds = argv[++i].split(',') as Kind[];
    else if (a === '--ml-matrix') args.mlMatrix = true;
    else if (a === '--numpy-threads') args.numpyThreads = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; usage: eigh.bench.ts [--sizes 512,1024,2048] [--repeats R] [--kinds gaussian,ntk] [--ml-matrix] [--numpy-threads T]`);
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  for (const n of args.sizes) if (!Number.isInteger(n) || n < 2) throw new Error(`--sizes: ${n} is not an integer ≥ 2`);
  if (args.numpyThreads !== undefined && !(Number.isInteger(args.numpyThreads) && args.numpyThreads >= 1)) {
    throw new Error(`--numpy-threads must be a positive integer, got ${args.numpyThreads}`);
  }
  for (const k of args.kinds) if (k !== 'gaussian' && k !== 'ntk') throw new Error(`--kinds: unknown kind ${k}`);
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function makeMatrix(kind: Kind, n: number, seed: number): Float64Array {
  const a = new Float64Array(n * n);
  if (kind === 'gaussian') {
    const g = normalArray(mulberry32(seed), n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (g[i * n + j] + g[j * n + i]);
    return a;
  }
  const d = 10;
  const x = normalArray(mulberry32(seed), n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
    for (let t = 0; t < d; t++) x[i * d + t] /= Math.sqrt(s);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let u = 0;
      for (let t = 0; t < d; t++) u += x[i * d + t] * x[j * d + t];
      u = Math.min(1, Math.max(-1, u));
      const th = Math.acos(u);
      const v = (2 * u * (Math.PI - th) + Math.sin(th)) / Math.PI;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

const NUMPY = `
import json, os, statistics, sys, time
import numpy as np
path, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
TOPK = int(sys.argv[4])
a = np.fromfile(path, dtype='<f8').reshape(n, n)
out = {"numpy": np.__version__, "cpus": os.cpu_count()}
import scipy.linalg as sl
top = lambda x: sl.eigh(x, subset_by_index=[n - TOPK, n - 1], driver="evr")
for name, f in (("eigvalsh", np.linalg.eigvalsh), ("eigh", np.linalg.eigh), ("eigh_top", top)):
    f(a)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = f(a)
        times.append(time.perf_counter() - t)
    out[name] = statistics.median(times)
w = np.linalg.eigvalsh(a)
out["lambda_max"] = float(w[-1])
out["lambda_min"] = float(w[0])
print(json.dumps(out))
`;

interface NumpyResult {
  numpy: string;
  cpus: number;
  eigvalsh: number;
  eigh: number;
  /** scipy.linalg.eigh(subset_by_index = top TOP_VECTORS, driver='evr'): all-values-free LAPACK dsyevr. */
  eigh_top: number;
  lambda_max: number;
  lambda_min: number;
}

function runNumpy(file: string, n: number, repeats: number, threads: number | undefined): NumpyResult | string {
  const env = { ...process.env };
  if (threads !== undefined) {
    env.OPENBLAS_NUM_THREADS = String(threads);
    env.OMP_NUM_THREADS = String(threads);
  }
  const res = spawnSync('python3', ['-c', NUMPY, file, String(n), String(repeats), String(TOP_VECTORS)], { encoding: 'utf8', maxBuffer: 1 << 20, env });
  if (res.error) return `python3 not runnable: ${res.error.message}`;
  if (res.status !== 0) return `python3 failed: ${res.stderr.trim().split('\n').pop()}`;
  return JSON.parse(res.stdout) as NumpyResult;
}

/** The top-k mode: eigenvalues plus the top TOP_VECTORS eigenvectors (the sidecar's default topK). */
const TOP_VECTORS = 64;

function timeOurs(a: Float64Array, n: number, vectors: boolean, repeats: number, vectorCount?: number, blockSize?: number): { median: number; values: Float64Array } {
  const tridiagonal = blockSize === undefined ? undefined : { blockSize };
  let values = eighSymmetric(a, n, { vectors, vectorCount, tridiagonal }).values; // warm-up
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    values = eighSymmetric(a, n, { vectors, vectorCount, tridiagonal }).values;
    times.push((performance.now() - t) / 1000);
  }
  return { median: median(times), values };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eigh-bench-'));
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
      `median of ${args.repeats}; numpy threads: ${args.numpyThreads ?? 'OpenBLAS default'}`,
  );
  console.log('N     kind      mode             ours [s]   numpy [s]  ratio   |Δλ|max/|λ|max');
  const results: Array<{ n: number; kind: Kind; mode: string; ours: number; numpy: number; dev: number }> = [];
  const before: typeof results = [];
  try {
    for (const kind of args.kinds) {
      for (const n of args.sizes) {
        const a = makeMatrix(kind, n, 1000 + n);
        const file = path.join(dir, `${kind}-${n}.f64`);
        writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        const np = runNumpy(file, n, args.repeats, args.numpyThreads);
        // 'values-unblocked': the unblocked tridiagonalisation (before issue 15), printed beside the default, not in BENCH_JSON.
        for (const mode of ['values-unblocked', 'values', 'vectors', 'top64'] as const) {
          const vectors = mode === 'vectors' || mode === 'top64';
          const ours = timeOurs(a, n, vectors, args.repeats, mode === 'top64' ? TOP_VECTORS : undefined, mode === 'values-unblocked' ? 0 : undefined);
          const ref = typeof np === 'string' ? NaN : mode === 'top64' ? np.eigh_top : vectors ? np.eigh : np.eigvalsh;
          // Agreement check on the extreme eigenvalues (ours descending, numpy ascending).
          const scale = typeof np === 'string' ? NaN : Math.max(Math.abs(np.lambda_max), Math.abs(np.lambda_min));
          const dev =
            typeof np === 'string'
              ? NaN
              : Math.max(Math.abs(ours.values[0] - np.lambda_max), Math.abs(ours.values[n - 1] - np.lambda_min)) / scale;
          if (mode === 'values-unblocked') before.push({ n, kind, mode, ours: ours.median, numpy: ref, dev });
          else results.push({ n, kind, mode, ours: ours.median, numpy: ref, dev });
          console.log(
            `${String(n).padEnd(6)}${kind.padEnd(10)}${mode.padEnd(17)}` +
              `${ours.median.toFixed(3).padStart(8)}   ${Number.isNaN(ref) ? '     n/a' : ref.toFixed(3).padStart(8)}  ` +
              `${Number.isNaN(ref) ? '  n/a' : (ours.median / ref).toFixed(1).padStart(5)}×   ${dev.toExponential(1)}`,
          );
        }
        if (typeof np === 'string') console.log(`  numpy reference unavailable: ${np}`);
        if (args.mlMatrix && n <= 1024) {
          const m = new Matrix(n, n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
          const t = performance.now();
          new EigenvalueDecomposition(m, { assumeSymmetric: true });
          const secs = (performance.now() - t) / 1000;
          const ref = typeof np === 'string' ? NaN : np.eigh;
          console.log(
            `${String(n).padEnd(6)}${kind.padEnd(10)}${'ml-matrix'.padEnd(17)}${secs.toFixed(3).padStart(8)}   ` +
              `${Number.isNaN(ref) ? '     n/a' : ref.toFixed(3).padStart(8)}  ${Number.isNaN(ref) ? '  n/a' : (secs / ref).toFixed(1).padStart(5)}×`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Machine-readable summary for bench/run.ts (NaN → null).
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'eigh', results, unblocked: before })}`);
}

main();
