/**
 * The sidecar's own pages (issue 16), served on the metrics port: `GET /` lists the runs, `GET /runs/{id}` shows
 * one run with its charts. Server-rendered HTML with inline SVG, readable without JavaScript; a small inline
 * script re-fetches the live part (`?fragment=1`) every few seconds. Every user-supplied string goes through
 * escapeXml. Pure functions of plain data (src/ui/runView.ts builds that data from the run table).
 */
import { lossChart, spectrumChart, timelineChart, timeSeriesChart, type LossChartInput, type SpectrumInput, type TimelineDecision } from './charts.js';
import { escapeXml, fmt } from './svg.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';

/** Seconds between the page's re-fetches of its live fragment. */
export const REFRESH_SECONDS = 3;

/** One row of the run list: the labels the metrics use (run_id, job_id, cohort) and the decision state. */
export interface RunRow {
  id: string;
  jobId: string;
  cohort: string;
  state: string;
  status: string;
  step: number;
  /** Latest decision (Decision.action / reason / detail), absent before the first. */
  action?: string;
  reason?: string;
  detail?: string;
  enforced: boolean;
  /** A13 regime of the latest kernel snapshot (lazy, rich, catapult, …). */
  regime?: string;
  policy: string;
}

export interface RunPageData {
  row: RunRow;
  snapshotsAccepted: number;
  snapshotsRejected: number;
  samples: number;
  outputs: number;
  backend: string;
  lastTrainLoss: number;
  spectra: SpectrumInput[];
  loss: LossChartInput;
  /** Diagnostics of the kernel snapshots kept for the run, oldest first. */
  history: SnapshotDiagnostics[];
  decisions: TimelineDecision[];
  /** Shadow-mode savings: where STOP latched without being enforced and what has been spent since. */
  shadow?: { wouldStopStep: number; stepsAfter: number; computeAfter: number };
}

/** The client-side refresh: replaces #live with the fragment of the same URL; the page works without it. */
export const REFRESH_SCRIPT = `(function(){var live=document.getElementById('live');if(!live||!window.fetch)return;var u=new URL(location.href);u.searchParams.set('fragment','1');setInterval(function(){fetch(u,{cache:'no-store',credentials:'same-origin'}).then(function(r){return r.ok?r.text():null}).then(function(t){if(t!==null){live.innerHTML=t;live.setAttribute('data-refreshed',String(Date.now()))}}).catch(function(){})},${REFRESH_SECONDS * 1000})})();`;

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.2em 2em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;font-size:.9em}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.STOP,.ACTION_STOP{color:#d62728;font-weight:bold}.ACTION_CONTINUE{color:#2ca02c}.muted{color:#777}td>.muted:only-child{white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}.chart{border:1px solid #ddd;max-width:100%;height:auto}code{font-size:.95em}`;

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>${body}<script>${REFRESH_SCRIPT}</script></body></html>\n`
  );
}

/** The path of a run's page: its id percent-encoded as one path segment. */
export function runHref(id: string): string {
  return `/runs/${encodeURIComponent(id)}`;
}

function actionCell(row: RunRow): string {
  if (!row.action) return '<span class="muted">no decision yet</span>';
  const short = row.action.replace(/^ACTION_/, '');
  return `<span class="${escapeXml(row.action)}">${escapeXml(short)}</span>${row.enforced ? '' : ' <span class="muted">(shadow)</span>'}`;
}

/** The live part of `GET /`: the run table. */
export function runListFragment(rows: readonly RunRow[]): string {
  if (rows.length === 0) return '<p class="muted" id="no-runs">No runs yet: a trainer attaches with RunStart (see the README).</p>';
  const body = rows
    .map(
      (r) =>
        `<tr class="run" data-run-id="${escapeXml(r.id)}"><td><a href="${escapeXml(runHref(r.id))}">${escapeXml(r.id)}</a></td>` +
        `<td>${escapeXml(r.jobId)}</td><td>${escapeXml(r.cohort)}</td><td>${escapeXml(r.state)}</td><td>${escapeXml(fmt(r.step))}</td>` +
        `<td>${actionCell(r)}</td><td>${escapeXml(r.reason ?? '')}<div class="muted">${escapeXml(r.detail ?? '')}</div></td>` +
        `<td>${escapeXml(r.regime ?? '')}</td><td>${escapeXml(r.policy)}</td></tr>`,
    )
    .join('');
  return (
    `<p>${rows.length} run(s).</p><table id="runs"><thead><tr><th>run_id</th><th>job_id</th><th>cohort</th><th>state</th><th>step</th>` +
    `<th>decision</th><th>reason</th><th>regime</th><th>policy</th></tr></thead><tbody>${body}</tbody></table>`
  );
}

/** `GET /`: every run the sidecar holds. */
export function runListPage(rows: readonly RunRow[], version: string): string {
  return page(
    'ntk-sidecar runs',
    `<h1>ntk-sidecar runs</h1><p class="muted">ntk-sidecar ${escapeXml(version)} · updates every ${REFRESH_SECONDS} s · <a href="/metrics">/metrics</a></p>` +
      `<div id="live">${runListFragment(rows)}</div>`,
  );
}

function kv(rows: Array<[string, string]>): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function generalizationChart(history: readonly SnapshotDiagnostics[]): string {
  const keys = [
    ['looAccuracy', 'LOO accuracy'],
    ['evalAccuracy', 'eval accuracy'],
    ['coherence', 'coherence'],
    ['evalChanged', 'eval predictions changed'],
  ] as const;
  return timeSeriesChart(
    'generalization',
    'Generalisation estimates (validation-free, docs/generalization.md G1–G4)',
    'fraction',
    keys.map(([key, name]) => ({ name, points: history.map((d) => ({ step: d.step, value: d.generalization?.[key] })) })),
    { yDomain: [0, 1], empty: 'no generalisation estimate yet: it needs targets, train_set_size or an evaluation probe' },
  );
}

function driftChart(history: readonly SnapshotDiagnostics[]): string {
  return timeSeriesChart(
    'drift',
    'Kernel drift (docs/science.md A6)',
    'distance',
    [
      { name: 'S(K_t−1, K_t)', points: history.map((d) => ({ step: d.step, value: d.drift?.comparable === false ? undefined : d.drift?.distancePrev })) },
      { name: 'S(K_0, K_t)', points: history.map((d) => ({ step: d.step, value: d.drift?.comparable === false ? undefined : d.drift?.distanceInit })) },
      { name: '‖K_t − K_0‖/‖K_0‖', points: history.map((d) => ({ step: d.step, value: d.drift?.relativeChangeInit })) },
    ],
    { empty: 'no drift yet: it needs two kernel snapshots' },
  );
}

function alignmentChart(history: readonly SnapshotDiagnostics[]): string {
  return timeSeriesChart(
    'alignment',
    'Kernel–target alignment (docs/science.md A7)',
    'alignment',
    [
      { name: 'uncentered', points: history.map((d) => ({ step: d.step, value: d.alignment?.uncentered })) },
      { name: 'centered', points: history.map((d) => ({ step: d.step, value: d.alignment?.centered })) },
    ],
    { yDomain: [0, 1], empty: 'no alignment yet: it needs the probe targets in RunStart' },
  );
}

function decisionTable(decisions: readonly TimelineDecision[]): string {
  if (decisions.length === 0) return '<p class="muted">No decision yet.</p>';
  const rows = [...decisions]
    .reverse()
    .map(
      (d) =>
        `<tr class="decision"><td>${escapeXml(fmt(d.step))}</td><td class="${escapeXml(d.action)}">${escapeXml(d.action.replace(/^ACTION_/, ''))}${d.enforced ? '' : ' <span class="muted">(shadow)</span>'}</td>` +
        `<td>${escapeXml(d.reason)}</td><td>${escapeXml(d.detail)}</td></tr>`,
    )
    .join('');
  return `<table id="decisions"><thead><tr><th>step</th><th>action</th><th>reason</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The live part of `GET /runs/{id}`: summary, charts, decisions. */
export function runFragment(d: RunPageData): string {
  const r = d.row;
  const stop = d.loss.stop;
  const p = d.loss.prediction;
  const latest = d.history[d.history.length - 1];
  const g = latest?.generalization;
  const summary = kv([
    ['run_id', `<code id="run-id">${escapeXml(r.id)}</code>`],
    ['job_id / cohort', `${escapeXml(r.jobId || '–')} / ${escapeXml(r.cohort || '–')}`],
    ['state', `${escapeXml(r.state)} (${escapeXml(r.status)})`],
    ['step', escapeXml(fmt(r.step))],
    ['train loss', escapeXml(fmt(d.lastTrainLoss))],
    ['decision', `${actionCell(r)} ${escapeXml(r.reason ?? '')}<div class="muted">${escapeXml(r.detail ?? '')}</div>`],
    ['regime', escapeXml(r.regime ?? '–')],
    ['STOP', stop ? `<span class="STOP" id="stop-summary">${stop.enforced ? 'STOP' : 'would STOP'} at step ${escapeXml(fmt(stop.step))} (${escapeXml(stop.reason)})</span>` : '–'],
    ['KESS (K1 / K2 / K3 / K4)', p ? `${[p.kess.K1, p.kess.K2, p.kess.K3, p.kess.K4].map((k) => escapeXml(fmt(k))).join(' / ')}${p.valid ? '' : ' <span class="muted">(kernel model not trusted)</span>'}` : '–'],
    ['generalisation (latest)', g ? escapeXml(`LOO acc ${fmt(g.looAccuracy)} · LOO err ${fmt(g.looError)} · GCV err ${fmt(g.gcvError)} · coherence ${fmt(g.coherence)} · eval acc ${fmt(g.evalAccuracy)} · eval margin ${fmt(g.evalMargin)} · Label Wave step ${fmt(g.labelWaveStep)}`) : '–'],
    [
      'shadow-mode savings',
      d.shadow
        ? `<span id="shadow">would have stopped at step ${escapeXml(fmt(d.shadow.wouldStopStep))}: ${escapeXml(fmt(d.shadow.stepsAfter))} steps and ${escapeXml(fmt(d.shadow.computeAfter))} compute spent since</span>`
        : r.enforced
          ? '<span class="muted">enforced policy</span>'
          : '<span class="muted">shadow policy; no STOP yet</span>',
    ],
    ['snapshots', `${escapeXml(fmt(d.snapshotsAccepted))} accepted, ${escapeXml(fmt(d.snapshotsRejected))} rejected · n = ${escapeXml(fmt(d.samples))}, C = ${escapeXml(fmt(d.outputs))} · backend ${escapeXml(d.backend || '–')} · policy ${escapeXml(r.policy)}`],
  ]);
  return (
    `${summary}<div class="charts">${spectrumChart(d.spectra)}${lossChart(d.loss)}${timelineChart(d.decisions)}` +
    `${generalizationChart(d.history)}${driftChart(d.history)}${alignmentChart(d.history)}</div>` +
    `<h2>Recent decisions</h2>${decisionTable(d.decisions)}`
  );
}

/** `GET /runs/{id}`. */
export function runPage(d: RunPageData, version: string): string {
  return page(
    `${d.row.id} — ntk-sidecar`,
    `<p><a href="/">← all runs</a> · <span class="muted">ntk-sidecar ${escapeXml(version)} · updates every ${REFRESH_SECONDS} s</span></p>` +
      `<h1>Run <span id="title-id">${escapeXml(d.row.id)}</span></h1><div id="live">${runFragment(d)}</div>`,
  );
}

/** `GET /runs/{id}` for an id the sidecar does not hold. */
export function notFoundPage(id: string): string {
  return page('run not found — ntk-sidecar', `<p><a href="/">← all runs</a></p><h1>Unknown run</h1><p>The sidecar holds no run <code>${escapeXml(id)}</code>: it never attached or was evicted.</p>`);
}
