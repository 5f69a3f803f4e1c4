/**
 * Every metric the sidecar exports, defined once (docs/design.md §5). Per-run gauges read the live run table in
 * collect() (the prom-client convention for point-in-time values), so a run's series vanish the moment the run
 * ends or is evicted — no bookkeeping of label sets to remove. Counters and histograms record events.
 */
import { GENERALIZATION_FIELDS, snakeCase, type GeneralizationReportFields } from '../analysis/generalization.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KernelSpectrum } from '../worker/protocol.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';
import type { DetectorFlags } from '../analysis/detectors.js';
import { openCohortStats } from '../cohort/cohortMetrics.js';

/** What a scrape needs from one run. The server adapts its run state to this. */
export interface RunMetricsView {
  labels: { run_id: string; job_id: string; cohort: string };
  lastStep: number;
  trainLoss: number;
  /** 1 = STOP, 0 = CONTINUE; undefined before the first decision. */
  decision: number | undefined;
  decisionReason: string | undefined;
  enforced: boolean;
  /** Spectra of the latest kernel-bearing snapshot (full and/or traced). */
  spectra: readonly KernelSpectrum[];
  /** Diagnostics of the latest kernel-bearing snapshot (docs/science.md A5–A12). */
  diagnostics: SnapshotDiagnostics | undefined;
  /** Latest A13 detector flags. */
  flags: DetectorFlags | undefined;
  /** Generalisation estimates of the latest snapshot that had them (docs/generalization.md G1–G4). */
  generalization: GeneralizationReportFields | undefined;
  /** Shadow mode: where STOP latched without being enforced, and what has been spent since. */
  shadow: { wouldStopStep: number; computeAfter: number; stepsAfter: number } | undefined;
}

export const MAX_EIGEN_RANK = 20; // never label by an unbounded eigen-index (docs/design.md §5)

const RUN = ['run_id', 'job_id', 'cohort'] as const;
const RUN_KERNEL = [...RUN, 'kernel'] as const;

export interface SidecarMetrics {
  registry: Registry;
  snapshots: Counter<'outcome' | 'code'>;
  receivedBytes: Counter;
  decisions: Counter<'action' | 'reason' | 'enforced'>;
  analysisDuration: Histogram<'stage' | 'backend'>;
  streams: Gauge;
  setBackend(name: string): void;
}

export function createSidecarMetrics(opts: { version: string; runs: () => Iterable<RunMetricsView> }): SidecarMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry }); // Node's defaults stay unprefixed (docs/metrics.md)
  // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool flags them); each is the
  // sum over the `type` label of the gauge of the same name without the suffix, so nothing is lost.
  for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`nodejs_active_${kind}_total`);
  const p = 'ntk_sidecar_';

  new Gauge({
    name: `${p}build_info`,
    help: 'Build information; always 1.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
    collect() {
      this.set({ version: opts.version, node_version: process.version }, 1);
    },
  });
  const backendInfo = new Gauge({
    name: `${p}compute_backend_info`,
    help: 'Kernel backend that actually runs (1 for the active one).',
    labelNames: ['backend'],
    registers: [registry],
  });

  // Per-run gauges, filled from the run table at scrape time.
  const perRun = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, run: RunMetricsView) => void) =>
    new Gauge<L>({
      name: `${p}${name}`,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const run of opts.runs()) fill(this, run);
      },
    });
  type RunKernelLabels = Record<(typeof RUN_KERNEL)[number], string>;
  const eachSpectrum = <L extends string>(fill: (g: Gauge<L>, labels: RunKernelLabels, s: RunMetricsView['spectra'][number]) => void) =>
    (g: Gauge<L>, run: RunMetricsView) => {
      for (const s of run.spectra) fill(g, { ...run.labels, kernel: s.kernel }, s);
    };
  const setFinite = <L extends string>(g: Gauge<L>, labels: Record<L, string>, v: number) => {
    if (Number.isFinite(v)) g.set(labels, v); // NaN (e.g. a window too short to fit) is absent, not a value
  };

  perRun('ntk_eigenvalue', 'Top NTK eigenvalues (raw, K = J Jᵀ), rank 1..20 (docs/science.md A1).', [...RUN_KERNEL, 'rank'], (g, run) => {
    for (const s of run.spectra) {
      const top = Math.min(MAX_EIGEN_RANK, s.eigenvalues.length);
      for (let i = 0; i < top; i++) g.set({ ...run.labels, kernel: s.kernel, rank: String(i + 1) }, s.eigenvalues[i]);
    }
  });
  perRun('ntk_lambda_max', 'Largest NTK eigenvalue λ_1 (docs/science.md A2).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.lambdaMax)));
  perRun('ntk_trace_per_output', 'tr K / size (docs/science.md A2).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.tracePerOutput)));
  perRun('ntk_numerical_rank', 'Eigenvalues above the numerical tolerance (docs/science.md A0).', RUN_KERNEL, eachSpectrum((g, l, s) => g.set(l, s.numericalRank)));
  perRun('ntk_condition_number', 'Condition number on the numerical range (pos) and regularised (reg) (docs/science.md A2).', [...RUN_KERNEL, 'kind'], eachSpectrum((g, l, s) => {
    setFinite(g, { ...l, kind: 'pos' }, s.conditionPos);
    setFinite(g, { ...l, kind: 'reg' }, s.conditionReg);
  }));
  perRun('ntk_eigen_decay_exponent', 'Eigen-decay exponent s in λ_i ≈ A·i^−s, log-grid OLS (docs/science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.decay.exponent)));
  perRun('ntk_eigen_decay_r2', 'R² of the eigen-decay fit (docs/science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.decay.r2)));
  perRun('ntk_esd_alpha', 'Spectral-density power-law exponent α (docs/science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.esd.alpha)));
  perRun('ntk_esd_ks', 'KS distance of the spectral-density fit (docs/science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.esd.ks)));
  perRun('ntk_effective_rank', 'Effective ranks: entropy, participation ratio, stable rank (docs/science.md A4).', [...RUN_KERNEL, 'kind'], eachSpectrum((g, l, s) => {
    setFinite(g, { ...l, kind: 'entropy' }, s.effectiveRank.entropy);
    setFinite(g, { ...l, kind: 'participation' }, s.effectiveRank.participation);
    setFinite(g, { ...l, kind: 'stable' }, s.effectiveRank.stable);
  }));
  perRun('decision', 'Latest decision of the run: 1 = STOP, 0 = CONTINUE.', [...RUN, 'enforced'], (g, run) => {
    if (run.decision !== undefined) g.set({ ...run.labels, enforced: String(run.enforced) }, run.decision);
  });
  perRun('decision_reason', 'Reason of the latest decision (one-hot).', [...RUN, 'reason'], (g, run) => {
    if (run.decisionReason) g.set({ ...run.labels, reason: run.decisionReason }, 1);
  });
  perRun('run_step', 'Latest optimizer step reported by the run.', RUN, (g, run) => g.set(run.labels, run.lastStep));
  perRun('train_loss', 'Latest training loss reported by the run.', RUN, (g, run) => setFinite(g, run.labels, run.trainLoss));
  // docs/science.md A15: training-dynamics diagnostics of the latest kernel snapshot.
  const diag = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, labels: Record<(typeof RUN)[number], string>, d: SnapshotDiagnostics) => void) =>
    perRun(name, help, labelNames, (g, run) => {
      if (run.diagnostics) fill(g, run.labels, run.diagnostics);
    });
  diag('gn_sharpness', 'Gauss–Newton sharpness from the kernel (docs/science.md A5).', RUN, (g, l, d) => d.stability && setFinite(g, l, d.stability.gnSharpness));
  diag('eos_ratio', 'Edge-of-stability ratio: GN sharpness / stability threshold (docs/science.md A5).', RUN, (g, l, d) => d.stability && setFinite(g, l, d.stability.eosRatio));
  diag('stability_threshold', 'Stability threshold θ_opt of the optimizer (docs/science.md A5).', RUN, (g, l, d) => d.stability && setFinite(g, l, d.stability.threshold));
  diag('kernel_distance', 'Kernel distance S to the previous (prev) and first (init) snapshot (docs/science.md A6).', [...RUN, 'reference'], (g, l, d) => {
    if (d.drift?.distancePrev !== undefined) setFinite(g, { ...l, reference: 'prev' }, d.drift.distancePrev);
    if (d.drift?.distanceInit !== undefined) setFinite(g, { ...l, reference: 'init' }, d.drift.distanceInit);
  });
  diag('kernel_velocity_per_kstep', 'Kernel distance per 1000 steps (docs/science.md A6).', RUN, (g, l, d) => d.drift?.velocityPerKstep !== undefined && setFinite(g, l, d.drift.velocityPerKstep));
  diag('kernel_relative_change', 'Relative Frobenius change from the first kernel (docs/science.md A6).', RUN, (g, l, d) => d.drift?.relativeChangeInit !== undefined && setFinite(g, l, d.drift.relativeChangeInit));
  diag('kernel_trace_ratio', 'tr K_t / tr K_{t−1} (docs/science.md A6).', RUN, (g, l, d) => d.drift?.traceRatio !== undefined && setFinite(g, l, d.drift.traceRatio));
  diag('topk_subspace_overlap', 'Overlap of the top-10 eigenspaces of successive kernels (docs/science.md A6).', RUN, (g, l, d) => d.drift?.subspaceOverlap !== undefined && setFinite(g, l, d.drift.subspaceOverlap));
  diag('sketch_noise_floor', 'Distance floor (PR+1)/m of independent sketches (docs/science.md A6).', RUN, (g, l, d) => d.drift?.sketchFloor !== undefined && setFinite(g, l, d.drift.sketchFloor));
  diag('target_alignment', 'Kernel–target alignment, centered and uncentered (docs/science.md A7).', [...RUN, 'centered'], (g, l, d) => {
    if (!d.alignment) return;
    setFinite(g, { ...l, centered: 'true' }, d.alignment.centered);
    setFinite(g, { ...l, centered: 'false' }, d.alignment.uncentered);
  });
  diag('residual_topk_fraction', 'Residual energy in the top-k eigenvectors (docs/science.md A8).', [...RUN, 'k'], (g, l, d) => {
    for (const p of d.residual?.topk ?? []) setFinite(g, { ...l, k: String(p.k) }, p.fraction);
  });
  diag('residual_rayleigh', 'Residual Rayleigh quotient rᵀKr/‖r‖² (docs/science.md A8).', RUN, (g, l, d) => d.residual && setFinite(g, l, d.residual.rayleigh));
  diag('learned_modes', 'Kernel modes learned over the last interval (docs/science.md A8).', RUN, (g, l, d) => d.residual?.learnedModes !== undefined && setFinite(g, l, d.residual.learnedModes));
  diag('linearization_gap', 'Linearisation gap between snapshots (docs/science.md A8).', RUN, (g, l, d) => d.residual?.linearizationGap !== undefined && setFinite(g, l, d.residual.linearizationGap));
  diag('kess_step', 'Kernel economical sweet spot by definition, in network steps (docs/science.md A12).', [...RUN, 'def'], (g, l, d) => {
    const k = d.prediction?.kess;
    if (!k) return;
    for (const def of ['K1', 'K2', 'K3', 'K4'] as const) if (k[def] !== undefined) setFinite(g, { ...l, def }, k[def]);
  });
  diag('predicted_loss', 'Kernel-predicted loss at KESS and at the horizon s_t + 0.2·s_t (docs/science.md A9).', [...RUN, 'horizon'], (g, l, d) => {
    if (d.prediction?.predictedLossAtKess !== undefined) setFinite(g, { ...l, horizon: 'kess' }, d.prediction.predictedLossAtKess);
    if (d.prediction?.lossAtHorizon !== undefined) setFinite(g, { ...l, horizon: 'h' }, d.prediction.lossAtHorizon);
  });
  diag('marginal_gain', 'Marginal gain: per step, marginal-to-average ratio, remaining fraction (docs/science.md A10).', [...RUN, 'kind'], (g, l, d) => {
    const gain = d.prediction?.gain;
    if (gain?.perStep !== undefined) setFinite(g, { ...l, kind: 'per_step' }, gain.perStep);
    if (gain?.avgRatio !== undefined) setFinite(g, { ...l, kind: 'avg_ratio' }, gain.avgRatio);
    if (gain?.remaining !== undefined) setFinite(g, { ...l, kind: 'remaining' }, gain.remaining);
  });
  diag('time_scale_a', 'Fitted NTK-time → step scale â (docs/science.md A11).', RUN, (g, l, d) => d.prediction && setFinite(g, l, d.prediction.timeScale));
  diag('time_fit_r2', 'R² of the NTK-time fit (docs/science.md A11).', RUN, (g, l, d) => d.prediction && setFinite(g, l, d.prediction.timeR2));
  diag('kernel_model_valid', '1 when the kernel-predicted curve is trusted (docs/science.md A11/A14).', RUN, (g, l, d) => d.prediction && g.set(l, d.prediction.valid ? 1 : 0));
  perRun('generalization_estimate', 'Validation-free generalisation estimates of the latest snapshot: kernel LOO, GCV, coherence, discrepancy, evaluation probe (docs/generalization.md G1–G4).', [...RUN, 'estimate'], (g, run) => {
    for (const k of GENERALIZATION_FIELDS) {
      const v = run.generalization?.[k];
      if (v !== undefined) setFinite(g, { ...run.labels, estimate: snakeCase(k) }, v);
    }
  });
  perRun('regime', 'Training regime from the detectors (one-hot): lazy, rich or unknown (docs/science.md A13).', [...RUN, 'state'], (g, run) => {
    if (!run.flags) return;
    for (const state of ['lazy', 'rich', 'unknown'] as const) g.set({ ...run.labels, state }, run.flags.regime === state ? 1 : 0);
  });
  const DETECTORS = ['lossSpike', 'catapultInProgress', 'edgeOfStability', 'imminentInstability', 'progressiveSharpening', 'plateau', 'loadedPlateau', 'kernelMoving', 'kernelFrozen'] as const;
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  perRun('detector', 'Detector flags, 1 = firing: the guards of the decision (docs/science.md A13).', [...RUN, 'name'], (g, run) => {
    if (!run.flags) return;
    for (const name of DETECTORS) g.set({ ...run.labels, name: snake(name) }, run.flags[name] ? 1 : 0);
  });
  new Counter({
    name: `${p}catapult_events_total`,
    help: 'Catapults confirmed in the run: a loss spike followed by a drop of λ_1 (docs/science.md A13).',
    labelNames: RUN,
    registers: [registry],
    collect() {
      // The count lives in the run's detector state; a counter that vanishes with the run, never decreasing.
      this.reset();
      for (const run of opts.runs()) if (run.flags) this.inc(run.labels, run.flags.catapultEvents);
    },
  });
  perRun('shadow_would_stop_step', 'Shadow mode: step at which STOP latched without being enforced.', RUN, (g, run) => run.shadow && g.set(run.labels, run.shadow.wouldStopStep));
  perRun('shadow_compute_saved', 'Shadow mode: compute spent since the would-stop step (what stopping would have saved).', RUN, (g, run) => run.shadow && g.set(run.labels, run.shadow.computeAfter));
  perRun('shadow_steps_saved', 'Shadow mode: steps trained since the would-stop step.', RUN, (g, run) => run.shadow && g.set(run.labels, run.shadow.stepsAfter));

  // Cohort rules (docs/cohorts.md): per cohort, from the cohort engines' stats and the run table; labels cohort, rule.
  new Gauge({
    name: `${p}cohort_rung_median`,
    help: 'Cohort rules: the median of the peers\' objective at the highest rung judged by a median or kess rule.',
    labelNames: ['cohort'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of openCohortStats()) for (const m of stats.medians()) this.set({ cohort: m.cohort }, m.value);
    },
  });
  new Gauge({
    name: `${p}cohort_rung`,
    help: 'Cohort rules: the rung (step or compute) of ntk_sidecar_cohort_rung_median.',
    labelNames: ['cohort'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of openCohortStats()) for (const m of stats.medians()) this.set({ cohort: m.cohort }, m.rung);
    },
  });
  new Gauge({
    name: `${p}cohort_stopped_runs`,
    help: 'Cohort rules: runs this sidecar stopped (enforced or shadow) by each cohort rule.',
    labelNames: ['cohort', 'rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const stats of openCohortStats()) for (const s of stats.stops()) this.inc({ cohort: s.cohort, rule: s.rule }, s.runs);
    },
  });
  new Gauge({
    name: `${p}cohort_shadow_compute_saved`,
    help: 'Cohort rules in shadow mode: compute spent after the would-stop step by runs a cohort rule would have stopped, per cohort and rule.',
    labelNames: ['cohort', 'rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const run of opts.runs()) {
        if (!run.shadow || run.decisionReason !== 'REASON_COHORT') continue;
        let rule: string | undefined;
        for (const stats of openCohortStats()) rule ??= stats.ruleOfStop(run.labels.cohort, run.labels.run_id);
        this.inc({ cohort: run.labels.cohort, rule: rule ?? 'unknown' }, run.shadow.computeAfter);
      }
    },
  });

  new Gauge({
    name: `${p}runs`,
    help: 'Runs held by this sidecar.',
    registers: [registry],
    collect() {
      let n = 0;
      for (const _ of opts.runs()) n++;
      this.set(n);
    },
  });

  const metrics: SidecarMetrics = {
    registry,
    snapshots: new Counter({
      name: `${p}snapshots_total`,
      help: 'Snapshots by outcome (accepted, rejected) and status code name.',
      labelNames: ['outcome', 'code'],
      registers: [registry],
    }),
    receivedBytes: new Counter({ name: `${p}received_bytes_total`, help: 'Tensor payload bytes received.', registers: [registry] }),
    decisions: new Counter({
      name: `${p}decisions_total`,
      help: 'Decisions sent, by action, reason and whether enforced.',
      labelNames: ['action', 'reason', 'enforced'],
      registers: [registry],
    }),
    analysisDuration: new Histogram({
      name: `${p}analysis_duration_seconds`,
      help: 'Time spent per snapshot by stage (accumulate, spectrum, total).',
      labelNames: ['stage', 'backend'],
      buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    streams: new Gauge({ name: `${p}attach_streams`, help: 'Open Attach streams.', registers: [registry] }),
    setBackend(name: string) {
      backendInfo.reset();
      backendInfo.set({ backend: name }, 1);
    },
  };
  return metrics;
}
