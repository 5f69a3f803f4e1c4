/**
 * Top-k eigenpairs: lanczosTopK (block thick-restart Lanczos, src/spectrum/lanczos.ts, as the sidecar calls it
 * beyond --exact-max) next to scipy.sparse.linalg.eigsh (ARPACK, which='LA') on the SAME seeded float64
 * matrix, side by side on this machine.
 *
 *   npx tsx bench/topk.bench.ts [--sizes 2048,8192] [--ks 32,128] [--repeats R] [--numpy-threads T|both] [--tol 1e-10]
 *
 * The matrix is K = Q diag(λ) Qᵀ with λ_i = 1/i (i = 1…N, a power-law NTK-like spectrum, assigned to the diagonal
 * in seeded random order) and Q = H₃H₂H₁ three seeded Householder reflectors, applied in place as rank-2 updates
 * (A ← A − v zᵀ − z vᵀ, z = 2Av − 2(vᵀAv)v), so only the one N×N array is ever held (512 MiB at N = 8192) and
 * the exact eigenvalues are known: both solvers are checked against them. Krylov methods see only the spectrum
 * and the start vector, so this is as hard for them as any dense kernel with that spectrum. The matrix is
 * written once to a temporary raw float64 file that numpy maps back (bit-identical input).
 * Tolerances: ours stops at ‖Kv − θv‖ ≤ tol·|θ₁| for every pair; ARPACK at ‖r_i‖ ≤ tol·|θ_i| (stricter on the
 * smaller pairs). Both get the same nominal tol; achieved residuals and eigenvalue errors are printed.
 * Times are the median of R calls after an untimed warm-up on a small matrix (JIT, BLAS threads). scipy runs with
 * OpenBLAS' default threads and with one thread (`--numpy-threads both`, the default) and the faster counts: on a
 * shared machine the multi-threaded dense mat-vec can lose badly to other load. Our solver is single-threaded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lanczosTopK } from '../src/spectrum/lanczos.js';
import { mulberry32, normalArray } from '../src/random.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { runPython } from './support/python.js';
import { emitReport, formatTable, type BenchRow } from './support/report.js';
import { median, sig } from './support/stats.js';

interface Args {
  sizes: number[];
  ks: number[];
  repeats: number;
  /** OpenBLAS threads for scipy; 'both' = default and 1, the faster counts. */
  numpyThreads: number | 'both';
  tol: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [2048, 8192], ks: [32, 128], repeats: 3, numpyThreads: 'both', tol: 1e-10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sizes') args.sizes = argv[++i].split(',').map(Number);
    else if (a === '--ks') args.ks = argv[++i].split(',').map(Number);
    else if (a === '--repeats') args.repeats = Number(argv[++i]);
    else if (a === '--numpy-threads') {
      const t = argv[++i];
      args.numpyThreads = t === 'both' ? 'both' : Number(t);
      if (t !== 'both' && !(Number.isInteger(args.numpyThreads) && Number(t) >= 1)) throw new Error(`--numpy-threads: ${t} is neither a positive integer nor "both"`);
    }
    else if (a === '--tol') args.tol = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}; usage: topk.bench.ts [--sizes 2048,8192] [--ks 32,128] [--repeats R] [--numpy-threads T|both] [--tol 1e-10]`);
  }
  if (!Number.isInteger(args.repeats) || args.repeats < 1) throw new Error(`--repeats must be a positive integer, got ${args.repeats}`);
  for (const n of args.sizes) if (!Number.isInteger(n) || n < 2) throw new Error(`--sizes: ${n} is not an integer ≥ 2`);
  for (const k of args.ks) if (!Number.isInteger(k) || k < 1) throw new Error(`--ks: ${k} is not a positive integer`);
  if (!(args.tol > 0)) throw new Error(`--tol must be positive, got ${args.tol}`);
  return args;
}

/** K = Q diag(λ) Qᵀ in place (see the file comment); returns the matrix and λ sorted descending. */
export function powerLawMatrix(n: number, seed: number): { a: Float64Array; lambda: Float64Array } {
  const rng = mulberry32(seed);
  const lambda = new Float64Array(n);
  for (let i = 0; i < n; i++) lambda[i] = 1 / (i + 1);
  const diag = Float64Array.from(lambda);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [diag[i], diag[j]] = [diag[j], diag[i]];
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = diag[i];
  const w = new Float64Array(n);
  const z = new Float64Array(n);
  for (let h = 0; h < 3; h++) {
    const v = normalArray(rng, n);
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] /= norm;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const r = i * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += a[r + j] * v[j];
      w[i] = s;
      c += v[i] * s;
    }
    for (let i = 0; i < n; i++) z[i] = 2 * w[i] - 2 * c * v[i];
    for (let i = 0; i < n; i++) {
      const r = i * n;
      const vi = v[i];
      const zi = z[i];
      for (let j = 0; j < n; j++) a[r + j] -= vi * z[j] + zi * v[j];
    }
  }
  // Exact symmetry (the two triangles of the rank-2 updates round identically, but make it explicit).
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return { a, lambda };
}

const SCIPY = `
import json, statistics, sys, time
import numpy as np
from scipy.sparse.linalg import eigsh
path, n, ks, repeats, tol, seed = sys.argv[1], int(sys.argv[2]), [int(k) for k in sys.argv[3].split(',')], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
a = np.fromfile(path, dtype='<f8').reshape(n, n)
w = np.random.default_rng(1).standard_normal((512, 512)); eigsh(w + w.T, k=16, which='LA')  # warm-up
out = {}
for k in ks:
    v0 = np.random.default_rng(seed).standard_normal(n)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        vals, vecs = eigsh(a, k=k, which='LA', tol=tol, v0=v0)
        times.append(time.perf_counter() - t)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    res = np.linalg.norm(a @ vecs - vecs * vals, axis=0)
    out[str(k)] = {"median_s": statistics.median(times), "values": vals.tolist(), "max_resid": float(res.max() / abs(vals[0]))}
print(json.dumps(out))
`;

interface ScipyResult {
  median_s: number;
  values: number[];
  max_resid: number;
}

function maxRelError(got: ArrayLike<number>, want: Float64Array, k: number): number {
  let e = 0;
  for (let i = 0; i < k; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
  return e / want[0];
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  console.log(describeMachine(machineInfo()));
  console.log(`tol ${args.tol}; median of ${args.repeats}; numpy threads: ${args.numpyThreads === 'both' ? 'OpenBLAS default and 1, the faster counts' : args.numpyThreads}`);
  // Warm-up of our side: JIT of the block product, Gram–Schmidt and the small eigensolver.
  {
    const w = powerLawMatrix(512, 1);
    lanczosTopK(w.a, 512, { k: 32, rng: mulberry32(1), tol: args.tol });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'topk-bench-'));
  const rows: BenchRow[] = [];
  try {
    for (const n of args.sizes) {
      const seed = 7000 + n;
      const t0 = performance.now();
      const { a, lambda } = powerLawMatrix(n, seed);
      const file = path.join(dir, `k-${n}.f64`);
      writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      console.log(`N=${n}: matrix built and written in ${sig((performance.now() - t0) / 1000)} s`);
      const settings: Array<number | undefined> = args.numpyThreads === 'both' ? [undefined, 1] : [args.numpyThreads];
      const refs = settings.map((threads) => ({
        threads,
        res: runPython<Record<string, ScipyResult>>(SCIPY, [file, n, args.ks.join(','), args.repeats, args.tol, seed], { threads }),
      }));
      rmSync(file, { force: true });
      for (const r of refs) if (!r.res.ok) console.log(`  scipy reference (threads ${r.threads ?? 'default'}) unavailable: ${r.res.reason}`);
      /** The faster of the thread settings for this k, and what each took. */
      const reference = (k: number) => {
        let best: ScipyResult | undefined;
        const seen: string[] = [];
        for (const r of refs) {
          if (!r.res.ok) continue;
          const x = r.res.value[String(k)];
          seen.push(`${r.threads ?? 'default'} threads ${sig(x.median_s)} s`);
          if (!best || x.median_s < best.median_s) best = x;
        }
        return { best, seen: seen.join(', ') };
      };
      for (const k of args.ks) {
        const times: number[] = [];
        let last: ReturnType<typeof lanczosTopK> | undefined;
        for (let r = 0; r < args.repeats; r++) {
          const t = performance.now();
          last = lanczosTopK(a, n, { k, rng: mulberry32(seed), tol: args.tol });
          times.push((performance.now() - t) / 1000);
        }
        const res = last!;
        let resid = 0;
        for (const x of res.residuals) resid = Math.max(resid, x / Math.abs(res.values[0]));
        const ours = median(times);
        const { best: theirs, seen } = reference(k);
        const note =
          `ours: ${res.matvecs} mat-vecs, ${res.restarts} restarts, converged ${res.converged}, max resid/λ₁ ${resid.toExponential(1)}, ` +
          `max |λ−λ_exact|/λ₁ ${maxRelError(res.values, lambda, k).toExponential(1)}` +
          (theirs ? `; eigsh (${seen}): max resid/λ₁ ${theirs.max_resid.toExponential(1)}, max |λ−λ_exact|/λ₁ ${maxRelError(theirs.values, lambda, k).toExponential(1)}` : '');
        console.log(`  k=${k}: ours ${sig(ours)} s, eigsh ${theirs ? sig(theirs.median_s) : 'n/a'} s — ${note}`);
        rows.push({
          case: 'topk',
          size: `N=${n} k=${k}`,
          ours: 'lanczosTopK',
          unit: 's',
          value: ours,
          reference: theirs?.median_s ?? NaN,
          referenceName: 'scipy eigsh',
          ratio: theirs ? ours / theirs.median_s : NaN,
          target: k === 128 ? { on: 'ratio', cmp: '<=', value: 1.5, text: '≤ 1.5×' } : undefined,
          note,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${formatTable(rows)}`);
  emitReport({ bench: 'topk', rows, notes: [`tol ${args.tol}, numpy threads ${args.numpyThreads}`] });
}

main();
