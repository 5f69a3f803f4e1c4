/**
 * Runs the numpy/scipy reference in python3 and reads back one JSON object from its stdout. A missing python3
 * or a failing script is reported as a reason string, never thrown: the benches then print our figures alone.
 */
import { spawnSync } from 'node:child_process';

export type PythonResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface PythonOptions {
  /** OPENBLAS_NUM_THREADS / OMP_NUM_THREADS; undefined keeps OpenBLAS' default (all cores). */
  threads?: number;
  timeoutMs?: number;
}

export function runPython<T>(script: string, args: readonly (string | number)[], opts: PythonOptions = {}): PythonResult<T> {
  const env = { ...process.env };
  if (opts.threads !== undefined) {
    env.OPENBLAS_NUM_THREADS = String(opts.threads);
    env.OMP_NUM_THREADS = String(opts.threads);
  }
  const res = spawnSync('python3', ['-c', script, ...args.map(String)], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env,
    timeout: opts.timeoutMs,
  });
  if (res.error) return { ok: false, reason: `python3 not runnable: ${res.error.message}` };
  if (res.status !== 0) return { ok: false, reason: `python3 failed (${res.status ?? res.signal}): ${res.stderr.trim().split('\n').pop() ?? ''}` };
  const last = res.stdout.trim().split('\n').pop() ?? '';
  try {
    return { ok: true, value: JSON.parse(last) as T };
  } catch {
    return { ok: false, reason: `python3 printed no JSON: ${last.slice(0, 200)}` };
  }
}

let versions: string | undefined;

/** "numpy X, scipy Y (OpenBLAS threads: …)" or why the reference is unavailable; computed once. */
export function pythonVersions(): string {
  versions ??= (() => {
    const r = runPython<{ numpy: string; scipy: string; python: string }>(
      'import json, platform, numpy, scipy; print(json.dumps({"numpy": numpy.__version__, "scipy": scipy.__version__, "python": platform.python_version()}))',
      [],
    );
    if (!r.ok) return `reference unavailable (${r.reason})`;
    const threads = process.env.OPENBLAS_NUM_THREADS ?? 'default';
    return `python ${r.value.python}, numpy ${r.value.numpy}, scipy ${r.value.scipy} (OpenBLAS threads: ${threads})`;
  })();
  return versions;
}
