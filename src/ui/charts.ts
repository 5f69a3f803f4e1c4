/**
 * The charts of a run, as standalone SVG documents (inlined in the run page, written by `analyze --svg` and
 * `replay --svg`): the eigenvalue spectrum on log-log axes with its fitted decay (docs/science.md A1/A3), the
 * observed loss against the kernel prediction with KESS and the STOP (A9–A12, A14), the decision timeline, and
 * time series (generalisation estimates, drift, alignment). Pure functions of plain data.
 *
 * Every chart is `<svg class="chart" data-chart="<id>">`; data points are `<circle class="pt …" data-x data-y>`,
 * the STOP is `<g class="stop-marker" data-step>`: what a browser test (and a person's eye) can find.
 */
import { fitDecay, logIndexGrid } from '../spectrum/powerLaw.js';
import { escapeXml, extent, fmt, linearScale, linearTicks, logScale, logTicks, padLinearDomain, padLogDomain, px, type Scale } from './svg.js';

export const CHART_WIDTH = 640;
export const CHART_HEIGHT = 280;
const MARGIN = { left: 64, right: 16, top: 44, bottom: 42 };
/** At most this many points of one series are drawn (log-spaced for spectra, evenly strided for curves). */
export const MAX_DRAWN_POINTS = 400;

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const STOP_COLOR = '#d62728';

export interface Point {
  x: number;
  y: number;
}

export interface PlotSeries {
  name: string;
  points: Point[];
  /** 'line' joins the points, 'points' draws markers, 'both' does both. */
  style: 'line' | 'points' | 'both';
  /** CSS class added to the series' elements (e.g. "observed", "fit"). */
  cls: string;
  color?: string;
  dashed?: boolean;
}

export interface VLine {
  x: number;
  label: string;
  cls: string;
  color: string;
}

export interface HLine {
  y: number;
  label: string;
  cls: string;
  color: string;
}

export interface PlotSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: PlotSeries[];
  vlines?: VLine[];
  hlines?: HLine[];
  /** Shown instead of the plot area when no series has a drawable point. */
  empty?: string;
  width?: number;
  height?: number;
  /** Fixed y domain (e.g. [0, 1] for accuracies), widened when the data fall outside it. */
  yDomain?: [number, number];
}

function openSvg(id: string, title: string, width: number, height: number, extra = ''): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(id)}" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11"${extra}>` +
    `<title>${escapeXml(title)}</title><rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="8" y="16" font-size="13" font-weight="bold" fill="#222">${escapeXml(title)}</text>`
  );
}

/** A point is drawable on the axes when finite (and positive on a log axis). */
function drawable(p: Point, xLog: boolean, yLog: boolean): boolean {
  return Number.isFinite(p.x) && Number.isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0);
}

function domainOf(values: number[], log: boolean, fixed?: [number, number]): [number, number] | undefined {
  const e = extent(fixed ? [...values, ...fixed] : values, log);
  if (!e) return fixed;
  if (fixed) return [Math.min(e[0], fixed[0]), Math.max(e[1], fixed[1])];
  return log ? padLogDomain(e) : padLinearDomain(e);
}

/** The plot frame of a spec: scales over the drawable points, vertical and horizontal markers included. */
export function plotScales(spec: PlotSpec): { x: Scale; y: Scale } | undefined {
  const width = spec.width ?? CHART_WIDTH;
  const height = spec.height ?? CHART_HEIGHT;
  const xLog = spec.xLog === true;
  const yLog = spec.yLog === true;
  const pts = spec.series.flatMap((s) => s.points.filter((p) => drawable(p, xLog, yLog)));
  if (pts.length === 0) return undefined;
  const xs = [...pts.map((p) => p.x), ...(spec.vlines ?? []).map((v) => v.x).filter((v) => !xLog || v > 0)];
  const ys = [...pts.map((p) => p.y), ...(spec.hlines ?? []).map((h) => h.y).filter((v) => !yLog || v > 0)];
  const xd = domainOf(xs, xLog)!;
  const yd = domainOf(ys, yLog, spec.yDomain)!;
  const make = (log: boolean) => (log ? logScale : linearScale);
  return {
    x: make(xLog)(xd[0], xd[1], MARGIN.left, width - MARGIN.right),
    y: make(yLog)(yd[0], yd[1], height - MARGIN.bottom, MARGIN.top),
  };
}

function axes(x: Scale, y: Scale, spec: PlotSpec, height: number): string {
  const out: string[] = [];
  const [x0, x1] = x.range;
  const [y0, y1] = y.range;
  const xt = x.log ? logTicks(x.domain[0], x.domain[1]) : linearTicks(x.domain[0], x.domain[1], 6);
  const yt = y.log ? logTicks(y.domain[0], y.domain[1], 6) : linearTicks(y.domain[0], y.domain[1], 5);
  for (const t of xt) {
    const X = px(x(t));
    out.push(`<line class="grid" x1="${X}" x2="${X}" y1="${px(y0)}" y2="${px(y1)}" stroke="#eee"/>`);
    out.push(`<text class="tick" x="${X}" y="${px(y0 + 14)}" text-anchor="middle" fill="#555">${escapeXml(fmt(t))}</text>`);
  }
  for (const t of yt) {
    const Y = px(y(t));
    out.push(`<line class="grid" x1="${px(x0)}" x2="${px(x1)}" y1="${Y}" y2="${Y}" stroke="#eee"/>`);
    out.push(`<text class="tick" x="${px(x0 - 4)}" y="${px(y(t) + 4)}" text-anchor="end" fill="#555">${escapeXml(fmt(t))}</text>`);
  }
  out.push(`<rect x="${px(x0)}" y="${px(y1)}" width="${px(x1 - x0)}" height="${px(y0 - y1)}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${px((x0 + x1) / 2)}" y="${height - 6}" text-anchor="middle" fill="#333">${escapeXml(spec.xLabel)}${x.log ? ' (log)' : ''}</text>`);
  out.push(
    `<text x="14" y="${px((y0 + y1) / 2)}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${px((y0 + y1) / 2)})">${escapeXml(spec.yLabel)}${y.log ? ' (log)' : ''}</text>`,
  );
  return out.join('');
}

/** A marker's label right of its line, or left of it when it would run past the right edge `right`. */
function markerLabel(X: number, Y: number, right: number, label: string, color: string): string {
  const flip = X + 3 + label.length * 6.5 > right;
  return `<text x="${px(flip ? X - 3 : X + 3)}" y="${px(Y)}" text-anchor="${flip ? 'end' : 'start'}" fill="${color}" font-weight="bold">${escapeXml(label)}</text>`;
}

/** One chart: axes, series, markers and a legend, as a standalone SVG document. */
export function plotChart(spec: PlotSpec): string {
  const width = spec.width ?? CHART_WIDTH;
  const height = spec.height ?? CHART_HEIGHT;
  const xLog = spec.xLog === true;
  const yLog = spec.yLog === true;
  const parts = [openSvg(spec.id, spec.title, width, height)];
  const scales = plotScales(spec);
  if (!scales) {
    parts.push(
      `<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#777">${escapeXml(spec.empty ?? 'no data yet')}</text></svg>`,
    );
    return parts.join('');
  }
  const { x, y } = scales;
  parts.push(axes(x, y, spec, height));
  const [x0, x1] = x.range;
  const [y0, y1] = y.range;
  spec.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => drawable(p, xLog, yLog));
    const name = escapeXml(s.name);
    const cls = escapeXml(s.cls);
    parts.push(`<g class="series ${cls}" data-name="${name}">`);
    if ((s.style === 'line' || s.style === 'both') && pts.length > 1) {
      parts.push(
        `<polyline class="line ${cls}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.map((p) => `${px(x(p.x))},${px(y(p.y))}`).join(' ')}"/>`,
      );
    }
    if (s.style === 'points' || s.style === 'both' || pts.length === 1) {
      for (const p of pts) {
        parts.push(
          `<circle class="pt ${cls}" cx="${px(x(p.x))}" cy="${px(y(p.y))}" r="3" fill="${color}" data-x="${p.x}" data-y="${p.y}"><title>${name}: ${escapeXml(fmt(p.x))}, ${escapeXml(fmt(p.y))}</title></circle>`,
        );
      }
    }
    parts.push('</g>');
  });
  for (const h of spec.hlines ?? []) {
    if (yLog && !(h.y > 0)) continue;
    const Y = px(y(h.y));
    parts.push(
      `<g class="${escapeXml(h.cls)}" data-y="${h.y}"><line x1="${px(x0)}" x2="${px(x1)}" y1="${Y}" y2="${Y}" stroke="${h.color}" stroke-dasharray="2 3"/>` +
        `<text x="${px(x1 - 4)}" y="${px(y(h.y) - 4)}" text-anchor="end" fill="${h.color}">${escapeXml(h.label)}</text></g>`,
    );
  }
  for (const v of spec.vlines ?? []) {
    if (xLog && !(v.x > 0)) continue;
    const X = px(x(v.x));
    parts.push(
      `<g class="${escapeXml(v.cls)}" data-step="${v.x}"><line x1="${X}" x2="${X}" y1="${px(y0)}" y2="${px(y1)}" stroke="${v.color}" stroke-width="1.5" stroke-dasharray="4 2"/>` +
        `${markerLabel(x(v.x), y1 + 11, x1, v.label, v.color)}</g>`,
    );
  }
  // Legend, right-aligned along the top.
  let lx = width - MARGIN.right;
  const legend: string[] = [];
  for (let i = spec.series.length - 1; i >= 0; i--) {
    const s = spec.series[i];
    const label = s.name.length > 40 ? `${s.name.slice(0, 39)}…` : s.name;
    const w = 18 + label.length * 6;
    lx -= w;
    const color = s.color ?? COLORS[i % COLORS.length];
    legend.push(
      `<line x1="${px(lx)}" x2="${px(lx + 12)}" y1="30" y2="30" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/>` +
        `<text x="${px(lx + 15)}" y="34" fill="#333">${escapeXml(label)}</text>`,
    );
  }
  parts.push(`<g class="legend">${legend.join('')}</g></svg>`);
  return parts.join('');
}

/** Every k-th point (and the last) so that at most `max` remain. */
export function thin<T>(points: readonly T[], max = MAX_DRAWN_POINTS): T[] {
  if (points.length <= max) return points.slice();
  const k = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % k === 0);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Spectrum (docs/science.md A1, A3)

/** One kernel's spectrum as the sidecar summarised it (KernelSpectrum / SpectrumSummary fields). */
export interface SpectrumInput {
  kernel: string;
  /** Computed eigenvalues, descending (λ_1 first). */
  eigenvalues: ArrayLike<number>;
  /** The A3 fit λ_i ≈ A·i^(−s) on the window [lo, hi] (1-based); ln A = intercept. NaN/absent = no fit. */
  decay: { exponent: number; intercept?: number; r2: number; lo: number; hi: number };
}

/**
 * ln A of the sidecar's decay fit: summarizeSpectrum keeps s, R² and the window but not the intercept, so the same
 * fit (fitDecay on the same window and grid) is run again; undefined when there was no fit.
 */
export function decayIntercept(eigenvalues: ArrayLike<number>, decay: SpectrumInput['decay']): number | undefined {
  if (decay.intercept !== undefined) return decay.intercept;
  const { exponent, lo, hi } = decay;
  if (!Number.isFinite(exponent) || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > eigenvalues.length || hi <= lo) return undefined;
  const fit = fitDecay(eigenvalues, lo, hi);
  return Number.isFinite(fit.intercept) ? fit.intercept : undefined;
}

/** The points of the decay line: λ = e^intercept · i^(−exponent) at i = lo and i = hi; none without a fit. */
export function decayLine(decay: SpectrumInput['decay']): Point[] {
  const { exponent, intercept, lo, hi } = decay;
  if (!Number.isFinite(exponent) || intercept === undefined || !Number.isFinite(intercept) || !(hi > lo) || !(lo >= 1)) return [];
  return [lo, hi].map((i) => ({ x: i, y: Math.exp(intercept - exponent * Math.log(i)) }));
}

/** (i, λ_i) for the positive eigenvalues, at most MAX_DRAWN_POINTS of them on a log-spaced index grid. */
export function spectrumPoints(eigenvalues: ArrayLike<number>): Point[] {
  const n = eigenvalues.length;
  if (n === 0) return [];
  const idx = n <= MAX_DRAWN_POINTS ? Array.from({ length: n }, (_, i) => i + 1) : Array.from(logIndexGrid(1, n, MAX_DRAWN_POINTS));
  return idx.map((i) => ({ x: i, y: eigenvalues[i - 1] })).filter((p) => p.y > 0 && Number.isFinite(p.y));
}

/** Eigenvalue λ_i against the index i on log-log axes, with the fitted decay line over its window. */
export function spectrumChart(spectra: readonly SpectrumInput[], opts: { title?: string; width?: number; height?: number } = {}): string {
  const series: PlotSeries[] = [];
  const fits: string[] = [];
  spectra.forEach((s, i) => {
    const color = COLORS[(2 * i) % COLORS.length];
    series.push({ name: `λ_i (${s.kernel} kernel)`, points: spectrumPoints(s.eigenvalues), style: 'points', cls: `eigen kernel-${s.kernel}`, color });
    const line = decayLine({ ...s.decay, intercept: decayIntercept(s.eigenvalues, s.decay) });
    if (line.length) {
      series.push({ name: `fit s = ${fmt(s.decay.exponent)}, R² = ${fmt(s.decay.r2)}`, points: line, style: 'line', cls: `fit kernel-${s.kernel}`, color: COLORS[(2 * i + 1) % COLORS.length], dashed: true });
      fits.push(`${s.kernel}: s = ${fmt(s.decay.exponent)} on i ∈ [${s.decay.lo}, ${s.decay.hi}]`);
    }
  });
  return plotChart({
    id: 'spectrum',
    title: `${opts.title ?? 'NTK eigenvalue spectrum'}${fits.length ? ` — λ_i ≈ A·i^−s, ${fits.join('; ')}` : ''}`,
    xLabel: 'index i',
    yLabel: 'eigenvalue λ_i',
    xLog: true,
    yLog: true,
    series,
    empty: 'no kernel snapshot yet: the spectrum appears after the first snapshot with a Jacobian, sketch or Gram',
    width: opts.width,
    height: opts.height,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Loss against the kernel prediction (docs/science.md A9–A12, A14)

/** H = 0.2·s_t: the horizon of A14 at which the prediction's lossAtHorizon is taken. */
export const HORIZON_FRACTION = 0.2;

export interface LossChartInput {
  observed: ReadonlyArray<{ step: number; loss: number }>;
  /** The prediction of the latest kernel snapshot (its anchor step and loss), when there is one. */
  prediction?: {
    anchorStep: number;
    anchorLoss: number;
    valid: boolean;
    kess: { K1?: number; K2?: number; K3?: number; K4?: number };
    predictedLossAtKess?: number;
    lossAtHorizon?: number;
    floor?: number;
  };
  /** Where the run stopped (or, in shadow mode, would have): the first STOP. */
  stop?: { step: number; reason: string; enforced: boolean };
  title?: string;
}

/** Observed loss, the kernel-predicted points (anchor → KESS → horizon) and floor, KESS K2 and the STOP. */
export function lossChart(input: LossChartInput, opts: { width?: number; height?: number } = {}): string {
  const observed = thin(input.observed.map((p) => ({ x: p.step, y: p.loss })), 1500);
  const yLog = observed.length > 0 && observed.every((p) => !Number.isFinite(p.y) || p.y > 0);
  const series: PlotSeries[] = [{ name: 'observed loss', points: observed, style: observed.length > 1 ? 'line' : 'points', cls: 'observed', color: COLORS[0] }];
  const vlines: VLine[] = [];
  const hlines: HLine[] = [];
  const p = input.prediction;
  if (p) {
    const predicted: Point[] = [{ x: p.anchorStep, y: p.anchorLoss }];
    const k2 = p.kess.K2;
    if (k2 !== undefined && p.predictedLossAtKess !== undefined) predicted.push({ x: k2, y: p.predictedLossAtKess });
    if (p.lossAtHorizon !== undefined) predicted.push({ x: p.anchorStep * (1 + HORIZON_FRACTION), y: p.lossAtHorizon });
    predicted.sort((a, b) => a.x - b.x);
    if (predicted.length > 1) {
      series.push({ name: `kernel prediction${p.valid ? '' : ' (not trusted)'}`, points: predicted, style: 'both', cls: 'predicted', color: COLORS[1], dashed: true });
    }
    if (k2 !== undefined && Number.isFinite(k2)) vlines.push({ x: k2, label: `KESS K2 = ${fmt(k2)}`, cls: 'kess-marker', color: COLORS[3] });
    if (p.floor !== undefined && Number.isFinite(p.floor)) hlines.push({ y: p.floor, label: `floor L∞ = ${fmt(p.floor)}`, cls: 'floor', color: '#888' });
  }
  if (input.stop) {
    vlines.push({ x: input.stop.step, label: `${input.stop.enforced ? 'STOP' : 'would STOP'} @ ${fmt(input.stop.step)}`, cls: 'stop-marker', color: STOP_COLOR });
  }
  return plotChart({
    id: 'loss',
    title: input.title ?? 'Training loss: observed and kernel-predicted',
    xLabel: 'step',
    yLabel: 'loss',
    yLog,
    series,
    vlines,
    hlines,
    empty: 'no loss reported yet',
    ...opts,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Decision timeline

export interface TimelineDecision {
  step: number;
  action: string;
  reason: string;
  detail: string;
  enforced: boolean;
}

const ACTION_COLORS: Record<string, string> = { ACTION_CONTINUE: '#2ca02c', ACTION_STOP: STOP_COLOR };

/**
 * At most `max` decisions for drawing: every change of action or reason and the first STOP are kept, the runs of
 * identical decisions between them are strided.
 */
export function thinDecisions(decisions: readonly TimelineDecision[], max = MAX_DRAWN_POINTS): TimelineDecision[] {
  if (decisions.length <= max) return decisions.slice();
  const key = (d: TimelineDecision) => `${d.action} ${d.reason}`;
  const stop = decisions.find((d) => d.action === 'ACTION_STOP');
  const changes = new Set(decisions.filter((d, i) => i === 0 || key(d) !== key(decisions[i - 1]) || d === stop));
  const k = Math.ceil(decisions.length / Math.max(1, max - changes.size));
  return decisions.filter((d, i) => changes.has(d) || i % k === 0 || i === decisions.length - 1);
}

/** One row per reason, one marker per decision (coloured by action), and the first STOP marked. */
export function timelineChart(all: readonly TimelineDecision[], opts: { width?: number; title?: string } = {}): string {
  const decisions = thinDecisions(all);
  const width = opts.width ?? CHART_WIDTH;
  const title = opts.title ?? 'Decisions';
  const reasons = [...new Set(decisions.map((d) => d.reason))];
  const rowH = 20;
  const left = 190;
  const height = MARGIN.top + Math.max(1, reasons.length) * rowH + MARGIN.bottom;
  const parts = [openSvg('timeline', title, width, height)];
  if (decisions.length === 0) {
    parts.push(`<text class="empty" x="${width / 2}" y="${px(height / 2 + 6)}" text-anchor="middle" fill="#777">no decision yet: the first is made after the first accepted snapshot</text></svg>`);
    return parts.join('');
  }
  const steps = decisions.map((d) => d.step);
  const [lo, hi] = padLinearDomain(extent(steps) ?? [0, 1]);
  const x = linearScale(lo, hi, left, width - MARGIN.right);
  const y0 = height - MARGIN.bottom;
  const rowY = (r: string) => MARGIN.top + (reasons.indexOf(r) + 0.5) * rowH;
  for (const t of linearTicks(lo, hi, 6)) {
    const X = px(x(t));
    parts.push(`<line class="grid" x1="${X}" x2="${X}" y1="${MARGIN.top}" y2="${y0}" stroke="#eee"/><text class="tick" x="${X}" y="${y0 + 14}" text-anchor="middle" fill="#555">${escapeXml(fmt(t))}</text>`);
  }
  for (const r of reasons) {
    parts.push(`<text class="reason-label" x="${left - 6}" y="${px(rowY(r) + 4)}" text-anchor="end" fill="#333">${escapeXml(r.replace(/^REASON_/, ''))}</text>`);
  }
  parts.push(`<rect x="${left}" y="${MARGIN.top}" width="${width - MARGIN.right - left}" height="${y0 - MARGIN.top}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${px((left + width - MARGIN.right) / 2)}" y="${height - 6}" text-anchor="middle" fill="#333">step</text>`);
  for (const d of decisions) {
    const color = ACTION_COLORS[d.action] ?? '#ff7f0e';
    parts.push(
      `<circle class="pt decision ${escapeXml(d.action)}" cx="${px(x(d.step))}" cy="${px(rowY(d.reason))}" r="4" fill="${color}" data-x="${d.step}" data-reason="${escapeXml(d.reason)}">` +
        `<title>step ${escapeXml(fmt(d.step))}: ${escapeXml(d.action)} ${escapeXml(d.reason)}${d.enforced ? '' : ' (shadow)'} — ${escapeXml(d.detail)}</title></circle>`,
    );
  }
  const stop = all.find((d) => d.action === 'ACTION_STOP');
  if (stop) {
    const X = px(x(stop.step));
    parts.push(
      `<g class="stop-marker" data-step="${stop.step}"><line x1="${X}" x2="${X}" y1="${MARGIN.top}" y2="${y0}" stroke="${STOP_COLOR}" stroke-width="1.5" stroke-dasharray="4 2"/>` +
        `${markerLabel(x(stop.step), MARGIN.top - 4, width - MARGIN.right, `${stop.enforced ? 'STOP' : 'would STOP'} @ ${fmt(stop.step)}`, STOP_COLOR)}</g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Time series and composition

/** Several named series over steps (absent values are gaps, not zeros). */
export function timeSeriesChart(
  id: string,
  title: string,
  yLabel: string,
  series: ReadonlyArray<{ name: string; points: Array<{ step: number; value: number | undefined }> }>,
  opts: { yDomain?: [number, number]; yLog?: boolean; empty?: string; width?: number; height?: number } = {},
): string {
  return plotChart({
    id,
    title,
    xLabel: 'step',
    yLabel,
    yLog: opts.yLog,
    yDomain: opts.yDomain,
    series: series.map((s) => ({
      name: s.name,
      points: s.points.flatMap((p) => (p.value === undefined || !Number.isFinite(p.value) ? [] : [{ x: p.step, y: p.value }])),
      style: 'both' as const,
      cls: s.name.replace(/[^A-Za-z0-9_-]/g, '_'),
    })),
    empty: opts.empty ?? 'no kernel snapshot with these estimates yet',
    width: opts.width,
    height: opts.height,
  });
}

/** Stacks standalone chart SVGs vertically into one SVG document (for the --svg files). */
export function stackCharts(charts: readonly string[]): string {
  let y = 0;
  let width = 0;
  const inner: string[] = [];
  for (const c of charts) {
    const m = /^<svg [^>]*?width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(c);
    if (!m) throw new Error('stackCharts: not a chart made by src/ui/charts');
    inner.push(c.replace(/^<svg /, `<svg x="0" y="${y}" `));
    y += Number(m[2]);
    width = Math.max(width, Number(m[1]));
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">${inner.join('')}</svg>\n`;
}
