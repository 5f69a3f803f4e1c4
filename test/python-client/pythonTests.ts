/**
 * Runs ntk_sidecar's Python unittest modules (clients/python/tests, via tests/run.py) with Debian's
 * /usr/bin/python3 and reads the JSON summary. The child is spawned asynchronously so that a server started in
 * this vitest process keeps serving while Python talks to it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/startTestServer.js';

export const PYTHON = '/usr/bin/python3';
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUNNER = join(REPO, 'clients/python/tests/run.py');

/** The policies the Python server tests select; the same document as TEST_POLICIES in clients/python/tests/support.py. */
export const TEST_POLICIES = { policies: { shadow: { enforced: false } } };

/** Optional frameworks that are not installable on the CI machine: their tests may skip (loudly), nothing else may. */
const OPTIONAL_FRAMEWORK_SKIP = /^(lightning\.pytorch|pytorch_lightning|transformers|keras|jax|ray\.tune|ray) is not installed/;

interface Failure {
  test: string;
  traceback: string;
}

export interface PythonSummary {
  ran: number;
  failures: Failure[];
  errors: Failure[];
  skipped: { test: string; reason: string }[];
  seconds: number;
}

export interface PythonRun {
  code: number | null;
  output: string;
  summary?: PythonSummary;
}

/** Why the Python side cannot run at all (missing interpreter or packages), or undefined. */
export function pythonProblem(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf, numpy, torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import grpc, google.protobuf, numpy and torch:\n${r.stderr.trim()}`;
  return undefined;
}

export function runPythonTests(modules: string[], env: Record<string, string> = {}): Promise<PythonRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ntk-pyclient-'));
  const out = join(dir, 'summary.json');
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [RUNNER, '--out', out, ...modules], {
      cwd: REPO,
      // One BLAS/OpenMP thread per process: the server, its worker and the Python side share two cores.
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.on('error', reject);
    child.on('close', (code) => {
      let summary: PythonSummary | undefined;
      try {
        summary = JSON.parse(readFileSync(out, 'utf8')) as PythonSummary;
      } catch {
        summary = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, summary });
    });
  });
}

/**
 * The run passed: exit 0, at least `minTests` tests, no failures or errors, and skips only for the optional
 * frameworks (each printed, so a missing framework is visible in the test log) or matching `alsoAllowedSkip` (a
 * suite's own, e.g. PostgreSQL absent where the suite says so loudly).
 */
export function expectPassed(run: PythonRun, minTests: number, alsoAllowedSkip?: RegExp): PythonSummary {
  expect(run.summary, `no summary from the Python run (exit ${run.code}):\n${run.output}`).toBeDefined();
  const s = run.summary!;
  const broken = [...s.failures, ...s.errors].map((f) => `${f.test}\n${f.traceback}`).join('\n');
  expect(broken, broken).toBe('');
  expect(run.code, run.output).toBe(0);
  expect(s.ran).toBeGreaterThanOrEqual(minTests);
  for (const skip of s.skipped) {
    console.warn(`SKIPPED (optional framework missing): ${skip.test}: ${skip.reason}`);
    if (alsoAllowedSkip?.test(skip.reason)) continue;
    expect(skip.reason, `${skip.test} skipped`).toMatch(OPTIONAL_FRAMEWORK_SKIP);
  }
  return s;
}

export function expectNoProblem(problem: string | undefined): void {
  expect(problem, `${problem}\nInstall the Python test dependencies with \`npm run setup:test\` (as root: bash scripts/setup-test-deps.sh).`).toBeUndefined();
}

/**
 * One vitest case for Python test modules that talk to a real sidecar (startTestServer on 127.0.0.1:0, its address
 * in NTK_SIDECAR_TEST_TARGET): starts it, runs the modules, and asserts at least `minTests` passed.
 */
export function describePythonAgainstSidecar(opts: {
  title: string;
  it: string;
  modules: string[];
  minTests: number;
  policyDocument?: unknown;
  timeoutMs?: number;
}): void {
  let server: TestServer | undefined;
  let problem: string | undefined;
  let run: PythonRun;
  beforeAll(async () => {
    problem = pythonProblem();
    if (problem) return;
    server = await startTestServer(undefined, { policyDocument: opts.policyDocument });
    run = await runPythonTests(opts.modules, { NTK_SIDECAR_TEST_TARGET: server.grpcTarget });
  }, opts.timeoutMs ?? 150_000);
  afterAll(async () => {
    await server?.stop();
  });
  describe(opts.title, () => {
    it(opts.it, () => {
      expectNoProblem(problem);
      expectPassed(run, opts.minTests);
    });
  });
}
