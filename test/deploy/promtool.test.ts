/**
 * deploy/prometheus against the real promtool (Debian's prometheus package; `npm run setup:test`): the scrape
 * configuration, the rules, the rule unit tests with a firing and a quiet case for every alert, and a real scrape
 * of a running sidecar through `promtool check metrics`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONFIG, RULES_FILE, RULE_TESTS_FILE, loadRuleTests, loadRules } from './support/deployFiles.js';
import { startLiveSidecar, type LiveSidecar } from './support/liveMetrics.js';
import { requireTool, runTool } from './support/tools.js';

let promtool: string;
let tmp: string;

beforeAll(() => {
  promtool = requireTool('promtool');
  tmp = mkdtempSync(join(tmpdir(), 'ntk-promtool-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: Array<{ role: string }>;
  file_sd_configs?: Array<{ files: string[] }>;
  relabel_configs?: unknown[];
}

/**
 * Debian builds Prometheus without its Kubernetes discovery (client-go is not packaged), so its promtool rejects
 * `kubernetes_sd_configs`. The copy checked here swaps only that stanza for file discovery; the relabeling, which
 * is what can be wrong, is checked verbatim (and run for real in prometheus.e2e.test.ts).
 */
function checkableConfig(): { path: string; kubernetesJobs: ScrapeConfig[] } {
  const doc = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
  const kubernetesJobs = doc.scrape_configs.filter((j) => j.kubernetes_sd_configs);
  for (const job of kubernetesJobs) {
    delete job.kubernetes_sd_configs;
    job.file_sd_configs = [{ files: [join(tmp, 'pods.json')] }];
  }
  doc.rule_files = doc.rule_files.map((f) => join(PROMETHEUS_CONFIG, '..', f));
  const path = join(tmp, 'prometheus.yml');
  writeFileSync(path, stringifyYaml(doc));
  return { path, kubernetesJobs };
}

describe('promtool', () => {
  it('check config: the scrape configuration and the rule files it loads', async () => {
    const raw = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as { scrape_configs: ScrapeConfig[]; rule_files: string[] };
    expect(raw.rule_files).toEqual(['rules/ntk-sidecar.rules.yml']);
    const k8s = raw.scrape_configs.filter((j) => j.kubernetes_sd_configs);
    expect(k8s.map((j) => j.kubernetes_sd_configs)).toEqual([[{ role: 'pod' }]]);
    // Every job name starts with ntk-sidecar: NtkSidecarDown and the Fleet dashboard select job=~"ntk-sidecar.*".
    for (const job of raw.scrape_configs) expect(job.job_name).toMatch(/^ntk-sidecar/);

    const { path, kubernetesJobs } = checkableConfig();
    expect(kubernetesJobs.map((j) => j.job_name)).toEqual(['ntk-sidecar-pods']);
    const res = await runTool(promtool, ['check', 'config', path]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
    expect(res.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('check rules: every recording and alerting rule', async () => {
    const res = await runTool(promtool, ['check', 'rules', RULES_FILE]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`SUCCESS: ${loadRules().length} rules found`);
  });

  it('check rules fails on a broken expression (the check is real)', async () => {
    const broken = join(tmp, 'broken.rules.yml');
    writeFileSync(broken, readFileSync(RULES_FILE, 'utf8').replace('expr: up{job=~"ntk-sidecar.*"} == 0', 'expr: up{job=~"ntk-sidecar.*"} == '));
    const res = await runTool(promtool, ['check', 'rules', broken]);
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/parse error|unexpected/i);
  });

  it('test rules: the unit tests pass', async () => {
    const res = await runTool(promtool, ['test', 'rules', RULE_TESTS_FILE]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('SUCCESS');
  });

  it('every alert has a fixture where it fires and one where it must not; every recording rule is evaluated', () => {
    const tests = loadRuleTests();
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const exprs = tests.tests.flatMap((t) => t.promql_expr_test ?? []).map((e) => e.expr);
    const rules = loadRules();
    for (const alert of rules.filter((r) => r.alert).map((r) => r.alert!)) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${alert} fires in a fixture`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${alert} stays quiet in a fixture`).toBe(true);
    }
    for (const record of rules.filter((r) => r.record).map((r) => r.record!)) {
      expect(exprs.some((e) => e.startsWith(record)), `${record} has a promql_expr_test`).toBe(true);
    }
    expect(tests.rule_files).toEqual(['../rules/ntk-sidecar.rules.yml']);
  });

  describe('check metrics on a real scrape', () => {
    let live: LiveSidecar;
    let text: string;
    beforeAll(async () => {
      live = await startLiveSidecar();
      text = (await live.scrape()).text;
    });
    afterAll(async () => {
      await live?.stop();
    });

    it('the sidecar’s own families pass without a single lint problem', async () => {
      // Keep the ntk_sidecar_* families (HELP, TYPE and samples) of the scrape.
      const ours = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?ntk_sidecar_/.test(l)).join('\n') + '\n';
      expect(ours.split('\n').filter((l) => l.startsWith('# TYPE')).length).toBeGreaterThan(40);
      const res = await runTool(promtool, ['check', 'metrics'], { input: ours });
      expect(res.stdout + res.stderr).toBe('');
      expect(res.code).toBe(0);
    });

    it('the whole scrape, Node’s default metrics included, passes without a single lint problem', async () => {
      expect(text).toMatch(/^nodejs_active_handles\{/m); // the per-type gauges stay; their *_total sums are dropped
      const res = await runTool(promtool, ['check', 'metrics'], { input: text });
      expect(res.stdout + res.stderr).toBe('');
      expect(res.code).toBe(0);
    });
  });
});
