/**
 * One row per measured case, the target attached, and the machine-readable `BENCH_JSON {...}` line each
 * bench prints last so bench/run.ts can collect every figure into one table.
 */
import { sig } from './stats.js';

export interface Target {
  /** Which figure the target bounds: the ratio ours/reference, or our own figure. */
  on: 'ratio' | 'ours';
  cmp: '>=' | '<=';
  value: number;
  /** As printed, e.g. "≥ 0.20" or "≤ 1 s". */
  text: string;
}

export interface BenchRow {
  /** gram, eigh, eigvalsh, topk, ingest, latency, rss. */
  case: string;
  /** The parameters, e.g. "N=1024 k=128". */
  size: string;
  /** Our implementation as it ran (backend name, solver). */
  ours: string;
  /** Unit of `value` and `reference`: GF/s, s, MiB/s, MiB. */
  unit: string;
  value: number;
  /** The reference's figure on the same input; NaN when it is unavailable. */
  reference: number;
  referenceName: string;
  /** value / reference (NaN when there is no reference). */
  ratio: number;
  target?: Target;
  note?: string;
}

export interface BenchReport {
  bench: string;
  rows: BenchRow[];
  notes: string[];
}

export const BENCH_JSON_PREFIX = 'BENCH_JSON ';

export function emitReport(report: BenchReport): void {
  console.log(BENCH_JSON_PREFIX + JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

/** true / false when the target applies and could be evaluated, undefined otherwise. */
export function targetMet(row: BenchRow): boolean | undefined {
  const t = row.target;
  if (!t) return undefined;
  const x = t.on === 'ratio' ? row.ratio : row.value;
  if (x === null || !Number.isFinite(x)) return undefined;
  return t.cmp === '>=' ? x >= t.value : x <= t.value;
}

function fmt(x: number | null, digits = 3): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : sig(x, digits);
}

/** A fixed-width text table (GitHub Markdown when `markdown` is set). */
export function formatTable(rows: BenchRow[], markdown = false): string {
  const header = ['case', 'size', 'ours', 'reference', 'unit', 'ratio', 'target', 'met', 'ours vs reference'];
  const numeric = new Set([2, 3, 5]);
  const cells = rows.map((r) => {
    const met = targetMet(r);
    return [
      r.case,
      r.size,
      fmt(r.value),
      fmt(r.reference),
      r.unit,
      fmt(r.ratio),
      r.target?.text ?? '—',
      met === undefined ? '—' : met ? 'yes' : 'NO',
      `${r.ours} vs ${r.referenceName}`,
    ];
  });
  if (markdown) {
    const line = (c: string[]) => `| ${c.join(' | ')} |`;
    return [line(header), line(header.map((_h, i) => (numeric.has(i) ? '---:' : '---'))), ...cells.map(line)].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (numeric.has(i) ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
