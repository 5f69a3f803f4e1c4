/**
 * Every PromQL expression deploy/ ships — dashboard panels, variables and annotations, recording and alerting
 * rules, and the promtool fixtures — parses with Prometheus' official parser and names only metrics, labels and
 * label values a real sidecar exports (read from a live /metrics after a synthetic run, never a hand-kept list).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, loadRules, ruleQueries, ruleTestQueries, type Query } from './support/deployFiles.js';
import { SCRAPE_SERIES, TARGET_LABELS, startLiveSidecar, type Exposition, type LiveSidecar } from './support/liveMetrics.js';
import { parsePromQL, substituteGrafanaVariables } from './support/promql.js';
import { REPO_ROOT } from './support/tools.js';
import { Code } from '../../src/errors.js';

let live: LiveSidecar;
let exposition: Exposition;

beforeAll(async () => {
  live = await startLiveSidecar();
  exposition = await live.scrape();
});
afterAll(async () => {
  await live?.stop();
});

const recorded = new Map(loadRules().flatMap((r) => (r.record ? [[r.record, r] as const] : [])));
const queries: Query[] = [...dashboardQueries(), ...ruleQueries(), ...ruleTestQueries()];

/** The proto's Reason enum: the values of the `reason` label. */
function protoReasons(): Set<string> {
  const proto = readFileSync(join(REPO_ROOT, 'proto/ntksidecar/v1/sidecar.proto'), 'utf8');
  const body = /enum Reason \{([^}]*)\}/.exec(proto)?.[1];
  if (!body) throw new Error('enum Reason not found in sidecar.proto');
  return new Set([...body.matchAll(/^\s*(REASON_[A-Z_]+)\s*=/gm)].map((m) => m[1]));
}

/** Labels whose values are identifiers or versions, not a closed set: their values are not checked. */
const FREE_FORM_LABELS = new Set(['run_id', 'job_id', 'cohort', 'version', 'node_version', 'backend', 'le']);
/** Closed sets defined in code rather than seen on one scrape: the code label holds google.rpc.Code names. */
const CODE_NAMES = new Set(Object.keys(Code));

interface Problem {
  origin: string;
  problem: string;
}

/** Names, labels and values of one query against the live exposition; an empty list when all is known. */
function check(q: Query, ex: Exposition, reasons: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const expr = q.grafana ? substituteGrafanaVariables(q.expr) : q.expr;
  const parsed = parsePromQL(expr);
  for (const e of parsed.errors) problems.push({ origin: q.origin, problem: e });
  const knownLabels = new Set([...ex.labelNames, ...TARGET_LABELS]);
  for (const s of parsed.selectors) {
    if (!s.metric) {
      problems.push({ origin: q.origin, problem: `selector ${s.text} names no metric` });
      continue;
    }
    const family = ex.seriesNames.get(s.metric);
    if (!family && !recorded.has(s.metric) && !SCRAPE_SERIES.has(s.metric)) {
      problems.push({ origin: q.origin, problem: `metric ${s.metric} is not on the live /metrics nor recorded by a rule` });
      continue;
    }
    // A family with samples says exactly which labels it has; otherwise any label the sidecar uses at all.
    const allowed = family && family.samples > 0 ? new Set([...family.labelNames, ...TARGET_LABELS, ...(family.type === 'histogram' ? ['le'] : [])]) : knownLabels;
    for (const label of s.labels) {
      if (!allowed.has(label)) problems.push({ origin: q.origin, problem: `${s.metric} has no label "${label}" (has: ${[...allowed].sort().join(', ')})` });
    }
    for (const [label, value] of s.equals) {
      if (label === 'reason') {
        if (!reasons.has(value)) problems.push({ origin: q.origin, problem: `reason="${value}" is not a proto Reason` });
        continue;
      }
      if (label === 'code') {
        if (!CODE_NAMES.has(value)) problems.push({ origin: q.origin, problem: `code="${value}" is not a google.rpc.Code name` });
        continue;
      }
      const seen = family?.labelValues.get(label);
      if (seen && !TARGET_LABELS.has(label) && !FREE_FORM_LABELS.has(label) && !seen.has(value)) {
        problems.push({ origin: q.origin, problem: `${s.metric}{${label}="${value}"}: the sidecar exports ${label} = ${[...seen].sort().join(' | ')}` });
      }
    }
  }
  for (const label of parsed.groupingLabels) {
    if (!knownLabels.has(label) && label !== 'le') problems.push({ origin: q.origin, problem: `grouping label "${label}" is on no exported series` });
  }
  return problems;
}

describe('PromQL in deploy/', () => {
  it('finds the queries: dashboards, rules and rule fixtures', () => {
    const origins = queries.map((q) => q.origin);
    expect(origins.filter((o) => o.startsWith('ntk-sidecar-run.json')).length).toBeGreaterThan(20);
    expect(origins.filter((o) => o.startsWith('ntk-sidecar-fleet.json')).length).toBeGreaterThan(10);
    expect(origins.filter((o) => o.startsWith('rule ')).length).toBe(loadRules().length);
    expect(origins.filter((o) => o.startsWith('fixture ')).length).toBeGreaterThan(20);
  });

  it('the live /metrics defines the per-run families the synthetic run should fill', () => {
    // Guards the check below against an empty scrape: these families must carry samples with run labels.
    const perRun = [
      'ntk_sidecar_ntk_eigenvalue', 'ntk_sidecar_decision', 'ntk_sidecar_run_step', 'ntk_sidecar_eos_ratio', 'ntk_sidecar_kernel_distance',
      'ntk_sidecar_target_alignment', 'ntk_sidecar_linearization_gap', 'ntk_sidecar_kess_step', 'ntk_sidecar_predicted_loss', 'ntk_sidecar_time_fit_r2',
      'ntk_sidecar_regime', 'ntk_sidecar_detector', 'ntk_sidecar_catapult_events_total', 'ntk_sidecar_shadow_would_stop_step',
    ];
    for (const name of perRun) {
      const f = exposition.families.get(name);
      expect(f, name).toBeDefined();
      expect(f!.samples, name).toBeGreaterThan(0);
      expect([...f!.labelNames]).toEqual(expect.arrayContaining(['run_id', 'job_id', 'cohort']));
    }
    // docs/design.md §5: never the label names job or instance (Prometheus' own target labels).
    expect(exposition.labelNames.has('job')).toBe(false);
    expect(exposition.labelNames.has('instance')).toBe(false);
  });

  it('every expression parses and names only exported metrics, labels and label values', () => {
    const reasons = protoReasons();
    const problems = queries.flatMap((q) => check(q, exposition, reasons));
    expect(problems).toEqual([]);
  });

  it('dashboards filter every per-run series by the namespace, job, cohort and run variables', () => {
    const missing: string[] = [];
    // Variables are narrowed by the variables before them only (dashboards.test.ts); panels and annotations by all.
    for (const q of queries.filter((x) => x.grafana && !x.origin.includes(' variable '))) {
      for (const s of parsePromQL(substituteGrafanaVariables(q.expr)).selectors) {
        const family = s.metric ? exposition.seriesNames.get(s.metric) : undefined;
        if (!family?.labelNames.has('run_id')) continue;
        for (const l of ['namespace', 'job_id', 'cohort', 'run_id']) if (!s.labels.includes(l)) missing.push(`${q.origin}: ${s.text} lacks ${l}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every sidecar metric family is shown on a dashboard or used by a rule', () => {
    // The other direction: a metric added to src/metrics without a panel shows up here.
    const used = new Set<string>();
    for (const q of queries) {
      for (const s of parsePromQL(q.grafana ? substituteGrafanaVariables(q.expr) : q.expr).selectors) {
        const family = s.metric ? exposition.seriesNames.get(s.metric) : undefined;
        if (family) used.add(family.name);
      }
    }
    const unused = [...exposition.families.keys()].filter((n) => n.startsWith('ntk_sidecar_') && !used.has(n));
    expect(unused).toEqual([]);
  });

  it('the check itself rejects a syntax error, an unknown metric, an unknown label and an unknown value', () => {
    const reasons = protoReasons();
    const bad = (expr: string) => check({ origin: 'probe', expr, grafana: true }, exposition, reasons).map((p) => p.problem);
    expect(bad('rate(ntk_sidecar_snapshots_total[5m]')[0]).toMatch(/syntax error/);
    expect(bad('ntk_sidecar_no_such_metric')[0]).toMatch(/not on the live \/metrics/);
    expect(bad('ntk_sidecar_run_step{runid="x"}')[0]).toMatch(/has no label "runid"/);
    expect(bad('ntk_sidecar_snapshots_total{outcome="refused"}')[0]).toMatch(/outcome = accepted \| rejected/);
    expect(bad('ntk_sidecar_decision_reason{reason="REASON_BORED"}')[0]).toMatch(/not a proto Reason/);
    expect(bad('ntk_sidecar_snapshots_total{code="BAD_SNAPSHOT"}')[0]).toMatch(/not a google.rpc.Code name/);
    expect(bad('sum by (runid) (ntk_sidecar_run_step)')[0]).toMatch(/grouping label "runid"/);
    expect(bad('ntk_sidecar_run_step{run_id=~"$run_id"}')).toEqual([]);
  });
});
