/** Reads what deploy/ ships for Prometheus and Grafana and lists every PromQL expression in it, with its origin. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './tools.js';

export const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy/prometheus');
export const PROMETHEUS_CONFIG = join(PROMETHEUS_DIR, 'prometheus.yml');
export const RULES_FILE = join(PROMETHEUS_DIR, 'rules/ntk-sidecar.rules.yml');
export const RULE_TESTS_FILE = join(PROMETHEUS_DIR, 'tests/ntk-sidecar.rules.test.yml');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'deploy/grafana/dashboards');

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readYaml<T>(path: string): T {
  return parseYaml(readFileSync(path, 'utf8')) as T;
}

export function loadRules(path = RULES_FILE): Rule[] {
  const doc = readYaml<{ groups: Array<{ name: string; rules: Rule[] }> }>(path);
  return doc.groups.flatMap((g) => g.rules);
}

export interface RuleTestFile {
  rule_files: string[];
  tests: Array<{
    name?: string;
    input_series: Array<{ series: string; values: string }>;
    alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels?: Record<string, string> }> }>;
    promql_expr_test?: Array<{ expr: string; eval_time: string; exp_samples: Array<{ labels: string; value: number }> }>;
  }>;
}

export function loadRuleTests(): RuleTestFile {
  return readYaml<RuleTestFile>(RULE_TESTS_FILE);
}

export type Dashboard = Record<string, unknown> & {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<Record<string, unknown> & { name: string; type: string }> };
  annotations: { list: Array<Record<string, unknown>> };
};
export type Panel = Record<string, unknown> & {
  id: number;
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<Record<string, unknown> & { expr?: string; refId: string }>;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
};

export function loadDashboards(): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const file of readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort()) {
    out.set(file, JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard);
  }
  return out;
}

/** Panels including those nested in collapsed rows. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface Query {
  origin: string;
  /** PromQL as written (Grafana variables not yet substituted). */
  expr: string;
  /** Where Grafana variables may appear (dashboards only). */
  grafana: boolean;
}

/** `label_values(selector, label)` → the selector; `query_result(expr)` → expr; label_values(label) → none. */
function variableQuery(q: string): string | undefined {
  const lv = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/s.exec(q.trim());
  if (lv) return lv[1];
  const qr = /^query_result\((.*)\)$/s.exec(q.trim());
  if (qr) return qr[1];
  return undefined;
}

export function dashboardQueries(dashboards = loadDashboards()): Query[] {
  const out: Query[] = [];
  for (const [file, d] of dashboards) {
    for (const p of allPanels(d)) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr === 'string') out.push({ origin: `${file} panel "${p.title}" ${t.refId}`, expr: t.expr, grafana: true });
      }
    }
    for (const v of d.templating.list) {
      if (v.type !== 'query') continue;
      const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
      const inner = variableQuery(q);
      if (inner === undefined) throw new Error(`${file} variable ${v.name}: unrecognised query ${q}`);
      out.push({ origin: `${file} variable ${v.name}`, expr: inner, grafana: true });
    }
    for (const a of d.annotations.list) {
      if (typeof a.expr === 'string') out.push({ origin: `${file} annotation "${String(a.name)}"`, expr: a.expr, grafana: true });
    }
  }
  return out;
}

export function ruleQueries(rules = loadRules()): Query[] {
  return rules.map((r) => ({ origin: `rule ${r.record ?? r.alert}`, expr: r.expr, grafana: false }));
}

/** The series of the promtool fixtures and the expressions their promql_expr_test evaluates. */
export function ruleTestQueries(tests = loadRuleTests()): Query[] {
  const out: Query[] = [];
  for (const t of tests.tests) {
    for (const s of t.input_series) out.push({ origin: `fixture "${t.name}" input ${s.series}`, expr: s.series, grafana: false });
    for (const e of t.promql_expr_test ?? []) out.push({ origin: `fixture "${t.name}" expr`, expr: e.expr, grafana: false });
  }
  return out;
}
