/**
 * SVG building blocks for the run pages and the CLI's --svg pictures: escaping, scales (linear and log10) and tick
 * choice. Pure functions of plain numbers and strings; no DOM, no I/O.
 */

/** Escapes text for HTML and XML text or attribute values (both quote kinds), so user data renders as text. */
export function escapeXml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number for an SVG attribute: two decimals are far below a pixel. */
export function px(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0';
}

/** A number for people: 4 significant digits, exponent form for very large or small magnitudes, "–" when absent. */
export function fmt(v: number | undefined | null): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

export interface Scale {
  (v: number): number;
  log: boolean;
  domain: [number, number];
  range: [number, number];
}

/** Maps [d0, d1] linearly onto [r0, r1]; a degenerate domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): Scale {
  const f = ((v: number) => (d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) / (d1 - d0)) * (r1 - r0))) as Scale;
  f.log = false;
  f.domain = [d0, d1];
  f.range = [r0, r1];
  return f;
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] linearly in log10 v. */
export function logScale(d0: number, d1: number, r0: number, r1: number): Scale {
  if (!(d0 > 0 && d1 > 0)) throw new RangeError(`logScale: the domain must be positive, got [${d0}, ${d1}]`);
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const f = ((v: number) => (l1 === l0 ? (r0 + r1) / 2 : r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0))) as Scale;
  f.log = true;
  f.domain = [d0, d1];
  f.range = [r0, r1];
  return f;
}

/** Round linear ticks (1, 2, 5 × 10^k steps), about `count` of them, inside [lo, hi]. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** Powers of ten inside [lo, hi] (lo, hi > 0), thinned to at most `max`; the two ends when no power falls inside. */
export function logTicks(lo: number, hi: number, max = 7): number[] {
  const a = Math.ceil(Math.log10(lo) - 1e-9);
  const b = Math.floor(Math.log10(hi) + 1e-9);
  if (b < a) return [lo, hi];
  const every = Math.max(1, Math.ceil((b - a + 1) / max));
  const out: number[] = [];
  for (let e = a; e <= b; e += every) out.push(10 ** e);
  return out;
}

/** [min, max] of the finite values (positive ones only when `positive`), or undefined when none. */
export function extent(values: Iterable<number>, positive = false): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positive && !(v > 0))) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** Widens a log domain to whole decades around the data (a single value gets one decade each side). */
export function padLogDomain([lo, hi]: [number, number]): [number, number] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  return b > a ? [10 ** a, 10 ** b] : [10 ** (a - 1), 10 ** (b + 1)];
}

/** Widens a linear domain by 5 % each side (a single value gets ±1, or ±5 % of itself). */
export function padLinearDomain([lo, hi]: [number, number]): [number, number] {
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * 0.05;
  return [lo - d, hi + d];
}
