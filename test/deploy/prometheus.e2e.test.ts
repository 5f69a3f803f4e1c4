/**
 * End to end: a real Prometheus (Debian's, `npm run setup:test`) on 127.0.0.1 scrapes a real sidecar every
 * second while a synthetic run is attached, with the rules of deploy/prometheus loaded. Read back through
 * Prometheus' HTTP API: the series, the recording rules, the relabeling of the Kubernetes scrape job (driven
 * through file discovery with the meta labels Kubernetes discovery would give the rendered trainer pod), and
 * every dashboard query, which must be valid for Prometheus' own parser and return data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONFIG, RULES_FILE, dashboardQueries, loadRules } from './support/deployFiles.js';
import { renderKustomization, podSpecOf } from './support/kustomize.js';
import { INITIAL_SNAPSHOT_COUNT, LAZY_RUN_ID, SHADOW_RUN_ID, STEPS_PER_SNAPSHOT, SYNTHETIC_LABELS } from './support/syntheticRun.js';
import { startLiveSidecar, type LiveSidecar } from './support/liveMetrics.js';
import { substituteGrafanaVariables } from './support/promql.js';
import { REPO_ROOT, requireTool } from './support/tools.js';

const BOOT_TIMEOUT_MS = 20_000;
/** Sent once Prometheus has scraped: 3 accepted (shadow run) and 1 rejected. */
const MORE_ACCEPTED = 3;
const MORE_REJECTED = 1;
const DATA_TIMEOUT_MS = 20_000;

let live: LiveSidecar;
let prometheus: ChildProcess | undefined;
let prometheusLog = '';
let api = '';
let tmp = '';
let metricsPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<{ status: string; error?: string; data?: { resultType: string; result: Sample[] } }> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
}

/** Polls until `check` returns a value (bounded), then returns it; the error carries Prometheus' log. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = DATA_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${String(last ?? 'no error')})\nprometheus log:\n${prometheusLog.slice(-3000)}`);
}

/** The pod the base kustomization renders, as Kubernetes discovery would describe it to relabeling. */
function trainerPodTargets(port: number): unknown[] {
  const job = renderKustomization(join(REPO_ROOT, 'deploy/kubernetes/base')).find((o) => o.kind === 'Job')!;
  const template = (job.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
  const annotations = template.metadata.annotations;
  expect(annotations['prometheus.io/port']).toBe('9464'); // the manifest's port; the test sidecar listens elsewhere
  const meta = (name: string, extra: Record<string, string>) => ({
    __meta_kubernetes_namespace: 'ml',
    __meta_kubernetes_pod_name: name,
    __meta_kubernetes_pod_ip: '127.0.0.1',
    __meta_kubernetes_pod_phase: 'Running',
    ...extra,
  });
  const annotationLabels = Object.fromEntries(
    Object.entries({ ...annotations, 'prometheus.io/port': String(port) }).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${k.replace(/[^a-zA-Z0-9]/g, '_')}`, v]),
  );
  const containers = podSpecOf(job)!;
  expect(containers).toBeDefined();
  return [
    // The trainer pod, once per container as Kubernetes discovery lists it (one target per container port, or
    // one per container without ports): relabeling must collapse them into one scrape of the sidecar.
    { targets: ['127.0.0.1:9464'], labels: meta('trainer-abcde', { ...annotationLabels, __meta_kubernetes_pod_container_name: 'ntk-sidecar' }) },
    { targets: ['127.0.0.1'], labels: meta('trainer-abcde', { ...annotationLabels, __meta_kubernetes_pod_container_name: 'trainer' }) },
    // A pod without the annotation, and a finished one: neither is scraped.
    { targets: ['127.0.0.1:8080'], labels: meta('web-0', {}) },
    { targets: ['127.0.0.1'], labels: meta('trainer-done', { ...annotationLabels, __meta_kubernetes_pod_phase: 'Succeeded' }) },
  ];
}

beforeAll(async () => {
  const binary = requireTool('prometheus');
  live = await startLiveSidecar();
  metricsPort = Number(new URL(live.server.metricsUrl).port);
  tmp = mkdtempSync(join(tmpdir(), 'ntk-prometheus-'));
  const deployed = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as { scrape_configs: Array<Record<string, unknown> & { job_name: string }> };
  const podsJob = deployed.scrape_configs.find((j) => j.job_name === 'ntk-sidecar-pods')!;
  writeFileSync(join(tmp, 'pods.json'), JSON.stringify(trainerPodTargets(metricsPort)));
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [RULES_FILE],
    scrape_configs: [
      { job_name: 'ntk-sidecar', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] },
      // The Kubernetes job's relabeling, verbatim; only the discovery differs.
      { job_name: podsJob.job_name, file_sd_configs: [{ files: [join(tmp, 'pods.json')], refresh_interval: '1s' }], relabel_configs: podsJob.relabel_configs },
    ],
  };
  writeFileSync(join(tmp, 'prometheus.yml'), stringifyYaml(config));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  prometheus = spawn(binary, [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prometheus.stdout!.on('data', (d: Buffer) => (prometheusLog += d.toString()));
  prometheus.stderr!.on('data', (d: Buffer) => (prometheusLog += d.toString()));
  await until('Prometheus to become ready', async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), BOOT_TIMEOUT_MS);
  // Scrapes of both jobs before and after more training, and a rule evaluation after that: counters moved
  // while Prometheus watched, so rates and the recording rules built on them have values.
  await until('first scrapes', async () => {
    const r = await query('count_over_time(ntk_sidecar_runs[1m])');
    return r.data!.result.length === 2 && r.data!.result.every((s) => Number(s.value[1]) >= 2) ? true : undefined;
  });
  await live.runs.more(MORE_ACCEPTED, MORE_REJECTED);
  const total = INITIAL_SNAPSHOT_COUNT + MORE_ACCEPTED + MORE_REJECTED;
  await until('the new snapshots in the recording rules', async () => {
    const r = await query(`sum(instance:ntk_sidecar_snapshots:rate5m{job="ntk-sidecar"}) > 0 and on () sum(ntk_sidecar_snapshots_total{job="ntk-sidecar"}) == ${total}`);
    return r.data!.result.length === 1 ? true : undefined;
  });
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
  }
  await live?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('Prometheus scraping a real sidecar', () => {
  it('scrapes both jobs; the Kubernetes relabeling makes one target per annotated running pod', async () => {
    const res = (await (await fetch(`${api}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string; health: string }>; droppedTargets: unknown[] };
    };
    const active = res.data.activeTargets.map((t) => ({ job: t.labels.job, url: t.scrapeUrl, health: t.health, namespace: t.labels.namespace, pod: t.labels.pod }));
    expect(active).toHaveLength(2);
    expect(active).toContainEqual({ job: 'ntk-sidecar', url: `http://127.0.0.1:${metricsPort}/metrics`, health: 'up', namespace: undefined, pod: undefined });
    expect(active).toContainEqual({ job: 'ntk-sidecar-pods', url: `http://127.0.0.1:${metricsPort}/metrics`, health: 'up', namespace: 'ml', pod: 'trainer-abcde' });
    expect(res.data.droppedTargets).toHaveLength(2);
  });

  it('reads back the per-run series the sidecar exports', async () => {
    const report = await live.runs.client.getRun(LAZY_RUN_ID);
    const lambda1 = report.latest!.spectra.find((s) => s.kernel === 'full')!.eigenvalues[0];
    const top = await query(`ntk_sidecar_ntk_eigenvalue{job="ntk-sidecar", run_id="${LAZY_RUN_ID}", kernel="full", rank="1"}`);
    expect(top.data!.result).toHaveLength(1);
    expect(top.data!.result[0].metric).toMatchObject({ ...SYNTHETIC_LABELS, instance: `127.0.0.1:${metricsPort}` });
    // The text format carries shortest round-trip decimals: the value comes back bit for bit.
    expect(Number(top.data!.result[0].value[1])).toBe(lambda1);

    const shadow = await query(`ntk_sidecar_decision{job="ntk-sidecar", run_id="${SHADOW_RUN_ID}"}`);
    expect(shadow.data!.result.map((s) => [s.metric.enforced, s.value[1]])).toEqual([['false', '1']]);
    const wouldStop = await query(`ntk_sidecar_shadow_would_stop_step{job="ntk-sidecar-pods", run_id="${SHADOW_RUN_ID}"}`);
    expect(wouldStop.data!.result.map((s) => [s.metric.namespace, s.metric.pod, s.value[1]])).toEqual([['ml', 'trainer-abcde', '200']]);
    const up = await query('up{job=~"ntk-sidecar.*"}');
    expect(up.data!.result.map((s) => s.value[1])).toEqual(['1', '1']);
  });

  it('evaluates every rule without error; recording rules produce series from the live data', async () => {
    const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name).sort()).toEqual(loadRules().map((r) => r.record ?? r.alert).sort());
    for (const r of rules) expect({ name: r.name, health: r.health, lastError: r.lastError ?? '' }).toEqual({ name: r.name, health: 'ok', lastError: '' });

    // While Prometheus watched, 1 of 4 snapshots was rejected. Both counters are sampled at the same instants, so
    // rate()'s extrapolation scales them alike and the ratio is 1/4 up to rounding.
    const ratio = async () => Number((await query('instance:ntk_sidecar_snapshots_rejected:ratio_rate15m{job="ntk-sidecar"}')).data!.result[0]?.value[1]);
    await expect.poll(() => ratio(), { timeout: 15_000, interval: 250 }).toBeCloseTo(MORE_REJECTED / (MORE_ACCEPTED + MORE_REJECTED), 9);
    const rates = await query('instance:ntk_sidecar_snapshots:rate5m{job="ntk-sidecar"}');
    expect(rates.data!.result.map((s) => s.metric.outcome).sort()).toEqual(['accepted', 'rejected']);
    for (const s of rates.data!.result) expect(Number(s.value[1])).toBeGreaterThan(0);
    const byReason = await query('cohort_reason:ntk_sidecar_runs:count{cohort="deploy-sweep"}');
    expect(byReason.data!.result.length).toBeGreaterThan(0);
    // The shadow run's budget (200 steps) latched a would-stop at its 5th snapshot (step 200); it trained one
    // more snapshot, then MORE_ACCEPTED more.
    // A recording rule lags the scrape by up to one evaluation interval: wait (bounded) for the last snapshots.
    await expect
      .poll(async () => (await query('cohort:ntk_sidecar_shadow_steps_saved:sum{namespace="ml"}')).data!.result.map((s) => Number(s.value[1])), { timeout: 15_000, interval: 250 })
      .toEqual([(1 + MORE_ACCEPTED) * STEPS_PER_SNAPSHOT]);
  });

  it('runs every dashboard query through Prometheus’ own parser, and each returns data', async () => {
    // Panels whose series this short run cannot produce, and why. Anything else that comes back empty is a
    // broken query (a wrong label value, a filter that never matches).
    const expectedEmpty: Record<string, string> = {
      'count(up{': 'no sidecar is down',
      'ntk_sidecar_sketch_noise_floor{': 'the run sends Jacobians, not sketches',
      'ntk_sidecar_cohort_': 'this sidecar runs no cohort rules (test/cohort checks these series on a live /metrics)',
    };
    const empty: string[] = [];
    for (const q of dashboardQueries()) {
      const expr = substituteGrafanaVariables(q.expr, '1m');
      const res = await query(expr);
      expect({ origin: q.origin, status: res.status, error: res.error }).toEqual({ origin: q.origin, status: 'success', error: undefined });
      if (res.data!.result.length === 0) empty.push(`${q.origin}: ${expr}`);
    }
    const unexplained = empty.filter((e) => !Object.keys(expectedEmpty).some((k) => e.includes(k)));
    expect(unexplained).toEqual([]);
    expect(empty.length).toBeLessThan(dashboardQueries().length / 4);
  });
});
