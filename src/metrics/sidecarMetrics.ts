/**
 * Every metric the sidecar exports, defined once (design.md §5). Per-run gauges read the live run table in
 * collect() (the prom-client convention for point-in-time values), so a run's series vanish the moment the run
 * ends or is evicted — no bookkeeping of label sets to remove. Counters and histograms record events.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KernelSpectrum } from '../worker/protocol.js';

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
}

export const MAX_EIGEN_RANK = 20; // never label by an unbounded eigen-index (design.md §5)

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
  collectDefaultMetrics({ register: registry }); // Node's defaults stay unprefixed (design.md §5)
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

  perRun('ntk_eigenvalue', 'Top NTK eigenvalues (raw, K = J Jᵀ), rank 1..20 (science.md A1).', [...RUN_KERNEL, 'rank'], (g, run) => {
    for (const s of run.spectra) {
      const top = Math.min(MAX_EIGEN_RANK, s.eigenvalues.length);
      for (let i = 0; i < top; i++) g.set({ ...run.labels, kernel: s.kernel, rank: String(i + 1) }, s.eigenvalues[i]);
    }
  });
  perRun('ntk_lambda_max', 'Largest NTK eigenvalue λ_1 (science.md A2).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.lambdaMax)));
  perRun('ntk_trace_per_output', 'tr K / size (science.md A2).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.tracePerOutput)));
  perRun('ntk_numerical_rank', 'Eigenvalues above the numerical tolerance (science.md A0).', RUN_KERNEL, eachSpectrum((g, l, s) => g.set(l, s.numericalRank)));
  perRun('ntk_condition_number', 'Condition number on the numerical range (pos) and regularised (reg) (science.md A2).', [...RUN_KERNEL, 'kind'], eachSpectrum((g, l, s) => {
    setFinite(g, { ...l, kind: 'pos' }, s.conditionPos);
    setFinite(g, { ...l, kind: 'reg' }, s.conditionReg);
  }));
  perRun('ntk_eigen_decay_exponent', 'Eigen-decay exponent s in λ_i ≈ A·i^−s, log-grid OLS (science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.decay.exponent)));
  perRun('ntk_eigen_decay_r2', 'R² of the eigen-decay fit (science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.decay.r2)));
  perRun('ntk_esd_alpha', 'Spectral-density power-law exponent α (science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.esd.alpha)));
  perRun('ntk_esd_ks', 'KS distance of the spectral-density fit (science.md A3).', RUN_KERNEL, eachSpectrum((g, l, s) => setFinite(g, l, s.esd.ks)));
  perRun('ntk_effective_rank', 'Effective ranks: entropy, participation ratio, stable rank (science.md A4).', [...RUN_KERNEL, 'kind'], eachSpectrum((g, l, s) => {
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
