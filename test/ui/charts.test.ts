/** The SVG chart functions of src/ui (issue 16): coordinates on log axes, the fitted decay line, escaping. */
import { describe, expect, it } from 'vitest';
import { decayIntercept, decayLine, lossChart, plotChart, plotScales, spectrumChart, spectrumPoints, stackCharts, timelineChart, MAX_DRAWN_POINTS } from '../../src/ui/charts.js';
import { escapeXml, linearScale, logScale, logTicks, linearTicks } from '../../src/ui/svg.js';
import { runListFragment, runPage, runHref, type RunPageData } from '../../src/ui/pages.js';
import { fitDecay } from '../../src/spectrum/powerLaw.js';

/** Every <circle class="pt …"> of an SVG: its pixel position and the data it carries. */
function circles(svg: string, cls = 'pt'): Array<{ cx: number; cy: number; x: number; y: number; cls: string }> {
  return [...svg.matchAll(/<circle class="([^"]*)" cx="([^"]+)" cy="([^"]+)" r="[^"]+" fill="[^"]+" data-x="([^"]+)"(?: data-y="([^"]+)")?/g)]
    .filter((m) => m[1].split(' ').includes(cls))
    .map((m) => ({ cls: m[1], cx: Number(m[2]), cy: Number(m[3]), x: Number(m[4]), y: Number(m[5]) }));
}

describe('scales and ticks', () => {
  it('maps decades to equal distances on a log scale', () => {
    const s = logScale(1, 1000, 0, 300);
    expect(s(1)).toBe(0);
    expect(s(10)).toBeCloseTo(100, 12);
    expect(s(100)).toBeCloseTo(200, 12);
    expect(s(1000)).toBeCloseTo(300, 12);
    expect(s(Math.sqrt(10))).toBeCloseTo(50, 12);
    expect(() => logScale(0, 10, 0, 1)).toThrow(/positive/);
  });
  it('maps linearly and inverts a pixel range (y grows downwards)', () => {
    const s = linearScale(0, 10, 200, 0);
    expect(s(0)).toBe(200);
    expect(s(2.5)).toBe(150);
    expect(s(10)).toBe(0);
  });
  it('chooses round ticks', () => {
    expect(logTicks(0.5, 2000)).toEqual([1, 10, 100, 1000]);
    expect(linearTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
  });
});

describe('spectrum chart (log-log)', () => {
  // λ_i = 100 · i^−1.5, i = 1..40: an exact power law.
  const eig = Float64Array.from({ length: 40 }, (_, i) => 100 * (i + 1) ** -1.5);
  const fit = fitDecay(eig, 2, 40);

  it('places every eigenvalue at its log-log coordinates', () => {
    const svg = spectrumChart([{ kernel: 'full', eigenvalues: eig, decay: { exponent: fit.exponent, r2: fit.r2, lo: 2, hi: 40 } }]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="chart" data-chart="spectrum"/);
    const pts = circles(svg, 'eigen');
    expect(pts).toHaveLength(40);
    const scales = plotScales({ id: 's', title: '', xLabel: '', yLabel: '', xLog: true, yLog: true, series: [{ name: '', points: spectrumPoints(eig), style: 'points', cls: '' }] })!;
    expect(scales.x.log && scales.y.log).toBe(true);
    // Decades are padded out: x from 1 to 100, y from 0.1 (λ_40 = 0.395) to 100.
    expect(scales.x.domain).toEqual([1, 100]);
    expect(scales.y.domain).toEqual([0.1, 100]);
    for (const p of pts) {
      expect(p.y).toBe(eig[p.x - 1]);
      expect(p.cx).toBeCloseTo(scales.x(p.x), 1);
      expect(p.cy).toBeCloseTo(scales.y(p.y), 1);
    }
    // On log-log axes an exact power law is a straight line: equal pixel slopes between any two points.
    const slope = (a: (typeof pts)[number], b: (typeof pts)[number]) => (b.cy - a.cy) / (b.cx - a.cx);
    expect(slope(pts[0], pts[9])).toBeCloseTo(slope(pts[9], pts[39]), 1);
    // λ_1 = 100 sits at the top-left corner's decade lines: x = 1 is the left edge, y = 100 the top edge.
    expect(pts[0].cx).toBeCloseTo(scales.x.range[0], 1);
    expect(pts[0].cy).toBeCloseTo(scales.y.range[1], 1);
  });

  it('draws the sidecar fit (same window and grid) as a line λ = A·i^−s', () => {
    expect(fit.exponent).toBeCloseTo(1.5, 12);
    expect(decayIntercept(eig, { exponent: fit.exponent, r2: fit.r2, lo: 2, hi: 40 })).toBeCloseTo(Math.log(100), 10);
    const line = decayLine({ exponent: 1.5, intercept: Math.log(100), r2: 1, lo: 2, hi: 40 });
    expect(line[0].x).toBe(2);
    expect(line[0].y).toBeCloseTo(100 * 2 ** -1.5, 10);
    expect(line[1].y).toBeCloseTo(100 * 40 ** -1.5, 10);
    const svg = spectrumChart([{ kernel: 'full', eigenvalues: eig, decay: { exponent: fit.exponent, r2: fit.r2, lo: 2, hi: 40 } }]);
    expect(svg).toMatch(/<polyline class="line fit kernel-full"/);
    expect(svg).toContain('s = 1.5');
    // No fit (NaN exponent) → no line, points still drawn.
    const noFit = spectrumChart([{ kernel: 'traced', eigenvalues: [3, 2, 1], decay: { exponent: NaN, r2: NaN, lo: 2, hi: 3 } }]);
    expect(noFit).not.toMatch(/class="line fit/);
    expect(circles(noFit, 'eigen')).toHaveLength(3);
  });

  it('skips non-positive eigenvalues and thins long spectra on a log grid', () => {
    expect(spectrumPoints([5, 0, -1e-12, 2]).map((p) => p.x)).toEqual([1, 4]);
    const long = Float64Array.from({ length: 5000 }, (_, i) => 1 / (i + 1));
    const pts = spectrumPoints(long);
    expect(pts.length).toBeLessThanOrEqual(MAX_DRAWN_POINTS);
    expect(pts[0].x).toBe(1);
    expect(pts[pts.length - 1].x).toBe(5000);
  });

  it('says why it is empty', () => {
    expect(spectrumChart([])).toContain('no kernel snapshot yet');
  });
});

describe('loss chart', () => {
  const observed = Array.from({ length: 50 }, (_, s) => ({ step: s, loss: Math.exp(-s / 10) }));
  it('marks KESS, the kernel prediction and the STOP', () => {
    const svg = lossChart({
      observed,
      prediction: { anchorStep: 40, anchorLoss: Math.exp(-4), valid: true, kess: { K2: 28 }, predictedLossAtKess: Math.exp(-2.8), lossAtHorizon: Math.exp(-4.8), floor: 0.001 },
      stop: { step: 45, reason: 'REASON_KESS_REACHED', enforced: true },
    });
    expect(svg).toMatch(/<g class="stop-marker" data-step="45">/);
    expect(svg).toContain('STOP @ 45');
    expect(svg).toMatch(/<g class="kess-marker" data-step="28">/);
    const predicted = circles(svg, 'predicted');
    expect(predicted.map((p) => p.x)).toEqual([28, 40, 48]); // KESS, anchor, anchor + 0.2·anchor
    expect(svg).toContain('(log)'); // positive losses: log y axis
    const shadow = lossChart({ observed, stop: { step: 45, reason: 'REASON_KESS_REACHED', enforced: false } });
    expect(shadow).toContain('would STOP @ 45');
  });
});

describe('timeline chart', () => {
  it('puts each reason on its own row and marks the first STOP', () => {
    const svg = timelineChart([
      { step: 10, action: 'ACTION_CONTINUE', reason: 'REASON_BEFORE_KESS', detail: 'a', enforced: true },
      { step: 20, action: 'ACTION_CONTINUE', reason: 'REASON_STOP_PENDING', detail: 'b', enforced: true },
      { step: 30, action: 'ACTION_STOP', reason: 'REASON_KESS_REACHED', detail: 'c <b>', enforced: true },
    ]);
    const pts = circles(svg, 'decision');
    expect(pts.map((p) => p.x)).toEqual([10, 20, 30]);
    expect(new Set(pts.map((p) => p.cy)).size).toBe(3);
    expect(pts[0].cx).toBeLessThan(pts[1].cx);
    expect(svg).toMatch(/<g class="stop-marker" data-step="30">/);
    expect(svg).toContain('c &lt;b&gt;');
  });
});

describe('escaping', () => {
  const evil = `<script>alert("x")</script>&'`;
  it('escapes text and attributes', () => {
    expect(escapeXml(evil)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });
  it('never lets a series name, title or run id out as markup', () => {
    const svg = plotChart({ id: evil, title: evil, xLabel: evil, yLabel: evil, series: [{ name: evil, points: [{ x: 1, y: 1 }, { x: 2, y: 3 }], style: 'both', cls: evil }] });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toMatch(/"x"\)/);
    const rows = runListFragment([{ id: evil, jobId: evil, cohort: evil, state: 'active', status: 'RUN_STATUS_RUNNING', step: 1, enforced: true, policy: evil, reason: evil, detail: evil }]);
    expect(rows).not.toContain('<script>');
    expect(rows).toContain(`href="${escapeXml(runHref(evil))}"`);
    expect(runHref(evil)).toBe(`/runs/${encodeURIComponent(evil)}`);
    const data: RunPageData = {
      row: { id: evil, jobId: '', cohort: '', state: 'active', status: 'RUN_STATUS_RUNNING', step: 0, enforced: true, policy: 'default' },
      snapshotsAccepted: 0,
      snapshotsRejected: 0,
      samples: 1,
      outputs: 1,
      backend: evil,
      lastTrainLoss: NaN,
      spectra: [],
      loss: { observed: [] },
      history: [],
      decisions: [{ step: 1, action: 'ACTION_CONTINUE', reason: evil, detail: evil, enforced: true }],
    };
    const html = runPage(data, '0');
    // The page's one script is its own refresh script; the id appears only escaped.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)');
  });
});

describe('stackCharts', () => {
  it('stacks charts into one SVG document', () => {
    const a = spectrumChart([]);
    const b = timelineChart([]);
    const doc = stackCharts([a, b]);
    expect(doc).toMatch(/^<\?xml/);
    expect(doc).toMatch(/<svg x="0" y="0" xmlns/);
    expect(doc).toMatch(/<svg x="0" y="280" xmlns/);
    expect(doc.match(/data-chart=/g)).toHaveLength(2);
  });
});
