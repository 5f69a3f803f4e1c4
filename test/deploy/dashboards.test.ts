/**
 * The Grafana dashboards and their provisioning: generated from scripts/build-grafana-dashboards.ts, a Prometheus
 * datasource variable and no hard-coded datasource UID, the namespace/job/cohort/run variables, the panels the
 * issue asks for, a sane grid. The PromQL inside is checked by promql.test.ts and run by prometheus.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardFiles } from '../../scripts/build-grafana-dashboards.js';
import { DASHBOARDS_DIR, allPanels, loadDashboards, readYaml, type Dashboard } from './support/deployFiles.js';
import { REPO_ROOT } from './support/tools.js';

const dashboards = loadDashboards();
const run = dashboards.get('ntk-sidecar-run.json')!;
const fleet = dashboards.get('ntk-sidecar-fleet.json')!;

/** Every `datasource` value anywhere in the JSON, with its path. */
function datasources(node: unknown, path: string, out: Array<{ path: string; value: unknown }> = []): Array<{ path: string; value: unknown }> {
  if (Array.isArray(node)) node.forEach((v, i) => datasources(v, `${path}[${i}]`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource') out.push({ path: `${path}.${k}`, value: v });
      datasources(v, `${path}.${k}`, out);
    }
  }
  return out;
}

const titles = (d: Dashboard) => allPanels(d).map((p) => p.title);

describe('Grafana dashboards', () => {
  it('are exactly what scripts/build-grafana-dashboards.ts writes', () => {
    const files = dashboardFiles();
    expect([...dashboards.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [name, text] of files) {
      expect(readFileSync(join(DASHBOARDS_DIR, name), 'utf8'), `${name} is stale: run npx tsx scripts/build-grafana-dashboards.ts`).toBe(text);
    }
  });

  it('query Prometheus only through the datasource variable', () => {
    for (const [file, d] of dashboards) {
      const ds = d.templating.list.find((v) => v.type === 'datasource');
      expect(ds, file).toMatchObject({ name: 'datasource', query: 'prometheus' });
      for (const { path, value } of datasources(d, file)) {
        expect(typeof value, path).toBe('object');
        const { type, uid } = value as { type: string; uid: string };
        // The only fixed UID allowed is Grafana's built-in annotation source.
        if (type === 'grafana') expect(uid, path).toBe('-- Grafana --');
        else expect({ type, uid }, path).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
      // Every Prometheus query has a datasource (none falls back to Grafana's default).
      for (const p of allPanels(d).filter((p) => p.type !== 'row')) {
        expect(p.datasource, `${file} "${p.title}"`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets ?? []) expect(t.datasource, `${file} "${p.title}" ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('have namespace, job, cohort and run variables, each narrowed by the ones before it, with All = .*', () => {
    for (const [file, d] of dashboards) {
      const vars = d.templating.list.filter((v) => v.type === 'query');
      expect(vars.map((v) => v.name), file).toEqual(['namespace', 'job_id', 'cohort', 'run_id']);
      vars.forEach((v, i) => {
        expect(v, `${file} ${v.name}`).toMatchObject({ includeAll: true, allValue: '.*', multi: true });
        const q = (v.query as { query: string }).query;
        expect(v.definition).toBe(q);
        expect(q).toMatch(new RegExp(`^label_values\\(.*, ${v.name}\\)$`));
        for (const before of vars.slice(0, i)) expect(q, `${file} ${v.name}`).toContain(`${before.name}=~"$${before.name}"`);
      });
    }
  });

  it('filter every panel query by namespace, and per-run panels by job, cohort and run too', () => {
    for (const [file, d] of dashboards) {
      for (const p of allPanels(d)) {
        for (const t of p.targets ?? []) {
          const expr = String(t.expr);
          expect(expr, `${file} "${p.title}"`).toContain('namespace=~"$namespace"');
          if (expr.includes('run_id=~')) {
            for (const v of ['job_id', 'cohort', 'run_id']) expect(expr, `${file} "${p.title}"`).toContain(`${v}=~"$${v}"`);
          }
        }
      }
    }
  });

  it('the Run dashboard has the panels operators asked for', () => {
    const want = [
      /eigenvalues/i, /decay exponent.*R²/i, /effective ranks/i, /λ_max.*edge of stability/i, /kernel distance/i, /kernel velocity/i,
      /target alignment/i, /observed vs predicted loss/i, /KESS/, /^Regime$/, /^Detectors$/, /^Decision$/, /^Decision reasons$/, /shadow/i,
    ];
    for (const re of want) expect(titles(run).some((t) => re.test(t)), String(re)).toBe(true);
    // The KESS step is marked on the time axis by an annotation.
    expect(run.annotations.list.map((a) => a.name)).toEqual(expect.arrayContaining(['KESS reached (K2)', 'STOP']));
  });

  it('the Fleet dashboard has the panels operators asked for', () => {
    const want = [
      /runs by state/i, /runs by decision/i, /runs by regime/i, /decisions per second/i, /would-stops/i, /compute saved/i, /snapshots per second/i,
      /rejected snapshots by reason/i, /analysis latency/i, /backend in use/i, /sidecars up/i, /memory/i, /event-loop/i,
    ];
    for (const re of want) expect(titles(fleet).some((t) => re.test(t)), String(re)).toBe(true);
  });

  it('lay panels out on the 24-column grid without overlaps; ids and uids are unique', () => {
    expect(new Set([...dashboards.values()].map((d) => d.uid)).size).toBe(dashboards.size);
    for (const [file, d] of dashboards) {
      const panels = allPanels(d);
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) {
        const g = p.gridPos;
        expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${file} "${p.title}" ${JSON.stringify(g)}`).toBe(true);
        expect(p.description ?? (p.type === 'row' ? 'row' : ''), `${file} "${p.title}" has a description`).not.toBe('');
      }
      for (let i = 0; i < panels.length; i++) {
        for (let j = i + 1; j < panels.length; j++) {
          const a = panels[i].gridPos;
          const b = panels[j].gridPos;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${file}: "${panels[i].title}" overlaps "${panels[j].title}"`).toBe(false);
        }
      }
    }
  });

  it('provisioning loads the dashboards folder from files and defines a Prometheus datasource', () => {
    const dash = readYaml<{ apiVersion: number; providers: Array<{ type: string; folder: string; options: { path: string } }> }>(
      join(REPO_ROOT, 'deploy/grafana/provisioning/dashboards/ntk-sidecar.yaml'),
    );
    expect(dash.apiVersion).toBe(1);
    expect(dash.providers).toHaveLength(1);
    expect(dash.providers[0]).toMatchObject({ type: 'file', folder: 'ntk-sidecar', options: { path: '/var/lib/grafana/dashboards/ntk-sidecar' } });
    const ds = readYaml<{ apiVersion: number; datasources: Array<{ type: string; url: string; access: string }> }>(
      join(REPO_ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yaml'),
    );
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', access: 'proxy', url: 'http://localhost:9090' })]);
  });
});
