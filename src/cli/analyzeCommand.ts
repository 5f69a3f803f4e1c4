/**
 * `ntk-sidecar analyze FILE.npy` (docs/design.md §4): one-shot spectrum analysis of a saved Jacobian, sketch
 * or Gram, for people who want the numbers without a trainer. Builds K = J Jᵀ (docs/science.md A0) through the
 * kernel module, then prints the spectrum summary of docs/science.md A1–A4.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BACKEND_KINDS, KERNEL_REDUCTIONS, createGramBackend, KernelAccumulator, traceKernel, type BackendKind, type KernelReduction as Reduction } from '../kernel/index.js';
import { DEFAULT_EXACT_MAX } from '../spectrum/summarizeSpectrum.js';
import { analyzeKernelSnapshot } from '../analysis/analyzeKernelSnapshot.js';
import { sourceEpsilon } from '../kernel/sourceEpsilon.js';
import type { SpectrumSummary } from '../spectrum/index.js';
import { parseNpy } from './npy.js';
import type { NpyArray } from './npy.js';
import { spectrumChart, stackCharts } from '../ui/charts.js';

const HELP = `Usage: ntk-sidecar analyze FILE.npy [options]

One-shot NTK spectrum of a saved array (numpy.save; float16/32/64, any byte order, C or Fortran order):
  an N×P Jacobian J or sketch Z = JΩ (rows sample-major: row i·C + c), giving K = J Jᵀ;
  an n×C×P Jacobian (reshaped to N×P, N = n·C); or an N×N (or traced n×n) Gram matrix K.

Options:
  --kind auto|jacobian|sketch|gram   what FILE holds (default auto: a square array symmetric to 1e-8
                                     relative (1e-5 for float32/16 files) is a Gram, anything else a Jacobian)
  --samples n                        probe samples n (default: rows / C)
  --outputs C                        outputs per sample C (default 1, or rows / n)
  --reduction full|trace             full N×N kernel, or the traced n×n kernel K̄ = (1/C) Σ_c K[(i,c),(j,c)]
                                     (neural-tangents trace_axes; docs/science.md A1) (default full)
  --backend auto|wasm|gpujs|reference
                                     Gram backend for Jacobians (default auto: WebAssembly SIMD in float64 on a
                                     CPU, gpu.js where it reaches a GPU; reference is the plain float64 oracle)
  --eps-src x                        relative precision of the source (docs/science.md A0; default 0 for float64,
                                     1e-6 for float32, 1e-3 for float16; use 1e-3 for TF32/bf16-computed Grams)
  --top k                            eigenvalues to list (default 20)
  --json                             print one JSON object instead of the report (NaN/∞ → null)
  --svg OUT.svg                      also write the spectrum picture (log-log, with the fitted decay): the
                                     chart of the sidecar's run page
  -h, --help                         this help

Exit codes: 0 ok, 1 analysis failed, 2 bad arguments or input file.
`;

/** An input or usage problem: reported with what to do and exit code 2. */
class InputError extends Error {}

type Kind = 'jacobian' | 'sketch' | 'gram';

interface AnalyzeOptions {
  file: string;
  kind: 'auto' | Kind;
  samples?: number;
  outputs?: number;
  reduction?: Reduction;
  backend: BackendKind;
  epsSrc?: number;
  top: number;
  json: boolean;
  svg?: string;
}

/** Columns per block fed to the accumulator: ≤ 4096 and ≤ ~4M values, so one block stays ≤ 32 MB. */
const BLOCK_COLS = 4096;
const BLOCK_VALUES = 1 << 22;
/** Flops (N²·P) above which the float64 reference takes minutes at ~1 GFLOP/s (docs/science.md A0). */
const SLOW_FLOPS = 1e10;

export async function analyzeCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let opts: AnalyzeOptions | 'help';
  try {
    opts = parseAnalyzeArgs(args);
  } catch (e) {
    err.write(`ntk-sidecar analyze: ${message(e)}\nRun 'ntk-sidecar analyze --help' for the options.\n`);
    return 2;
  }
  if (opts === 'help') {
    out.write(HELP);
    return 0;
  }
  try {
    const report = await analyze(opts, err);
    out.write(opts.json ? `${JSON.stringify(toJson(report, opts.top), null, 2)}\n` : formatReport(report, opts.top));
    if (opts.svg) {
      const s = report.summary;
      const kernel = report.reduction === 'trace' || report.tracedInput ? 'traced' : 'full';
      try {
        writeFileSync(opts.svg, stackCharts([spectrumChart([{ kernel, eigenvalues: s.eigenvalues, decay: s.decay }], { title: `${report.file} (${kernel} kernel, N = ${s.size})` })]));
      } catch (e) {
        throw new InputError(`cannot write --svg ${opts.svg}: ${message(e)}`);
      }
      err.write(`spectrum picture written to ${opts.svg}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      err.write(`ntk-sidecar analyze: ${e.message}\n`);
      return 2;
    }
    err.write(`ntk-sidecar analyze: analysis failed: ${message(e)}\n`);
    return 1;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseAnalyzeArgs(args: string[]): AnalyzeOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      kind: { type: 'string', default: 'auto' },
      samples: { type: 'string' },
      outputs: { type: 'string' },
      reduction: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      'eps-src': { type: 'string' },
      top: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      svg: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new Error(
      positionals.length === 0
        ? 'missing FILE: give the path to a .npy file (numpy.save) holding a Jacobian, sketch or Gram'
        : `expected one FILE, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const oneOf = <T extends string>(name: string, v: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name} must be one of ${allowed.join('|')}, got '${v}'`);
    return v as T;
  };
  const positiveInt = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
    return x;
  };
  let epsSrc: number | undefined;
  if (values['eps-src'] !== undefined) {
    epsSrc = Number(values['eps-src']);
    if (!Number.isFinite(epsSrc) || epsSrc < 0 || epsSrc >= 1) {
      throw new Error(`--eps-src must be a number in [0, 1), got '${values['eps-src']}'`);
    }
  }
  return {
    file: positionals[0],
    kind: oneOf('kind', values.kind, ['auto', 'jacobian', 'sketch', 'gram'] as const),
    samples: positiveInt('samples', values.samples),
    outputs: positiveInt('outputs', values.outputs),
    reduction: values.reduction === undefined ? undefined : oneOf('reduction', values.reduction, KERNEL_REDUCTIONS),
    backend: oneOf('backend', values.backend, BACKEND_KINDS),
    epsSrc,
    top: positiveInt('top', values.top) ?? 20,
    json: values.json,
    svg: values.svg,
  };
}

interface Report {
  file: string;
  descr: string;
  dtype: NpyArray['dtype'];
  shape: number[];
  kind: Kind;
  kindReason: string;
  samples: number;
  outputs: number;
  reduction: Reduction;
  /** Gram input that already was the traced n×n kernel. */
  tracedInput: boolean;
  /** Columns of the Jacobian/sketch (P or m); 0 for a Gram. */
  columns: number;
  backend: string;
  /** Why --backend auto fell back to the reference, when it did. */
  backendNote?: string;
  epsSrc: number;
  /** max |K − Kᵀ| / max |K| of a Gram input before symmetrization; 0 for Jacobians. */
  asymmetry: number;
  kernelSeconds: number;
  spectrumSeconds: number;
  summary: SpectrumSummary;
}

async function analyze(opts: AnalyzeOptions, err: NodeJS.WritableStream): Promise<Report> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(opts.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `cannot read ${opts.file}: no such file; give the path to a .npy file saved with numpy.save`
        : `cannot read ${opts.file}: ${message(e)}`,
    );
  }
  let arr: NpyArray;
  try {
    arr = parseNpy(bytes);
  } catch (e) {
    throw new InputError(`${opts.file}: ${message(e)}`);
  }
  const { shape, data } = arr;
  const shapeText = `(${shape.join(', ')})`;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new InputError(
      `${opts.file}: expected a 2-D array (N×P Jacobian/sketch or N×N Gram) or an n×C×P Jacobian, got shape ${shapeText}` +
        (shape.length === 1 ? '; reshape a single Jacobian column to (N, 1)' : ''),
    );
  }
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    throw new InputError(
      `${opts.file}: value ${data[bad]} at flat index ${bad} (row ${Math.floor(bad / shape[shape.length - 1])}) is not finite; ` +
        'a NaN/Inf kernel has no spectrum (a diverged run or a corrupt file)',
    );
  }
  if (shape.some((d) => d === 0)) throw new InputError(`${opts.file}: empty array, shape ${shapeText}`);

  // What the file holds.
  let kind: Kind;
  let kindReason: string;
  let asymmetry = 0;
  const square = shape.length === 2 && shape[0] === shape[1];
  if (square) asymmetry = relativeAsymmetry(data, shape[0]);
  // float32/16 Grams from GPU matmuls are symmetric only to rounding (~1e-7 relative), not to 1e-8.
  const symTol = arr.dtype === 'float64' ? 1e-8 : 1e-5;
  if (opts.kind === 'auto') {
    if (square && asymmetry <= symTol) {
      kind = 'gram';
      kindReason = `auto: square and symmetric (max |K−Kᵀ|/max |K| = ${fmt(asymmetry)} ≤ ${symTol})`;
    } else {
      kind = 'jacobian';
      kindReason = square
        ? `auto: square but not symmetric (${fmt(asymmetry)} > ${symTol}); pass --kind gram if it is a Gram`
        : 'auto: not square';
    }
  } else {
    kind = opts.kind;
    kindReason = 'given';
  }
  if (kind === 'gram' && !square) {
    throw new InputError(`${opts.file}: --kind gram needs a square 2-D array, got shape ${shapeText}`);
  }

  // Rows → (n, C). Rows are sample-major: row i·C + c (docs/science.md §0).
  const rows = shape[0];
  let samples: number;
  let outputs: number;
  let tracedInput = false;
  if (shape.length === 3) {
    if (kind === 'gram') throw new InputError(`${opts.file}: a Gram must be 2-D, got shape ${shapeText}`);
    samples = shape[0];
    outputs = shape[1];
    if ((opts.samples ?? samples) !== samples || (opts.outputs ?? outputs) !== outputs) {
      throw new InputError(
        `${opts.file}: shape ${shapeText} is n = ${samples} samples × C = ${outputs} outputs × P, ` +
          `but --samples ${opts.samples ?? samples} --outputs ${opts.outputs ?? outputs} were given`,
      );
    }
  } else if (opts.samples !== undefined && opts.outputs !== undefined) {
    samples = opts.samples;
    outputs = opts.outputs;
    if (kind === 'gram' && rows === samples && outputs > 1) {
      tracedInput = true; // an n×n Gram with C > 1: already the traced kernel K̄
    } else if (samples * outputs !== rows) {
      throw new InputError(
        `${opts.file}: ${rows} rows do not match --samples ${samples} × --outputs ${outputs} = ${samples * outputs}` +
          (kind === 'gram' ? ' (a Gram must be N×N with N = n·C, or the traced n×n)' : '') +
          '; fix --samples/--outputs',
      );
    }
  } else if (opts.outputs !== undefined) {
    outputs = opts.outputs;
    if (rows % outputs !== 0) {
      throw new InputError(
        `${opts.file}: ${rows} rows are not a multiple of --outputs ${outputs} (rows must be n·C, sample-major)` +
          (kind === 'gram' ? '; for an already traced n×n Gram pass --samples n as well' : ''),
      );
    }
    samples = rows / outputs;
  } else if (opts.samples !== undefined) {
    samples = opts.samples;
    if (rows % samples !== 0) {
      throw new InputError(`${opts.file}: ${rows} rows are not a multiple of --samples ${samples} (rows must be n·C)`);
    }
    outputs = rows / samples;
  } else {
    samples = rows;
    outputs = 1;
  }
  let reduction: Reduction = opts.reduction ?? 'full';
  if (tracedInput) {
    if (opts.reduction === 'full') {
      throw new InputError(
        `${opts.file}: the Gram is ${rows}×${rows} = n×n with C = ${outputs}, i.e. already traced; ` +
          `--reduction full needs the N×N = ${rows * outputs}×${rows * outputs} kernel`,
      );
    }
    reduction = 'trace';
  }

  const t0 = performance.now();
  let k: Float64Array;
  let size: number;
  let backendName = 'none (Gram input)';
  let backendNote: string | undefined;
  let columns = 0;
  if (kind === 'gram') {
    size = rows;
    k = symmetrized(data, rows);
    if (reduction === 'trace' && !tracedInput && outputs > 1) {
      k = traceKernel(k, samples, outputs);
      size = samples;
    }
  } else {
    const n = samples * outputs;
    columns = shape[shape.length - 1];
    if (opts.backend === 'reference' && n * n * columns > SLOW_FLOPS) {
      err.write(`note: N²·P = ${fmt(n * n * columns)} flops on the float64 reference backend may take minutes; --backend auto is several times faster\n`);
    }
    const backend = await createGramBackend(opts.backend);
    try {
      backendName = backend.name;
      backendNote = backend.fallbackReason;
      const acc = new KernelAccumulator(backend, samples, outputs, reduction);
      const width = Math.max(1, Math.min(BLOCK_COLS, Math.floor(BLOCK_VALUES / n)));
      for (let c0 = 0; c0 < columns; c0 += width) {
        const w = Math.min(width, columns - c0);
        await acc.addColumnBlock(columnBlock(data, n, columns, c0, w), w);
      }
      k = acc.finish();
      size = acc.size;
    } finally {
      backend.dispose();
    }
  }
  const effectiveEps = opts.epsSrc ?? sourceEpsilon(arr.dtype === 'float64' ? 'f64' : arr.dtype === 'float32' ? 'f32' : 'f16', kind === 'gram' ? undefined : backendName);
  const t1 = performance.now();
  // The same analysis as the server's worker (spectra only: a file has no run to give dynamics context).
  const [summary] = analyzeKernelSnapshot(
    {
      kernel: k,
      size,
      samples,
      outputs,
      reduction,
      source: kind,
      epsSrc: effectiveEps,
      exactMax: DEFAULT_EXACT_MAX,
      topK: Math.max(opts.top, 64),
    },
    {},
  ).spectra;
  const t2 = performance.now();
  return {
    file: opts.file,
    descr: arr.descr,
    dtype: arr.dtype,
    shape,
    kind,
    kindReason,
    samples,
    outputs,
    reduction,
    tracedInput,
    columns,
    backend: backendName,
    backendNote,
    epsSrc: effectiveEps,
    asymmetry,
    kernelSeconds: (t1 - t0) / 1000,
    spectrumSeconds: (t2 - t1) / 1000,
    summary,
  };
}

function firstNonFinite(data: Float64Array | Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** max |a_ij − a_ji| / max |a_ij| (0 for the zero matrix). */
function relativeAsymmetry(a: Float64Array | Float32Array, n: number): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = Math.abs(a[i * n + j]);
      if (v > scale) scale = v;
      if (j < i) diff = Math.max(diff, Math.abs(a[i * n + j] - a[j * n + i]));
    }
  }
  return scale === 0 ? 0 : diff / scale;
}

/** float64 copy of K with K ← (K + Kᵀ)/2 (docs/science.md A0). */
function symmetrized(a: Float64Array | Float32Array, n: number): Float64Array {
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = a[i * n + i];
    for (let j = 0; j < i; j++) {
      const v = (a[i * n + j] + a[j * n + i]) / 2;
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  return k;
}

/** Columns [c0, c0 + w) of the row-major rows×cols array as a rows×w row-major block of the same type. */
function columnBlock(
  data: Float64Array | Float32Array,
  rows: number,
  cols: number,
  c0: number,
  w: number,
): Float64Array | Float32Array {
  if (c0 === 0 && w === cols) return data;
  const block = data instanceof Float64Array ? new Float64Array(rows * w) : new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) block.set(data.subarray(r * cols + c0, r * cols + c0 + w), r * w);
  return block;
}

// ---------------------------------------------------------------------------------------------------
// Output

/** Numbers for a person: 6 significant digits, exponent form outside [1e-3, 1e6). */
function fmt(x: number): string {
  if (Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(4).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(6)));
}

function formatReport(r: Report, top: number): string {
  const s = r.summary;
  const lines: string[] = [];
  const n = r.samples;
  const N = n * r.outputs;
  const kernelName = r.reduction === 'trace' && r.outputs > 1 ? 'K̄ (traced over outputs)' : 'K';
  lines.push(`ntk-sidecar analyze ${r.file}`);
  lines.push(`  input        ${r.dtype} (${r.descr}), shape ${r.shape.join(' × ')}, ${r.kind} [${r.kindReason}]`);
  let source: string;
  if (r.kind !== 'gram') source = `${r.kind === 'sketch' ? 'Z Zᵀ' : 'J Jᵀ'} over ${r.columns} columns, backend ${r.backend}`;
  else if (r.tracedInput) source = 'traced Gram as given (symmetrized)';
  else if (r.reduction === 'trace' && r.outputs > 1) source = 'Gram traced to n×n';
  else source = 'Gram as given (symmetrized)';
  lines.push(
    `  kernel       ${kernelName}, ${s.size} × ${s.size}: ${source}; n = ${n} samples, C = ${r.outputs} outputs (N = ${N}); ` +
      `${fmt(r.kernelSeconds)} s`,
  );
  if (r.backendNote) lines.push(`  note         --backend auto fell back to the reference: ${r.backendNote}`);
  const solver =
    s.solver === 'exact'
      ? `exact, all ${s.computedPairs} eigenvalues`
      : `Lanczos, top ${s.computedPairs} eigenvalues, max residual ‖Kv−λv‖/λ_1 = ${fmt(s.maxResidual)}` +
        (s.lanczos && !s.lanczos.converged ? ' (NOT converged)' : '');
  lines.push(`  solver       ${solver}; ${fmt(r.spectrumSeconds)} s`);
  lines.push(`  trace        tr = ${fmt(s.trace)}, tr/size = ${fmt(s.tracePerOutput)}, ‖·‖_F = ${fmt(s.frobenius)}`);
  lines.push(`  lambda_max   λ_1 = ${fmt(s.lambdaMax)}, λ_1/n = ${fmt(s.lambdaMax / n)}`);
  const shown = Math.min(top, s.eigenvalues.length);
  lines.push(`  top ${shown} eigenvalues (raw, /n):`);
  for (let i = 0; i < shown; i++) {
    const raw = s.eigenvalues[i].toExponential(6).padStart(14);
    const scaled = s.operatorEigenvalues[i].toExponential(6).padStart(14);
    lines.push(`    ${String(i + 1).padStart(5)}  ${raw}  ${scaled}`);
  }
  const tol = `tolerance ${fmt(s.tolerance)} = λ_1·max(size·2⁻⁵², ε_src = ${fmt(r.epsSrc)})`;
  lines.push(
    Number.isNaN(s.numericalRank)
      ? `  rank         numerical rank > ${s.computedPairs} (no computed eigenvalue below the ${tol})`
      : `  rank         numerical rank ${s.numericalRank} of ${s.size}, deficiency ${s.rankDeficiency} (${tol})`,
  );
  lines.push(`  condition    κ₊ = λ_1/λ_r = ${fmt(s.conditionPos)}, κ_δ = ${fmt(s.conditionReg)} (δ = 1e-6·tr/size)`);
  const d = s.decay;
  const fit = Number.isNaN(d.exponent)
    ? `not fitted: window [${d.lo}, ${d.hi}] has fewer than 10 grid points`
    : `s = ${fmt(d.exponent)} on i ∈ [${d.lo}, ${d.hi}] (${d.points} log-spaced points), R² = ${fmt(d.r2)}, ` +
      `max |log residual| = ${fmt(d.maxAbsResidual)}, fit ${d.r2 >= 0.95 ? 'ok' : 'poor'} (R² ≥ 0.95)`;
  lines.push(`  decay        λ_i ≈ A·i^(−s): ${fit}`);
  lines.push(
    `  ESD          α = ${fmt(s.esd.alpha)} (KS D = ${fmt(s.esd.ks)}, x_min = ${fmt(s.esd.xmin)}); ` +
      `a power law λ_i ∝ i^(−s) has α = 1 + 1/s`,
  );
  lines.push(
    `  eff. rank    entropy ${fmt(s.effectiveRank.entropy)}, participation ${fmt(s.effectiveRank.participation)}, ` +
      `stable ${fmt(s.effectiveRank.stable)}`,
  );
  if (r.kind === 'sketch') {
    lines.push(
      `  sketch       m = ${r.columns}: relative Frobenius error of Z Zᵀ vs K ≈ √((PR+1)/m) = ${fmt(sketchError(r))}`,
    );
  }
  if (r.kind === 'gram' && r.asymmetry > 0) {
    lines.push(`  note         input Gram asymmetry max |K−Kᵀ|/max |K| = ${fmt(r.asymmetry)}; symmetrized`);
  }
  return `${lines.join('\n')}\n`;
}

/** docs/science.md A0: relative Frobenius error of a Gaussian sketch Z Zᵀ ≈ √((PR + 1)/m). */
function sketchError(r: Report): number {
  return Math.sqrt((r.summary.effectiveRank.participation + 1) / r.columns);
}

function toJson(r: Report, top: number): Record<string, unknown> {
  const s = r.summary;
  const k = Math.min(top, s.eigenvalues.length);
  const json: Record<string, unknown> = {
    file: r.file,
    descr: r.descr,
    dtype: r.dtype,
    shape: r.shape,
    kind: r.kind,
    samples: r.samples,
    outputs: r.outputs,
    reduction: r.reduction,
    tracedInput: r.tracedInput,
    columns: r.columns,
    backend: r.backend,
    backendNote: r.backendNote ?? null,
    epsSrc: r.epsSrc,
    size: s.size,
    solver: s.solver,
    computedPairs: s.computedPairs,
    trace: s.trace,
    tracePerOutput: s.tracePerOutput,
    frobenius: s.frobenius,
    lambdaMax: s.lambdaMax,
    lambdaMaxOverN: s.lambdaMax / r.samples,
    eigenvalues: Array.from(s.eigenvalues.subarray(0, k)),
    eigenvaluesOverN: Array.from(s.operatorEigenvalues.subarray(0, k)),
    tolerance: s.tolerance,
    numericalRank: s.numericalRank,
    rankDeficiency: s.rankDeficiency,
    conditionPos: s.conditionPos,
    conditionReg: s.conditionReg,
    decay: { ...s.decay, fitOk: s.decay.r2 >= 0.95 },
    esd: s.esd,
    effectiveRank: s.effectiveRank,
    maxResidual: s.maxResidual,
    lanczos: s.lanczos ?? null,
    asymmetry: r.asymmetry,
    kernelSeconds: r.kernelSeconds,
    spectrumSeconds: r.spectrumSeconds,
  };
  if (r.kind === 'sketch') json.sketchRelError = sketchError(r);
  // JSON.stringify writes NaN and ±∞ as null.
  return json;
}
