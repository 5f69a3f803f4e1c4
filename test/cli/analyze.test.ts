import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/analyzeCommand.js';
import { encodeNpy } from '../../src/cli/npy.js';
import type { EncodeNpyOptions } from '../../src/cli/npy.js';
import { mulberry32, normalArray } from '../../src/random.js';
import { textSink as sink } from '../support/testIo.js';

const dir = mkdtempSync(join(tmpdir(), 'ntk-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await analyzeCommand(args, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

interface Json {
  kind: string;
  size: number;
  samples: number;
  outputs: number;
  reduction: string;
  tracedInput: boolean;
  dtype: string;
  epsSrc: number;
  trace: number;
  lambdaMax: number;
  eigenvalues: number[];
  eigenvaluesOverN: number[];
  tolerance: number;
  numericalRank: number;
  rankDeficiency: number;
  conditionPos: number;
  decay: { exponent: number; r2: number; lo: number; hi: number; fitOk: boolean };
  esd: { alpha: number | null; ks: number | null };
  effectiveRank: { entropy: number; participation: number; stable: number };
}

async function runJson(args: string[]): Promise<Json> {
  const r = await run([...args, '--json']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Json;
}

function save(name: string, shape: number[], data: Float64Array | Float32Array, opts?: EncodeNpyOptions): string {
  const path = join(dir, name);
  writeFileSync(path, encodeNpy(shape, data, opts));
  return path;
}

/** Haar-distributed orthogonal n×n (QR of a seeded Gaussian, columns signed by diag R), row-major. */
function haarQ(n: number, seed: number): Float64Array {
  const qr = new QrDecomposition(Matrix.from1DArray(n, n, normalArray(mulberry32(seed), n * n)));
  const q = qr.orthogonalMatrix;
  const r = qr.upperTriangularMatrix;
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const s = Math.sign(r.get(j, j)) || 1;
    for (let i = 0; i < n; i++) out[i * n + j] = s * q.get(i, j);
  }
  return out;
}

/** Q diag(d) (row-major n×n): with d = √λ it is a Jacobian whose J Jᵀ = Q diag(λ) Qᵀ. */
function scaleColumns(q: Float64Array, n: number, d: Float64Array): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = q[i * n + j] * d[j];
  return out;
}

/** A Bᵀ for row-major A (r×p) and B (s×p). */
function abT(a: Float64Array, b: Float64Array, r: number, s: number, p: number): Float64Array {
  const out = new Float64Array(r * s);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < s; j++) {
      let acc = 0;
      for (let k = 0; k < p; k++) acc += a[i * p + k] * b[j * p + k];
      out[i * s + j] = acc;
    }
  return out;
}

function maxRelErr(got: number[], want: ArrayLike<number>): number {
  expect(got).toHaveLength(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
  return m;
}

// Prescribed spectrum λ_i = i⁻¹, n = 200 (docs/science.md C1 with α = 1 at a test-friendly size).
const n = 200;
const lambda = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
const q = haarQ(n, 7);
const gram = abT(scaleColumns(q, n, lambda), q, n, n, n); // Q diag(λ) Qᵀ
const jac = scaleColumns(q, n, lambda.map(Math.sqrt)); // J Jᵀ = Q diag(λ) Qᵀ
const gramPath = save('gram.npy', [n, n], gram);
const jacPath = save('jac.npy', [n, n], jac);
const harmonic = lambda.reduce((a, b) => a + b, 0);
const sumSq = lambda.reduce((a, b) => a + b * b, 0);

describe('analyze a Gram with prescribed spectrum λ_i = 1/i (n = 200)', () => {
  it('recovers the eigenvalues, decay exponent and effective ranks', async () => {
    const j = await runJson([gramPath, '--top', String(n)]);
    expect(j.kind).toBe('gram'); // auto: square and symmetric
    expect(j.size).toBe(n);
    expect(j.epsSrc).toBe(0);
    // Q diag(λ) Qᵀ is formed in float64 (rounding ~n·2⁻⁵² of λ_1) and the exact solver adds the same
    // order; relative to the smallest eigenvalue 1/200 that is ≲ 1e-11, so 1e-9 has ample margin.
    expect(j.eigenvalues).toHaveLength(n);
    expect(maxRelErr(j.eigenvalues, lambda)).toBeLessThan(1e-9);
    expect(maxRelErr(j.eigenvaluesOverN, lambda.map((v) => v / n))).toBeLessThan(1e-9);
    // The log-grid OLS of an exact power law returns its exponent (docs/science.md C1: to 1e-12 at n = 500);
    // 0.01 is the brief's tolerance.
    expect(Math.abs(j.decay.exponent - 1)).toBeLessThan(0.01);
    expect(j.decay.fitOk).toBe(true);
    expect(j.numericalRank).toBe(n);
    expect(j.rankDeficiency).toBe(0);
    // Closed forms of A2/A4 from λ (relative 1e-9: sums of 200 terms with float64 rounding).
    expect(j.trace).toBeCloseTo(harmonic, 9);
    expect(Math.abs(j.effectiveRank.stable / harmonic - 1)).toBeLessThan(1e-9);
    expect(Math.abs(j.effectiveRank.participation / ((harmonic * harmonic) / sumSq) - 1)).toBeLessThan(1e-9);
    expect(Math.abs(j.conditionPos / n - 1)).toBeLessThan(1e-9);
    // 1 ≤ srank ≤ PR ≤ erank ≤ r_num (docs/science.md A4).
    const e = j.effectiveRank;
    expect(e.stable).toBeLessThanOrEqual(e.participation);
    expect(e.participation).toBeLessThanOrEqual(e.entropy);
    expect(e.entropy).toBeLessThanOrEqual(j.numericalRank);
  });

  it('a Jacobian J = Q diag(√λ) gives the same numbers through K = J Jᵀ', async () => {
    const g = await runJson([gramPath, '--top', String(n)]);
    const j = await runJson([jacPath, '--top', String(n)]);
    expect(j.kind).toBe('jacobian'); // auto: square but not symmetric
    // Both kernels equal Q diag(λ) Qᵀ up to float64 rounding (~1e-14 absolute): 1e-9 relative.
    expect(maxRelErr(j.eigenvalues, g.eigenvalues)).toBeLessThan(1e-9);
    for (const key of ['trace', 'lambdaMax', 'conditionPos'] as const) {
      expect(Math.abs(j[key] / g[key] - 1)).toBeLessThan(1e-9);
    }
    expect(j.numericalRank).toBe(g.numericalRank);
    expect([j.decay.lo, j.decay.hi]).toEqual([g.decay.lo, g.decay.hi]);
    expect(Math.abs(j.decay.exponent - g.decay.exponent)).toBeLessThan(1e-9);
    for (const key of ['entropy', 'participation', 'stable'] as const) {
      expect(Math.abs(j.effectiveRank[key] / g.effectiveRank[key] - 1)).toBeLessThan(1e-9);
    }
  });

  it('--kind sketch reads the same array as Z and reports the sketch noise line', async () => {
    const r = await run([jacPath, '--kind', 'sketch']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sketch\s+m = 200: relative Frobenius error/);
  });

  it('prints a report with the key lines', async () => {
    const r = await run([gramPath]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    for (const re of [
      /input\s+float64 \(<f8\), shape 200 × 200, gram \[auto: square and symmetric/,
      /kernel\s+K, 200 × 200/,
      /solver\s+/,
      /trace\s+tr = 5\.87803/, // H_200 = 5.878030948...
      /lambda_max\s+λ_1 = 1, λ_1\/n = 0\.005/,
      /top 20 eigenvalues \(raw, \/n\):/,
      /\n\s+1\s+1\.000000e\+0\s+5\.000000e-3\n/,
      /\n\s+20\s+5\.000000e-2\s+2\.500000e-4\n/,
      /numerical rank 200 of 200, deficiency 0/,
      /condition\s+κ₊ = λ_1\/λ_r = 200/,
      /decay\s+λ_i ≈ A·i\^\(−s\): s = 1(\.0+\d*)?\b.*R² = .*fit ok/,
      /ESD\s+α = /,
      /eff\. rank\s+entropy .*participation .*stable 5\.87803/,
    ]) {
      expect(r.out).toMatch(re);
    }
    expect(r.out.split('\n').filter((l) => /^\s+\d+\s+\d\.\d{6}e/.test(l))).toHaveLength(20);
  });

  it('float32 input: ε_src = 1e-6 sets the tolerance (docs/science.md A0)', async () => {
    const path = save('gram32.npy', [n, n], Float32Array.from(gram));
    const j = await runJson([path, '--top', String(n)]);
    expect(j.dtype).toBe('float32');
    expect(j.epsSrc).toBe(1e-6);
    // tol = λ_1 · max(N·2⁻⁵², ε_src) = λ_1 · 1e-6.
    expect(Math.abs(j.tolerance / (j.lambdaMax * 1e-6) - 1)).toBeLessThan(1e-12);
    // float32 rounding of K perturbs eigenvalues by ≲ n·6e-8·λ_1 ≈ 1e-5 absolute; 1/200 smallest → < 3e-3 relative.
    expect(maxRelErr(j.eigenvalues, lambda)).toBeLessThan(3e-3);
  });
});

describe('--reduction trace with C = 2', () => {
  // n = 40 samples × C = 2 outputs, P = 90 parameters: J is 80×90, so K (80×80) is full rank.
  const ns = 40;
  const c = 2;
  const p = 90;
  const big = ns * c;
  const j = normalArray(mulberry32(3), big * p);
  const k = abT(j, j, big, big, p);
  // K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)] (docs/science.md §0), computed here independently of the kernel module.
  const kbar = new Float64Array(ns * ns);
  for (let a = 0; a < ns; a++)
    for (let b = 0; b < ns; b++) {
      let s = 0;
      for (let o = 0; o < c; o++) s += k[(a * c + o) * big + (b * c + o)];
      kbar[a * ns + b] = s / c;
    }
  const jPath = save('jac_c2.npy', [big, p], j);
  const kPath = save('gram_c2.npy', [big, big], k);
  const kbarPath = save('kbar.npy', [ns, ns], kbar);
  const j3Path = save('jac_c2_3d.npy', [ns, c, p], j);

  it('equals analyzing the manually traced kernel', async () => {
    const manual = await runJson([kbarPath, '--samples', String(ns), '--outputs', String(c), '--top', String(ns)]);
    expect(manual.tracedInput).toBe(true);
    expect(manual.reduction).toBe('trace');
    const fromJac = await runJson([jPath, '--outputs', String(c), '--reduction', 'trace', '--top', String(ns)]);
    const fromGram = await runJson([kPath, '--outputs', String(c), '--reduction', 'trace', '--top', String(ns)]);
    const from3d = await runJson([j3Path, '--reduction', 'trace', '--top', String(ns)]);
    for (const got of [fromJac, fromGram, from3d]) {
      expect(got.size).toBe(ns);
      expect([got.samples, got.outputs, got.reduction]).toEqual([ns, c, 'trace']);
      // Same kernel up to float64 summation order (~1e-13 relative for this well-conditioned K̄).
      expect(maxRelErr(got.eigenvalues, manual.eigenvalues)).toBeLessThan(1e-9);
      expect(Math.abs(got.trace / manual.trace - 1)).toBeLessThan(1e-12);
      expect(got.numericalRank).toBe(manual.numericalRank);
      for (const key of ['entropy', 'participation', 'stable'] as const) {
        expect(Math.abs(got.effectiveRank[key] / manual.effectiveRank[key] - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it('full reduction keeps the N×N kernel', async () => {
    const full = await runJson([jPath, '--samples', String(ns), '--outputs', String(c)]);
    expect(full.size).toBe(big);
    expect(full.reduction).toBe('full');
    // tr K̄ = tr K / C exactly in exact arithmetic.
    const traced = await runJson([kbarPath, '--samples', String(ns), '--outputs', String(c)]);
    expect(Math.abs(full.trace / c / traced.trace - 1)).toBeLessThan(1e-12);
  });
});

describe('a Jacobian wider than one column block', () => {
  // P = 5000 > 4096 columns per block: the command feeds two blocks (4096 + 904).
  const rows = 40;
  const p = 5000;
  const j = normalArray(mulberry32(5), rows * p);
  const jPath = save('wide.npy', [rows, p], j);
  const kPath = save('wide_gram.npy', [rows, rows], abT(j, j, rows, rows, p));

  it('gives K = J Jᵀ (reference backend, float64)', async () => {
    const fromGram = await runJson([kPath, '--top', String(rows)]);
    const fromJac = await runJson([jPath, '--top', String(rows)]);
    // Same sums in a different order: float64 rounding ~1e-13 relative for this well-conditioned K.
    expect(maxRelErr(fromJac.eigenvalues, fromGram.eigenvalues)).toBeLessThan(1e-9);
  });

  it('the gpu.js backend agrees within float32 tolerance', async () => {
    const ref = await runJson([jPath, '--top', String(rows)]);
    const r = await run([jPath, '--top', String(rows), '--backend', 'gpujs', '--json']);
    expect(r.code).toBe(0);
    const gpu = JSON.parse(r.out) as Json & { backend: string };
    expect(gpu.backend).toMatch(/^gpujs-/);
    // float32 products: relative error ≲ √(1024)·2⁻²⁴·(K_ii K_jj)^½ per entry → ≲ 1e-4 of λ_1 on any eigenvalue
    // (Weyl); the smallest eigenvalue here is ≈ (√5000 − √40)² ≈ 4000 vs λ_1 ≈ 6000, so 1e-4 relative holds.
    expect(maxRelErr(gpu.eigenvalues, ref.eigenvalues)).toBeLessThan(1e-4);
    // gpu.js multiplies in float32 even for float64 input, so ε_src is raised to 1e-6 (docs/science.md A0).
    expect(gpu.epsSrc).toBe(1e-6);
  });
});

describe('errors exit with code 2 and say what to do', () => {
  it('missing file', async () => {
    const r = await run([join(dir, 'nope.npy')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/nope\.npy: no such file; give the path to a \.npy file saved with numpy\.save/);
  });

  it('not an npy file', async () => {
    const path = join(dir, 'text.npy');
    writeFileSync(path, 'hello world, not numpy');
    const r = await run([path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/text\.npy: not a \.npy file: expected magic bytes/);
  });

  it('truncated npy', async () => {
    const bytes = encodeNpy([4, 4], new Float64Array(16));
    const path = join(dir, 'short.npy');
    writeFileSync(path, bytes.subarray(0, bytes.length - 16));
    const r = await run([path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs 16 × 8 = 128 bytes .* the file has 112/);
  });

  it('rows that are not n·C', async () => {
    const r = await run([jacPath, '--samples', '7', '--outputs', '3']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/200 rows do not match --samples 7 × --outputs 3 = 21.*fix --samples\/--outputs/);
    const r2 = await run([jacPath, '--outputs', '3']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/200 rows are not a multiple of --outputs 3/);
  });

  it('a traced Gram cannot give the full kernel', async () => {
    const r = await run([gramPath, '--samples', '200', '--outputs', '2', '--reduction', 'full']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already traced; --reduction full needs the N×N = 400×400 kernel/);
  });

  it('wrong dimensionality and non-square Gram', async () => {
    const vec = save('vec.npy', [5], new Float64Array(5).fill(1));
    const r = await run([vec]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/got shape \(5\); reshape a single Jacobian column to \(N, 1\)/);
    const rect = save('rect.npy', [4, 6], new Float64Array(24).fill(1));
    const r2 = await run([rect, '--kind', 'gram']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--kind gram needs a square 2-D array, got shape \(4, 6\)/);
  });

  it('non-finite data', async () => {
    const data = new Float64Array(9).fill(1);
    data[4] = NaN;
    const r = await run([save('nan.npy', [3, 3], data)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/value NaN at flat index 4 \(row 1\) is not finite/);
  });

  it('bad flags', async () => {
    for (const [args, re] of [
      [[], /missing FILE/],
      [[gramPath, '--kind', 'hessian'], /--kind must be one of auto\|jacobian\|sketch\|gram, got 'hessian'/],
      [[gramPath, '--samples', '0'], /--samples must be a positive integer, got '0'/],
      [[gramPath, '--bogus'], /Unknown option '--bogus'/],
      [[gramPath, '--eps-src', '2'], /--eps-src must be a number in \[0, 1\)/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err).toMatch(/analyze --help/);
    }
  });

  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: ntk-sidecar analyze FILE\.npy/);
    expect(r.out).toMatch(/--backend auto\|wasm\|gpujs\|reference/);
  });
});
