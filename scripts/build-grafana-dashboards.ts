/**
 * Builds the Grafana dashboards of deploy/grafana/dashboards/ (README "Operations"). The JSON files are what
 * Grafana loads and what test/deploy checks; this script is how they are written, so that every panel shares
 * one datasource reference and one label selector. After editing: `npx tsx scripts/build-grafana-dashboards.ts`
 * (test/deploy/dashboards.test.ts fails while the committed JSON differs from this output).
 *
 * Panels only query metrics the sidecar exports (src/metrics/sidecarMetrics.ts); test/deploy checks every
 * expression against a live /metrics.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Every Prometheus query goes through the dashboard's datasource variable: no hard-coded datasource UID. */
const DS = { type: 'prometheus', uid: '${datasource}' } as const;

/** Per-run series: the four dashboard variables. `.*` (All) also matches series without the label. */
const RUN = 'namespace=~"$namespace", job_id=~"$job_id", cohort=~"$cohort", run_id=~"$run_id"';
/** Per-sidecar series (counters, histograms, info) carry no run labels: namespace only. */
const SIDECAR = 'namespace=~"$namespace"';
/** Prometheus' target label `job` of the scrape jobs in deploy/prometheus and deploy/kubernetes. */
const SCRAPE_JOB = 'job=~"ntk-sidecar.*"';

type Json = Record<string, unknown>;

interface Target {
  expr: string;
  legend: string;
  instant?: boolean;
}

interface PanelSpec {
  title: string;
  description: string;
  type?: 'timeseries' | 'stat' | 'state-timeline' | 'bargauge';
  targets: Target[];
  unit?: string;
  /** Width in grid units (24 per row); height 8. */
  w?: number;
  log?: boolean;
  min?: number;
  max?: number;
  /** Horizontal threshold lines (timeseries) or colour steps (stat, state-timeline). */
  thresholds?: Array<{ value: number; color: string }>;
  mappings?: Json[];
  overrides?: Json[];
  stack?: boolean;
}

function target(t: Target, i: number): Json {
  return {
    datasource: DS,
    refId: String.fromCharCode(65 + i),
    expr: t.expr,
    legendFormat: t.legend,
    ...(t.instant ? { instant: true, range: false } : { range: true }),
  };
}

/** Lays panels out left to right in rows of 24 grid units; a row header spans the width. */
class Layout {
  private x = 0;
  private y = 0;
  private id = 1;
  readonly panels: Json[] = [];

  row(title: string): void {
    if (this.x > 0) this.newLine();
    this.panels.push({ type: 'row', id: this.id++, title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: this.y }, panels: [] });
    this.y += 1;
  }

  panel(spec: PanelSpec): void {
    const w = spec.w ?? 8;
    if (this.x + w > 24) this.newLine();
    const type = spec.type ?? 'timeseries';
    const steps = [{ color: 'green', value: null }, ...(spec.thresholds ?? []).map((t) => ({ color: t.color, value: t.value }))];
    const custom: Json =
      type === 'timeseries'
        ? {
            drawStyle: 'line',
            lineWidth: 1,
            pointSize: 4,
            showPoints: 'auto',
            spanNulls: false,
            fillOpacity: spec.stack ? 30 : 0,
            stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
            scaleDistribution: spec.log ? { type: 'log', log: 10 } : { type: 'linear' },
            thresholdsStyle: { mode: spec.thresholds?.length ? 'line+area' : 'off' },
          }
        : type === 'state-timeline'
          ? { fillOpacity: 80, lineWidth: 0 }
          : {};
    this.panels.push({
      type,
      id: this.id++,
      title: spec.title,
      description: spec.description,
      datasource: DS,
      gridPos: { h: 8, w, x: this.x, y: this.y },
      targets: spec.targets.map(target),
      fieldConfig: {
        defaults: {
          unit: spec.unit ?? 'short',
          ...(spec.min !== undefined ? { min: spec.min } : {}),
          ...(spec.max !== undefined ? { max: spec.max } : {}),
          color: { mode: type === 'state-timeline' || type === 'stat' ? 'thresholds' : 'palette-classic' },
          thresholds: { mode: 'absolute', steps },
          mappings: spec.mappings ?? [],
          custom,
        },
        overrides: spec.overrides ?? [],
      },
      options:
        type === 'timeseries'
          ? { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } }
          : type === 'state-timeline'
            ? { showValue: 'never', mergeValues: true, rowHeight: 0.8, alignValue: 'left', legend: { displayMode: 'list', placement: 'bottom', showLegend: true } }
            : type === 'bargauge'
              ? { orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } }
              : { colorMode: 'value', graphMode: 'area', justifyMode: 'auto', textMode: 'auto', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    });
    this.x += w;
  }

  private newLine(): void {
    this.x = 0;
    this.y += 8;
  }
}

/** A `label_values` variable over a per-run series, narrowed by the variables before it. */
function runVariable(name: string, label: string, narrowedBy: string): Json {
  const query = `label_values(ntk_sidecar_run_step${narrowedBy ? `{${narrowedBy}}` : ''}, ${name})`;
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: 'StandardVariableQuery' },
    refresh: 2, // on time-range change: runs come and go
    includeAll: true,
    allValue: '.*',
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    regex: '',
    sort: 1,
    hide: 0,
  };
}

function templating(): Json {
  const namespaceQuery = 'label_values(ntk_sidecar_build_info, namespace)';
  return {
    list: [
      { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, regex: '', refresh: 1, hide: 0, options: [] },
      {
        name: 'namespace',
        label: 'Namespace',
        type: 'query',
        datasource: DS,
        definition: namespaceQuery,
        query: { query: namespaceQuery, refId: 'StandardVariableQuery' },
        refresh: 2,
        includeAll: true,
        allValue: '.*', // outside Kubernetes there is no namespace label; .* matches its absence
        multi: true,
        current: { selected: true, text: ['All'], value: ['$__all'] },
        options: [],
        regex: '',
        sort: 1,
        hide: 0,
      },
      runVariable('job_id', 'Job', 'namespace=~"$namespace"'),
      runVariable('cohort', 'Cohort', 'namespace=~"$namespace", job_id=~"$job_id"'),
      runVariable('run_id', 'Run', 'namespace=~"$namespace", job_id=~"$job_id", cohort=~"$cohort"'),
    ],
  };
}

const BUILTIN_ANNOTATIONS = {
  builtIn: 1,
  datasource: { type: 'grafana', uid: '-- Grafana --' },
  enable: true,
  hide: true,
  iconColor: 'rgba(0, 211, 255, 1)',
  name: 'Annotations & Alerts',
  type: 'dashboard',
};

function dashboard(uid: string, title: string, description: string, panels: Json[], annotations: Json[] = []): Json {
  return {
    uid,
    title,
    description,
    tags: ['ntk-sidecar'],
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    schemaVersion: 39,
    version: 1,
    links: [{ title: 'ntk-sidecar', type: 'dashboards', tags: ['ntk-sidecar'], asDropdown: false, includeVars: true, keepTime: true }],
    annotations: { list: [BUILTIN_ANNOTATIONS, ...annotations] },
    templating: templating(),
    panels,
  };
}

const DECISION_MAPPING = [{ type: 'value', options: { '0': { text: 'CONTINUE', color: 'green', index: 0 }, '1': { text: 'STOP', color: 'red', index: 1 } } }];
const rightAxis = (refId: string, unit?: string) => ({
  matcher: { id: 'byFrameRefID', options: refId },
  properties: [{ id: 'custom.axisPlacement', value: 'right' }, ...(unit ? [{ id: 'unit', value: unit }] : [])],
});
const dashed = (refId: string) => ({
  matcher: { id: 'byFrameRefID', options: refId },
  properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }, { id: 'custom.lineWidth', value: 2 }],
});

export function runDashboard(): Json {
  const l = new Layout();
  l.row('Spectrum');
  l.panel({
    title: 'Top NTK eigenvalues',
    description: 'λ_1…λ_5 of the latest kernel of each run (raw K = J Jᵀ, log scale; docs/science.md A1). kernel="full" is the N×N kernel, "traced" the n×n output-averaged one.',
    targets: [{ expr: `ntk_sidecar_ntk_eigenvalue{${RUN}, rank=~"1|2|3|4|5"}`, legend: '{{run_id}} {{kernel}} λ{{rank}}' }],
    log: true,
  });
  l.panel({
    title: 'Eigen-decay exponent and R²',
    description: 's in λ_i ≈ A·i^−s (log-grid OLS, docs/science.md A3) and the R² of that fit (right axis). A fit with low R² is not a power law.',
    targets: [
      { expr: `ntk_sidecar_ntk_eigen_decay_exponent{${RUN}}`, legend: '{{run_id}} {{kernel}} s' },
      { expr: `ntk_sidecar_ntk_eigen_decay_r2{${RUN}}`, legend: '{{run_id}} {{kernel}} R²' },
    ],
    overrides: [rightAxis('B', 'percentunit')],
  });
  l.panel({
    title: 'Effective ranks',
    description: 'Entropy effective rank, participation ratio and stable rank (docs/science.md A4), with the numerical rank (dashed).',
    targets: [
      { expr: `ntk_sidecar_ntk_effective_rank{${RUN}}`, legend: '{{run_id}} {{kernel}} {{kind}}' },
      { expr: `ntk_sidecar_ntk_numerical_rank{${RUN}}`, legend: '{{run_id}} {{kernel}} numerical' },
    ],
    overrides: [dashed('B')],
  });
  l.panel({
    title: 'Condition number',
    description: 'λ_1/λ_min on the numerical range (pos) and regularised (reg) (docs/science.md A2).',
    targets: [{ expr: `ntk_sidecar_ntk_condition_number{${RUN}}`, legend: '{{run_id}} {{kernel}} {{kind}}' }],
    log: true,
  });
  l.panel({
    title: 'Trace per output and spectral density',
    description: 'tr K / size (docs/science.md A2), and the exponent α of the eigenvalue density fit with its KS distance (right axis, docs/science.md A3).',
    targets: [
      { expr: `ntk_sidecar_ntk_trace_per_output{${RUN}}`, legend: '{{run_id}} {{kernel}} tr/size' },
      { expr: `ntk_sidecar_ntk_esd_alpha{${RUN}}`, legend: '{{run_id}} {{kernel}} α' },
      { expr: `ntk_sidecar_ntk_esd_ks{${RUN}}`, legend: '{{run_id}} {{kernel}} KS' },
    ],
    overrides: [rightAxis('B'), rightAxis('C')],
  });
  l.panel({
    title: 'λ_max',
    description: 'Largest NTK eigenvalue per kernel (docs/science.md A2).',
    targets: [{ expr: `ntk_sidecar_ntk_lambda_max{${RUN}}`, legend: '{{run_id}} {{kernel}}' }],
  });

  l.row('Stability');
  l.panel({
    title: 'λ_max (GN sharpness) against the edge of stability',
    description: 'Gauss–Newton sharpness from the kernel (λ_max in loss units) and the optimizer’s stability threshold θ_opt (dashed; 2/η for SGD) (docs/science.md A5). Sharpness at the line is the edge of stability.',
    w: 12,
    targets: [
      { expr: `ntk_sidecar_gn_sharpness{${RUN}}`, legend: '{{run_id}} sharpness' },
      { expr: `ntk_sidecar_stability_threshold{${RUN}}`, legend: '{{run_id}} threshold' },
    ],
    overrides: [dashed('B')],
  });
  l.panel({
    title: 'Edge-of-stability ratio',
    description: 'GN sharpness / stability threshold (docs/science.md A5). 0.9–1.1: edge of stability; above 1.1: imminent instability (A13; alert NtkSidecarRunUnstable).',
    w: 12,
    targets: [{ expr: `ntk_sidecar_eos_ratio{${RUN}}`, legend: '{{run_id}}' }],
    min: 0,
    thresholds: [
      { value: 0.9, color: 'yellow' },
      { value: 1.1, color: 'red' },
    ],
  });

  l.row('Kernel dynamics');
  l.panel({
    title: 'Kernel distance',
    description: 'Kernel distance S to the previous and to the first snapshot (docs/science.md A6); for sketches, the independent-sketch noise floor (dashed). A distance near the floor is noise.',
    targets: [
      { expr: `ntk_sidecar_kernel_distance{${RUN}}`, legend: '{{run_id}} vs {{reference}}' },
      { expr: `ntk_sidecar_sketch_noise_floor{${RUN}}`, legend: '{{run_id}} sketch floor' },
    ],
    overrides: [dashed('B')],
  });
  l.panel({
    title: 'Kernel velocity',
    description: 'Kernel distance per 1000 steps between successive snapshots (docs/science.md A6). The kernel is "still moving" above 5% of its peak velocity (A13).',
    targets: [{ expr: `ntk_sidecar_kernel_velocity_per_kstep{${RUN}}`, legend: '{{run_id}}' }],
  });
  l.panel({
    title: 'Subspace overlap, relative change, trace ratio',
    description: 'Overlap O_10 of the top-10 eigenspaces of successive kernels (below 0.9: moving, A13), ‖K_t − K_0‖_F/‖K_0‖_F, and tr K_t / tr K_{t−1} (docs/science.md A6).',
    targets: [
      { expr: `ntk_sidecar_topk_subspace_overlap{${RUN}}`, legend: '{{run_id}} O_10' },
      { expr: `ntk_sidecar_kernel_relative_change{${RUN}}`, legend: '{{run_id}} rel. change' },
      { expr: `ntk_sidecar_kernel_trace_ratio{${RUN}}`, legend: '{{run_id}} trace ratio' },
    ],
  });
  l.panel({
    title: 'Kernel–target alignment',
    description: 'Alignment of the kernel with the targets, centered and uncentered (docs/science.md A7). Rising alignment is the kernel learning the task.',
    targets: [{ expr: `ntk_sidecar_target_alignment{${RUN}}`, legend: '{{run_id}} centered={{centered}}' }],
    min: 0,
    max: 1,
  });
  l.panel({
    title: 'Residual in the top-k eigenvectors',
    description: 'Share of the residual energy in the top-k kernel eigenvectors E_k (docs/science.md A8); what is left in the top modes is what the kernel learns fast.',
    targets: [{ expr: `ntk_sidecar_residual_topk_fraction{${RUN}}`, legend: '{{run_id}} k={{k}}' }],
    unit: 'percentunit',
    min: 0,
    max: 1,
  });
  l.panel({
    title: 'Residual Rayleigh quotient, learned modes, linearisation gap',
    description: 'rᵀKr/‖r‖², kernel modes learned over the last interval, and the linearisation gap between snapshots (right axis; docs/science.md A8). A large gap means the kernel model does not describe the run.',
    targets: [
      { expr: `ntk_sidecar_residual_rayleigh{${RUN}}`, legend: '{{run_id}} Rayleigh' },
      { expr: `ntk_sidecar_learned_modes{${RUN}}`, legend: '{{run_id}} learned modes' },
      { expr: `ntk_sidecar_linearization_gap{${RUN}}`, legend: '{{run_id}} lin. gap' },
    ],
    overrides: [rightAxis('C')],
  });

  l.row('Loss, prediction and KESS');
  l.panel({
    title: 'Observed vs predicted loss',
    description: 'Training loss reported by the run, the kernel-predicted loss at the KESS step and at the horizon s_t + 0.2·s_t (docs/science.md A9). The "KESS reached" annotation marks when the run passed its K2 step.',
    w: 12,
    targets: [
      { expr: `ntk_sidecar_train_loss{${RUN}}`, legend: '{{run_id}} observed' },
      { expr: `ntk_sidecar_predicted_loss{${RUN}}`, legend: '{{run_id}} predicted ({{horizon}})' },
    ],
    overrides: [dashed('B')],
    log: true,
  });
  l.panel({
    title: 'Step vs KESS step',
    description: 'The run’s step against its kernel economical sweet spot by each definition (docs/science.md A12; K2 is the default the decision uses). The run is past KESS where its step line crosses the K2 line.',
    w: 12,
    targets: [
      { expr: `ntk_sidecar_run_step{${RUN}}`, legend: '{{run_id}} step' },
      { expr: `ntk_sidecar_kess_step{${RUN}}`, legend: '{{run_id}} KESS {{def}}' },
    ],
    overrides: [dashed('B')],
  });
  l.panel({
    title: 'Marginal gain',
    description: 'Loss gained per step, marginal-to-average ratio (K2 stops below ρ = 0.1) and the remaining fraction of the achievable gain (docs/science.md A10).',
    targets: [{ expr: `ntk_sidecar_marginal_gain{${RUN}}`, legend: '{{run_id}} {{kind}}' }],
    log: true,
  });
  l.panel({
    title: 'NTK-time fit',
    description: 'Fitted scale â from NTK time to steps and its R² (docs/science.md A11); predictions are trusted when R² ≥ 0.8.',
    targets: [
      { expr: `ntk_sidecar_time_scale_a{${RUN}}`, legend: '{{run_id}} â' },
      { expr: `ntk_sidecar_time_fit_r2{${RUN}}`, legend: '{{run_id}} R²' },
    ],
    overrides: [rightAxis('B', 'percentunit')],
  });
  l.panel({
    title: 'Kernel model valid',
    description: '1 when the kernel-predicted loss curve is trusted (docs/science.md A11/A14); otherwise the decision uses the observed loss curve.',
    type: 'state-timeline',
    targets: [{ expr: `ntk_sidecar_kernel_model_valid{${RUN}}`, legend: '{{run_id}}' }],
    thresholds: [{ value: 1, color: 'green' }],
    mappings: [{ type: 'value', options: { '0': { text: 'observed curve', color: 'yellow', index: 0 }, '1': { text: 'kernel model', color: 'green', index: 1 } } }],
  });

  l.panel({
    title: 'Generalisation estimates',
    description: 'Validation-free estimates (docs/generalization.md G1–G4): kernel leave-one-out accuracy/error, GCV, the evaluation probe\'s accuracy and prediction changes; rule `generalization` stops when their predicted gain is below 0.5 points (G5).',
    targets: [{ expr: `ntk_sidecar_generalization_estimate{${RUN}, estimate=~"loo_accuracy|eval_accuracy|loo_error|gcv_error|eval_changed"}`, legend: '{{run_id}} {{estimate}}' }],
  });

  l.row('Regime and detectors');
  l.panel({
    title: 'Regime',
    description: 'Lazy (kernel frozen, small linearisation gap) or rich (feature learning) from the detectors of docs/science.md A13; unknown until they can tell.',
    type: 'state-timeline',
    w: 8,
    targets: [
      {
        expr: `sum by (namespace, run_id) (ntk_sidecar_regime{${RUN}, state="lazy"}) + 2 * sum by (namespace, run_id) (ntk_sidecar_regime{${RUN}, state="rich"})`,
        legend: '{{run_id}}',
      },
    ],
    mappings: [{ type: 'value', options: { '0': { text: 'unknown', color: 'text', index: 0 }, '1': { text: 'lazy', color: 'blue', index: 1 }, '2': { text: 'rich', color: 'purple', index: 2 } } }],
  });
  l.panel({
    title: 'Detectors',
    description: 'The guards of the decision (docs/science.md A13): loss spike, catapult in progress, edge of stability, imminent instability, progressive sharpening, plateau, loaded plateau, kernel moving or frozen.',
    type: 'state-timeline',
    w: 12,
    targets: [{ expr: `ntk_sidecar_detector{${RUN}}`, legend: '{{run_id}} {{name}}' }],
    thresholds: [{ value: 1, color: 'orange' }],
    mappings: [{ type: 'value', options: { '0': { text: 'off', color: 'transparent', index: 0 }, '1': { text: 'firing', color: 'orange', index: 1 } } }],
  });
  l.panel({
    title: 'Catapults',
    description: 'Catapults confirmed in the run: a loss spike followed by a drop of λ_1 (docs/science.md A13).',
    type: 'stat',
    w: 4,
    targets: [{ expr: `ntk_sidecar_catapult_events_total{${RUN}}`, legend: '{{run_id}}', instant: true }],
  });

  l.row('Decisions');
  l.panel({
    title: 'Decision',
    description: 'Latest decision per run: CONTINUE or STOP (latched). enforced="false" is shadow mode: logged, not acted on.',
    type: 'state-timeline',
    w: 12,
    targets: [{ expr: `ntk_sidecar_decision{${RUN}}`, legend: '{{run_id}} enforced={{enforced}}' }],
    thresholds: [{ value: 1, color: 'red' }],
    mappings: DECISION_MAPPING,
  });
  l.panel({
    title: 'Decision reasons',
    description: 'Reason of the latest decision over time, one row per run and reason (proto Reason).',
    type: 'state-timeline',
    w: 12,
    targets: [{ expr: `ntk_sidecar_decision_reason{${RUN}} == 1`, legend: '{{run_id}} {{reason}}' }],
    thresholds: [{ value: 1, color: 'blue' }],
    mappings: [{ type: 'value', options: { '1': { text: 'active', color: 'blue', index: 0 } } }],
  });
  l.panel({
    title: 'Shadow mode: would-stop step',
    description: 'Where STOP latched without being enforced (shadow policy).',
    type: 'stat',
    targets: [{ expr: `ntk_sidecar_shadow_would_stop_step{${RUN}}`, legend: '{{run_id}}', instant: true }],
  });
  l.panel({
    title: 'Shadow mode: steps trained since',
    description: 'Steps the run trained after its would-stop step: what stopping would have saved.',
    type: 'stat',
    targets: [{ expr: `ntk_sidecar_shadow_steps_saved{${RUN}}`, legend: '{{run_id}}', instant: true }],
  });
  l.panel({
    title: 'Shadow mode: compute spent since',
    description: 'compute_spent after the would-stop step, in the unit the trainer reports (e.g. FLOPs).',
    type: 'stat',
    targets: [{ expr: `ntk_sidecar_shadow_compute_saved{${RUN}}`, legend: '{{run_id}}', instant: true }],
  });

  return dashboard(
    'ntk-sidecar-run',
    'ntk-sidecar / Run',
    'One training run through its empirical NTK: spectrum, stability, kernel dynamics, predicted loss and KESS, decisions.',
    l.panels,
    [
      {
        name: 'KESS reached (K2)',
        datasource: DS,
        enable: true,
        iconColor: 'orange',
        expr: `max by (run_id) (ntk_sidecar_run_step{${RUN}}) >= max by (run_id) (ntk_sidecar_kess_step{${RUN}, def="K2"})`,
        step: '1m',
        titleFormat: 'KESS reached',
        textFormat: '{{run_id}}',
        useValueForTime: false,
      },
      {
        name: 'STOP',
        datasource: DS,
        enable: true,
        iconColor: 'red',
        expr: `ntk_sidecar_decision{${RUN}} == 1`,
        step: '1m',
        titleFormat: 'STOP',
        textFormat: '{{run_id}} enforced={{enforced}}',
        useValueForTime: false,
      },
    ],
  );
}

export function fleetDashboard(): Json {
  const l = new Layout();
  l.row('Runs');
  l.panel({
    title: 'Runs held',
    description: 'Runs held by the sidecars (attached or detached, not ended).',
    type: 'stat',
    w: 4,
    targets: [{ expr: `sum(ntk_sidecar_runs{${SIDECAR}})`, legend: 'runs', instant: true }],
  });
  l.panel({
    title: 'Trainers attached',
    description: 'Open Attach streams: trainers connected right now.',
    type: 'stat',
    w: 4,
    targets: [{ expr: `sum(ntk_sidecar_attach_streams{${SIDECAR}})`, legend: 'streams', instant: true }],
  });
  l.panel({
    title: 'Runs by decision',
    description: 'Runs whose latest decision is STOP (enforced, or shadow) or CONTINUE.',
    type: 'bargauge',
    w: 8,
    targets: [
      { expr: `count by (enforced) (ntk_sidecar_decision{${RUN}} == 1)`, legend: 'STOP enforced={{enforced}}', instant: true },
      { expr: `count(ntk_sidecar_decision{${RUN}} == 0)`, legend: 'CONTINUE', instant: true },
    ],
  });
  l.panel({
    title: 'Runs by state',
    description: 'Runs by the reason of their latest decision (warm-up, collecting, before KESS, feature learning, catapult, …).',
    w: 8,
    stack: true,
    targets: [{ expr: `count by (reason) (ntk_sidecar_decision_reason{${RUN}} == 1)`, legend: '{{reason}}' }],
  });

  l.panel({
    title: 'Runs by regime',
    description: 'Runs by training regime (docs/science.md A13).',
    type: 'bargauge',
    w: 8,
    targets: [{ expr: `count by (state) (ntk_sidecar_regime{${RUN}} == 1)`, legend: '{{state}}', instant: true }],
  });
  l.panel({
    title: 'Detectors firing',
    description: 'Runs on which each detector of docs/science.md A13 fires.',
    w: 8,
    stack: true,
    targets: [{ expr: `count by (name) (ntk_sidecar_detector{${RUN}} == 1)`, legend: '{{name}}' }],
  });
  l.panel({
    title: 'Catapults per hour by cohort',
    description: 'Catapults confirmed over the last hour, per cohort (docs/science.md A13).',
    w: 8,
    targets: [{ expr: `sum by (cohort) (increase(ntk_sidecar_catapult_events_total{${RUN}}[1h]))`, legend: '{{cohort}}' }],
  });

  l.row('Decisions and savings');
  l.panel({
    title: 'Decisions per second',
    description: 'Decisions sent, by action and reason (all sidecars in the namespace).',
    stack: true,
    targets: [{ expr: `sum by (action, reason) (rate(ntk_sidecar_decisions_total{${SIDECAR}}[$__rate_interval]))`, legend: '{{action}} {{reason}}' }],
    unit: 'ops',
  });
  l.panel({
    title: 'Shadow would-stops by cohort',
    description: 'Runs in shadow mode whose STOP latched without being enforced: what an enforced policy would have stopped.',
    targets: [{ expr: `count by (cohort) (ntk_sidecar_shadow_would_stop_step{${RUN}})`, legend: '{{cohort}}' }],
  });
  l.panel({
    title: 'Compute saved (shadow)',
    description: 'compute_spent after the would-stop step, summed per cohort: what stopping at the would-stop step would have saved. Steps on the right axis.',
    targets: [
      { expr: `sum by (cohort) (ntk_sidecar_shadow_compute_saved{${RUN}})`, legend: '{{cohort}} compute' },
      { expr: `sum by (cohort) (ntk_sidecar_shadow_steps_saved{${RUN}})`, legend: '{{cohort}} steps' },
    ],
    overrides: [rightAxis('B')],
  });

  // Cohort rules (docs/cohorts.md): present when a policy file has a cohort: section. Each sidecar exports the runs
  // it decided (several share PostgreSQL): the series are per sidecar and rule, the totals summed per cohort.
  const COHORT = `${SIDECAR}, cohort=~"$cohort"`;
  l.row('Cohorts');
  l.panel({
    title: 'Cohort rung medians',
    description: "The peers' median of the cohort objective at the highest rung judged by a median or kess rule (ntk_sidecar_cohort_rung_median); the rung itself on the right axis.",
    targets: [
      { expr: `ntk_sidecar_cohort_rung_median{${COHORT}}`, legend: '{{cohort}} median ({{pod}})' },
      { expr: `ntk_sidecar_cohort_rung{${COHORT}}`, legend: '{{cohort}} rung ({{pod}})' },
    ],
    overrides: [rightAxis('B')],
  });
  l.panel({
    title: 'Runs stopped by cohort rules',
    description: 'Runs stopped (enforced, or would-stop in shadow mode) by each cohort rule: median, asha, spectral, kess, budget. Per sidecar and rule; the total per cohort summed over sidecars.',
    targets: [
      { expr: `ntk_sidecar_cohort_stopped_runs{${COHORT}}`, legend: '{{cohort}} {{rule}} ({{pod}})' },
      { expr: `sum by (cohort) (ntk_sidecar_cohort_stopped_runs{${COHORT}})`, legend: '{{cohort}} total' },
    ],
  });
  l.panel({
    title: 'Compute saved by cohort rules (shadow)',
    description: 'Shadow mode: compute_spent after the would-stop step by runs a cohort rule would have stopped, per rule; the total per cohort summed over sidecars.',
    targets: [
      { expr: `ntk_sidecar_cohort_shadow_compute_saved{${COHORT}}`, legend: '{{cohort}} {{rule}} ({{pod}})' },
      { expr: `sum by (cohort) (ntk_sidecar_cohort_shadow_compute_saved{${COHORT}})`, legend: '{{cohort}} total' },
    ],
  });

  l.row('Ingest');
  l.panel({
    title: 'Snapshots per second',
    description: 'Snapshots by outcome.',
    stack: true,
    targets: [{ expr: `sum by (outcome) (rate(ntk_sidecar_snapshots_total{${SIDECAR}}[$__rate_interval]))`, legend: '{{outcome}}' }],
    unit: 'ops',
  });
  l.panel({
    title: 'Rejected snapshots by reason',
    description: 'Rejected snapshots per second by status code (docs/errors.md). Alert: NtkSidecarRejectedSnapshotsHigh.',
    stack: true,
    targets: [{ expr: `sum by (code) (rate(ntk_sidecar_snapshots_total{${SIDECAR}, outcome="rejected"}[$__rate_interval]))`, legend: '{{code}}' }],
    unit: 'ops',
  });
  l.panel({
    title: 'Received tensor bytes',
    description: 'Tensor payload bytes received per second.',
    targets: [{ expr: `sum by (pod, instance) (rate(ntk_sidecar_received_bytes_total{${SIDECAR}}[$__rate_interval]))`, legend: '{{pod}} {{instance}}' }],
    unit: 'Bps',
  });

  l.row('Compute');
  l.panel({
    title: 'Analysis latency (p50, p95, p99)',
    description: 'Time per snapshot by stage (accumulate, spectrum, total). Alert: NtkSidecarAnalysisSlow (p95 of total > 30 s).',
    w: 12,
    targets: [0.5, 0.95, 0.99].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le, stage) (rate(ntk_sidecar_analysis_duration_seconds_bucket{${SIDECAR}}[$__rate_interval])))`,
      legend: `p${Math.round(q * 100)} {{stage}}`,
    })),
    unit: 's',
    log: true,
  });
  l.panel({
    title: 'Backend in use',
    description: 'Sidecars by the kernel backend that actually runs (gpujs on a GPU, reference float64 otherwise).',
    type: 'bargauge',
    w: 6,
    targets: [{ expr: `count by (backend) (ntk_sidecar_compute_backend_info{${SIDECAR}} == 1)`, legend: '{{backend}}', instant: true }],
  });
  l.panel({
    title: 'Versions',
    description: 'Sidecars by version and Node.js version.',
    type: 'bargauge',
    w: 6,
    targets: [{ expr: `count by (version, node_version) (ntk_sidecar_build_info{${SIDECAR}})`, legend: '{{version}} (node {{node_version}})', instant: true }],
  });

  l.row('Sidecar health');
  l.panel({
    title: 'Sidecars up',
    description: 'Scrape targets of the ntk-sidecar jobs that answer (up = 1) and that do not. Alert: NtkSidecarDown.',
    type: 'stat',
    w: 6,
    targets: [
      { expr: `sum(up{${SCRAPE_JOB}, ${SIDECAR}})`, legend: 'up', instant: true },
      { expr: `count(up{${SCRAPE_JOB}, ${SIDECAR}} == 0)`, legend: 'down', instant: true },
    ],
  });
  l.panel({
    title: 'Resident memory',
    description: 'RSS per sidecar. A kernel costs 8·N² bytes per run (--max-rows bounds N).',
    w: 6,
    targets: [{ expr: `process_resident_memory_bytes{${SCRAPE_JOB}, ${SIDECAR}}`, legend: '{{pod}} {{instance}}' }],
    unit: 'bytes',
  });
  l.panel({
    title: 'CPU',
    description: 'CPU seconds per second per sidecar (event loop and compute workers).',
    w: 6,
    targets: [{ expr: `rate(process_cpu_seconds_total{${SCRAPE_JOB}, ${SIDECAR}}[$__rate_interval])`, legend: '{{pod}} {{instance}}' }],
    unit: 'percentunit',
  });
  l.panel({
    title: 'Event-loop lag (p99)',
    description: 'gRPC and /metrics stay responsive while compute runs in worker threads; a growing lag says otherwise.',
    w: 6,
    targets: [{ expr: `nodejs_eventloop_lag_p99_seconds{${SCRAPE_JOB}, ${SIDECAR}}`, legend: '{{pod}} {{instance}}' }],
    unit: 's',
  });

  return dashboard(
    'ntk-sidecar-fleet',
    'ntk-sidecar / Fleet',
    'All sidecars and runs: states, decisions and shadow savings, cohort rules, ingest, analysis latency, backends, health.',
    l.panels,
  );
}

export const DASHBOARDS_DIR = fileURLToPath(new URL('../deploy/grafana/dashboards/', import.meta.url));

/** File name → the JSON text written to deploy/grafana/dashboards/. */
export function dashboardFiles(): Map<string, string> {
  const text = (d: Json) => `${JSON.stringify(d, null, 2)}\n`;
  return new Map([
    ['ntk-sidecar-run.json', text(runDashboard())],
    ['ntk-sidecar-fleet.json', text(fleetDashboard())],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [name, text] of dashboardFiles()) {
    writeFileSync(DASHBOARDS_DIR + name, text);
    process.stdout.write(`wrote ${DASHBOARDS_DIR}${name}\n`);
  }
}
