/**
 * Cross-language check: a Python grpcio client written from proto/ntksidecar/v1/sidecar.proto alone
 * (test/python/stream_jacobian.py, stubs generated at run time) streams a seeded Jacobian with a prescribed
 * spectrum λ_i = i^−α to the real server. The sidecar's answers are compared with numpy's float64 reference,
 * computed from exactly the values put on the wire; a second run interleaves one malformed snapshot of each
 * class of docs/design.md §3 between good ones.
 *
 * Needs Debian's /usr/bin/python3 with grpcio, protobuf and numpy, and protoc (`npm run setup:test`).
 * Missing dependencies FAIL the suite: skipping would hide a broken install in CI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitDecay } from '../../src/spectrum/powerLaw.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';

const PYTHON = '/usr/bin/python3';
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(REPO, 'test/python/stream_jacobian.py');

// Main run: N = n·C = 64·2 = 128 rows, P = 200 000 columns (102 MB of float32 per snapshot, 25 chunks of 4 MiB).
const MAIN = { samples: 64, outputs: 2, params: 200_000, snapshots: 2, alpha: 1.0, dtype: 'f32' } as const;
// Small runs for the other dtypes; every second chunk carries crc32c = 0 ("not checked").
const SMALL = [
  { dtype: 'f16', samples: 24, outputs: 1, params: 3000, chunkBytes: 16 * 1024, alpha: 0.5 },
  { dtype: 'f64', samples: 20, outputs: 3, params: 3000, chunkBytes: 64 * 1024, alpha: 2.0 },
] as const;
// Bad run: small P and 256 KiB chunks (10 per snapshot) so 11 snapshots stay cheap; bf16 covers a 2-byte dtype.
const BAD = { samples: 32, outputs: 2, params: 20_000, chunkBytes: 256 * 1024, alpha: 1.5, dtype: 'bf16' } as const;

/**
 * Eigenvalue tolerance, relative to λ_1: both sides see the same wire values, so only the kernel arithmetic
 * differs. A float64 backend agrees to ~1e-12; a float32 block-product backend (gpu.js) to ~1e-6–1e-5 over
 * 4 MiB blocks (docs/design.md §6). 1e-5·λ_1 admits either.
 */
const EIG_TOL = 1e-5;
/**
 * Decay exponent tolerance: λ is an exact power law, so the only error is eigenvalue error. An error of
 * 1e-5·λ_1 moves ln λ_i by at most 1e-5·λ_1/λ_i ≤ 6.4e-4 at i = 64 (α = 1) and the log-grid slope over
 * ln(64/3) ≈ 3 by at most ~4e-4; 1e-3 keeps a margin.
 */
const DECAY_TOL = 1e-3;

type Json = Record<string, unknown>;

interface Ack {
  snapshot_id: number;
  accepted: boolean;
  code: number;
  message: string;
}

interface Spectrum {
  kernel: string;
  size: number;
  trace: number;
  lambda_max: number;
  eigenvalues: number[];
  eigenvalues_normalized: number[];
  numerical_rank: number;
  rank_deficiency: number;
  decay_exponent: number | string;
  decay_r2: number | string;
  decay_window_lo: number;
  decay_window_hi: number;
}

interface ReferenceSpectrum {
  size: number;
  trace: number;
  eigenvalues_top: number[];
  eigenvalues_all: number[];
}

interface SnapshotInfo {
  snapshot_id: number;
  kind: string;
  expected_code: number;
  step: number;
  chunks: number;
  crc_checked_chunks: number;
  reference?: Record<string, ReferenceSpectrum>;
}

interface PyResult {
  run_id: string;
  errors: string[];
  accepted: Json & { run_id: string; backend: string; max_chunk_bytes: number };
  events: { type: string; snapshot_id: number | null }[];
  acks: Ack[];
  decisions: (Json & { run_id: string; snapshot_id: number; step: number; action: string; reason: string })[];
  snapshots: SnapshotInfo[];
  reference: Record<string, ReferenceSpectrum>;
  get_run: Json & {
    run_id: string;
    snapshots_accepted: number;
    snapshots_rejected: number;
    num_samples: number;
    num_outputs: number;
    latest: Json & { snapshot_id: number; step: number; spectra: Spectrum[]; finite: boolean };
  };
  check_stop: Json & { run_id: string; snapshot_id: number; action: string };
  metrics: { lines: string[]; error?: string };
  metrics_after_end: { lines: string[]; error?: string };
  stream_status: { code: number; name: string; details: string };
  timings: Record<string, number>;
}

interface PyRun {
  code: number | null;
  stderr: string;
  result?: PyResult;
}

/** Why the Python side cannot run, or undefined when it can. */
function pythonProblem(): string | undefined {
  const imports = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf, numpy'], { encoding: 'utf8' });
  if (imports.error) return `${PYTHON} cannot be run (${imports.error.message})`;
  if (imports.status !== 0) return `${PYTHON} cannot import grpc, google.protobuf and numpy:\n${imports.stderr.trim()}`;
  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (protoc.error || protoc.status !== 0) return 'protoc (Debian protobuf-compiler) is not on PATH';
  return undefined;
}

/** Runs the Python client without blocking the event loop (the server lives in this process). */
function runPython(args: string[], out: string): Promise<PyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args, '--out', out], {
      cwd: REPO,
      // One BLAS thread each: the server, its worker and two clients share two cores.
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      let result: PyResult | undefined;
      try {
        result = JSON.parse(readFileSync(out, 'utf8')) as PyResult;
      } catch {
        result = undefined;
      }
      resolve({ code, stderr, result });
    });
  });
}

/** The JSON encodes non-finite doubles as strings. */
function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function maxRelativeToTop(got: readonly number[], want: readonly number[]): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / want[0]);
  return worst;
}

/** Every snapshot acked exactly once; each accepted one followed (later on the stream) by its decision. */
function expectAckThenDecision(py: PyResult, goodIds: number[], badIds: number[]): void {
  const ackIds = py.acks.map((a) => a.snapshot_id);
  expect([...ackIds].sort((a, b) => a - b)).toEqual([...goodIds, ...badIds].sort((a, b) => a - b));
  for (const id of goodIds) {
    const ack = py.acks.find((a) => a.snapshot_id === id)!;
    expect(ack, `snapshot ${id}: ${ack.message}`).toMatchObject({ accepted: true, code: 0 });
    const ackAt = py.events.findIndex((e) => e.type === 'ack' && e.snapshot_id === id);
    const decisionAt = py.events.findIndex((e) => e.type === 'decision' && e.snapshot_id === id);
    expect(decisionAt, `decision for snapshot ${id}`).toBeGreaterThan(ackAt);
  }
  for (const d of py.decisions) {
    expect(d.run_id).toBe(py.run_id);
    expect(['ACTION_CONTINUE', 'ACTION_STOP']).toContain(d.action);
    expect(d.reason).not.toBe('REASON_UNSPECIFIED');
  }
}

/** Spectrum reported by GetRun against the float64 reference of the last good snapshot. */
function expectSpectrumMatches(reported: Spectrum, ref: ReferenceSpectrum, samples: number): void {
  expect(reported.size).toBe(ref.size);
  const k = reported.eigenvalues.length;
  expect(k).toBe(Math.min(20, ref.size));
  expect(maxRelativeToTop(reported.eigenvalues, ref.eigenvalues_top.slice(0, k))).toBeLessThan(EIG_TOL);
  expect(Math.abs(reported.lambda_max - ref.eigenvalues_top[0]) / ref.eigenvalues_top[0]).toBeLessThan(EIG_TOL);
  // tr K = Σλ: the same relative accuracy as λ_1 (all λ > 0 here).
  expect(Math.abs(reported.trace - ref.trace) / ref.trace).toBeLessThan(EIG_TOL);
  // Operator-normalised eigenvalues are λ/n (docs/science.md A1).
  for (let i = 0; i < k; i++) expect(reported.eigenvalues_normalized[i]).toBeCloseTo(reported.eigenvalues[i] / samples, 12);
}

let server: TestServer | undefined;
let dir: string | undefined;
let problem: string | undefined;
let main: PyRun;
let bad: PyRun;
let small: PyRun[];

beforeAll(async () => {
  // Recorded rather than thrown so that every test FAILS with the fix (a throwing hook reports them skipped).
  problem = pythonProblem();
  if (problem) return;
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'ntk-py-'));
  const common = ['--target', server.grpcTarget, '--metrics-url', server.metricsUrl, '--timeout', '90'];
  // The two runs go side by side, as two trainers would: separate streams, separate run ids.
  [main, bad, ...small] = await Promise.all([
    runPython([...common, '--run-id', 'py-main', '--seed', '11', '--samples', `${MAIN.samples}`, '--outputs', `${MAIN.outputs}`,
      '--params', `${MAIN.params}`, '--snapshots', `${MAIN.snapshots}`, '--alpha', `${MAIN.alpha}`, '--dtype', MAIN.dtype], join(dir, 'main.json')),
    runPython([...common, '--run-id', 'py-bad', '--seed', '12', '--bad', '--samples', `${BAD.samples}`, '--outputs', `${BAD.outputs}`,
      '--params', `${BAD.params}`, '--chunk-bytes', `${BAD.chunkBytes}`, '--alpha', `${BAD.alpha}`, '--dtype', BAD.dtype], join(dir, 'bad.json')),
    ...SMALL.map((c, i) =>
      runPython([...common, '--run-id', `py-${c.dtype}`, '--seed', `${20 + i}`, '--samples', `${c.samples}`, '--outputs', `${c.outputs}`,
        '--params', `${c.params}`, '--chunk-bytes', `${c.chunkBytes}`, '--snapshots', '1', '--crc-every', '2', '--alpha', `${c.alpha}`,
        '--dtype', c.dtype], join(dir!, `${c.dtype}.json`))),
  ]);
}, 150_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function resultOf(run: PyRun): PyResult {
  expect(problem, `${problem}\nInstall the Python test dependencies with \`npm run setup:test\` (as root: bash scripts/setup-test-deps.sh).`).toBeUndefined();
  expect(run.code, `python exited ${run.code}:\n${run.stderr}`).toBe(0);
  expect(run.result, `no result JSON:\n${run.stderr}`).toBeDefined();
  const r = run.result!;
  expect(r.errors, r.errors.join('\n')).toEqual([]);
  return r;
}

describe('Python client (grpcio, stubs from the proto) against the real server', () => {
  it('streams a shuffled, checksummed float32 Jacobian: every snapshot accepted, then decided', () => {
    const py = resultOf(main);
    expect(py.accepted.run_id).toBe('py-main');
    expect(py.accepted.backend).not.toBe('');
    expect(py.accepted.max_chunk_bytes).toBeGreaterThanOrEqual(4 << 20);
    const ids = py.snapshots.map((s) => s.snapshot_id);
    expect(ids).toEqual([1, 2]);
    expectAckThenDecision(py, ids, []);
    expect(py.stream_status).toMatchObject({ code: 0 });
    expect(py.get_run).toMatchObject({ run_id: 'py-main', snapshots_accepted: 2, snapshots_rejected: 0, num_samples: MAIN.samples, num_outputs: MAIN.outputs });
    expect(py.check_stop).toMatchObject({ run_id: 'py-main', snapshot_id: 2 });
  });

  it('reports the numpy float64 spectrum of the last snapshot (full and traced kernels)', () => {
    const py = resultOf(main);
    const latest = py.get_run.latest;
    expect(latest).toMatchObject({ snapshot_id: 2, step: 200, finite: true });
    const full = latest.spectra.find((s) => s.kernel === 'full');
    expect(full, `spectra: ${latest.spectra.map((s) => s.kernel).join(', ')}`).toBeDefined();
    expectSpectrumMatches(full!, py.reference.full, MAIN.samples);
    // Snapshot 2 carries 1.1·K (kernel_scale in stream_jacobian.py): a stale or leaked kernel would be off by 10 %.
    expect(full!.lambda_max).toBeCloseTo(1.1, 4);
    // N = 128 ≤ 2048 and C = 2: the traced n×n kernel is reported too (docs/science.md A1).
    const tr = latest.spectra.find((s) => s.kernel === 'traced');
    expect(tr).toBeDefined();
    expectSpectrumMatches(tr!, py.reference.traced, MAIN.samples);
    expect(full!.numerical_rank).toBe(MAIN.samples * MAIN.outputs); // λ_N = 1.1/128 ≫ tol
    expect(full!.rank_deficiency).toBe(0);
  });

  it('fits the prescribed decay exponent α on the full kernel (docs/science.md A3)', () => {
    const py = resultOf(main);
    const full = py.get_run.latest.spectra.find((s) => s.kernel === 'full')!;
    // A3 default window: i_lo = C + 1, i_hi = ⌊r_num/2⌋ (all of λ is far above 100·tol).
    expect(full.decay_window_lo).toBe(MAIN.outputs + 1);
    expect(full.decay_window_hi).toBe((MAIN.samples * MAIN.outputs) / 2);
    const s = num(full.decay_exponent);
    expect(Math.abs(s - MAIN.alpha)).toBeLessThan(DECAY_TOL);
    expect(num(full.decay_r2)).toBeGreaterThan(0.9999); // exact power law: R² = 1 up to rounding
    // The same A3 fit on numpy's eigenvalues over the sidecar's window.
    const ref = fitDecay(py.reference.full.eigenvalues_all, full.decay_window_lo, full.decay_window_hi);
    expect(Math.abs(s - ref.exponent)).toBeLessThan(DECAY_TOL);
  });

  it('exports the run on /metrics while it lives and drops its series when it ends', () => {
    const py = resultOf(main);
    expect(py.metrics.error).toBeUndefined();
    const rank1 = py.metrics.lines.find((l) => /^ntk_sidecar_ntk_eigenvalue\{/.test(l) && l.includes('run_id="py-main"') && l.includes('rank="1"') && l.includes('kernel="full"'));
    expect(rank1, py.metrics.lines.join('\n')).toBeDefined();
    const value = Number(rank1!.slice(rank1!.lastIndexOf(' ') + 1));
    expect(Math.abs(value - py.reference.full.eigenvalues_top[0]) / py.reference.full.eigenvalues_top[0]).toBeLessThan(EIG_TOL);
    expect(py.metrics_after_end.lines.filter((l) => l.includes('run_id="py-main"'))).toEqual([]);
  });

  it.each(SMALL.map((c, i) => [c.dtype, c, i] as const))('accepts %s chunks, with and without crc32c, and matches the reference', (_name, c, i) => {
    const py = resultOf(small[i]);
    const sent = py.snapshots[0];
    expect(sent.chunks).toBeGreaterThan(2);
    expect(sent.crc_checked_chunks).toBe(Math.ceil(sent.chunks / 2));
    expectAckThenDecision(py, [1], []);
    expect(py.stream_status).toMatchObject({ code: 0 });
    const spectra = py.get_run.latest.spectra;
    expectSpectrumMatches(spectra.find((s) => s.kernel === 'full')!, py.reference.full, c.samples);
    if (c.outputs > 1) expectSpectrumMatches(spectra.find((s) => s.kernel === 'traced')!, py.reference.traced, c.samples);
  });

  it('rejects each malformed snapshot with its docs/design.md §3 code and keeps the stream and run going', () => {
    const py = resultOf(bad);
    const good = py.snapshots.filter((s) => s.kind === 'good').map((s) => s.snapshot_id);
    const malformed = py.snapshots.filter((s) => s.kind !== 'good');
    expect(malformed.map((s) => [s.kind, s.expected_code])).toEqual([
      ['bad_length', 3], // INVALID_ARGUMENT
      ['out_of_range', 11], // OUT_OF_RANGE
      ['missing', 10], // ABORTED
      ['duplicate', 10], // ABORTED
      ['bad_crc', 15], // DATA_LOSS
    ]);
    expectAckThenDecision(py, good, malformed.map((s) => s.snapshot_id));
    for (const s of malformed) {
      const ack = py.acks.find((a) => a.snapshot_id === s.snapshot_id)!;
      expect({ kind: s.kind, accepted: ack.accepted, code: ack.code }, ack.message).toEqual({ kind: s.kind, accepted: false, code: s.expected_code });
      expect(ack.message.length).toBeGreaterThan(0);
      // No decision for a rejected snapshot.
      expect(py.decisions.some((d) => d.snapshot_id === s.snapshot_id)).toBe(false);
    }
    expect(py.stream_status).toMatchObject({ code: 0 });
    expect(py.get_run).toMatchObject({ run_id: 'py-bad', snapshots_accepted: good.length, snapshots_rejected: malformed.length });
    // The last good snapshot (after all five faults) is analysed from clean state: bf16 values, float64 reference.
    const last = py.snapshots.filter((s) => s.kind === 'good').at(-1)!;
    expect(py.get_run.latest.snapshot_id).toBe(last.snapshot_id);
    const full = py.get_run.latest.spectra.find((s) => s.kernel === 'full')!;
    expectSpectrumMatches(full, py.reference.full, BAD.samples);
  });
});
