/**
 * Runs held by the sidecar: what each run declared at RunStart, its latest analysis and decision. Bounded by
 * --max-active-runs; when full, the least recently touched ended run is evicted first, then a detached one
 * (its trainer is gone), and only if every run is attached is a new run refused.
 */
import { Code, SidecarError } from '../errors.js';
import type { Decision } from '../gen/ntksidecar/v1/Decision.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';
import type { RunStatus__Output } from '../gen/ntksidecar/v1/RunStatus.js';
import type { Reason__Output as Reason } from '../gen/ntksidecar/v1/Reason.js';
import { selectPolicy, type Policy, type PolicySet } from '../policy/policy.js';
import { decodeEvalTargets, decodeTargets, runLimitsOf, runSetupFrom } from './runSetup.js';
import type { RunStore } from '../store/runStore.js';
import type { Verdict } from '../policy/verdict.js';
import type { KernelSpectrum } from '../worker/protocol.js';
import type { RunMetricsView } from '../metrics/sidecarMetrics.js';
import type { RunSetup, SnapshotDiagnostics } from '../analysis/types.js';
import type { RunState } from '../policy/advanceRun.js';

export type RunLifecycle = 'active' | 'detached' | 'ended';

export interface SnapshotRecord {
  diagnostics: SnapshotDiagnostics;
  snapshotId: number;
  step: number;
  trainLoss: number;
  source: string;
  spectra: KernelSpectrum[];
  analysisSeconds: number;
  backend: string;
  receivedBytes: number;
  finite: boolean;
}

/** The decision last sent for a run (its verdict is RunState.verdict). */
export interface DecisionRecord {
  message: Decision;
  decidedAtMs: number;
  action: Verdict['action'];
  enforced: boolean;
}

/** A run as the server holds it: its decision state (advanceRun) plus identity, transport and history. */
export interface Run extends RunState {
  id: string;
  start: RunStart__Output;
  samples: number;
  outputs: number;
  setup: RunSetup;
  targets: Float64Array | undefined;
  /** Targets of the evaluation probe (RunStart.eval_probe), decoded. */
  evalTargets?: Float64Array;
  policy: Policy;
  state: RunLifecycle;
  status: RunStatus__Output;
  /** true while an Attach stream owns the run. */
  attached: boolean;
  /** The client certificate that started the run, under mTLS (checkOwner). */
  owner?: string;
  snapshotsRejected: number;
  latest?: SnapshotRecord;
  decision?: DecisionRecord;
  decisionsByReason: Map<Reason, number>;
  /** The last decisions sent, oldest first (GetRun's history). */
  recentDecisions: Decision[];
  touchedAtMs: number;
}

export const MAX_RECENT_DECISIONS = 20;

/** Shadow-mode savings so far: what stopping at the would-stop step would have saved. */
export function shadowSavings(run: Run): { wouldStopStep: number; computeAfter: number; stepsAfter: number } | undefined {
  if (!run.wouldStop) return undefined;
  return {
    wouldStopStep: run.wouldStop.step,
    computeAfter: Math.max(0, run.computeSpent - run.wouldStop.compute),
    stepsAfter: Math.max(0, run.lastStep - run.wouldStop.step),
  };
}

/** What the store keeps of a run: everything but what is derived again from RunStart and the policy file. */
export type StoredRun = Omit<Run, 'policy' | 'setup' | 'targets' | 'evalTargets' | 'attached'> & { policyName: string };

export function storedRun(run: Run): StoredRun {
  const { policy, setup: _setup, targets: _targets, evalTargets: _evalTargets, attached: _attached, ...rest } = run;
  return { ...rest, policyName: policy.name };
}

/** A run read back from the store, re-bound to the current policy file (falling back to the default policy). */
export function restoredRun(stored: StoredRun, policies: PolicySet, warn: (message: string) => void): Run {
  let policy = selectPolicy(policies, stored.policyName);
  if (!policy) {
    warn(`run "${stored.id}" used policy "${stored.policyName}", which the policy file no longer defines; it now uses the default policy`);
    policy = selectPolicy(policies, '')!;
  }
  // Files written before RunState existed carry the verdict inside the decision record and no limits.
  const legacy = stored as Partial<StoredRun> & { decision?: { verdict?: Verdict } };
  return {
    ...stored,
    limits: stored.limits ?? runLimitsOf(stored.start),
    verdict: stored.verdict ?? legacy.decision?.verdict,
    policy,
    setup: runSetupFrom(stored.start, stored.samples, stored.outputs),
    targets: decodeTargets(stored.start, stored.samples, stored.outputs),
    evalTargets: decodeEvalTargets(stored.start, stored.outputs),
    attached: false,
    state: stored.state === 'active' ? 'detached' : stored.state,
  };
}

const MiB = 1024 * 1024;

/**
 * Worst case a run holds in the compute workers, reserved when it starts (issue 14 #6): the kernel is 8·N² bytes
 * and the worker keeps about 4.4 such matrices per run (current, reference, previous, eigenvectors, scratch),
 * rounded up to 5, plus 1 MiB for the run's own bookkeeping.
 */
export function runMemoryBytes(samples: number, outputs: number): number {
  const rows = samples * outputs;
  return 5 * 8 * rows * rows + MiB;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  if (bytes >= 2 ** 30) return `${bytes} bytes (${(bytes / 2 ** 30).toFixed(1)} GiB)`;
  return `${bytes} bytes (${(bytes / MiB).toFixed(1)} MiB)`;
}

export class RunTable {
  private readonly runs = new Map<string, Run>();

  /**
   * `forget` frees what a run holds elsewhere (its reference kernels in a compute worker); `store` keeps run
   * history across restarts.
   */
  constructor(
    private readonly maxRuns: number,
    private readonly forget: (runId: string) => void = () => undefined,
    private readonly store?: RunStore,
    private readonly memoryBudget: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Writes the run's state to the store (no-op without one). */
  /** Resolves once the state (or a newer one) is on disk; never rejects (a failed write is logged). */
  persist(run: Run): Promise<void> {
    return this.store?.save(run.id, storedRun(run)) ?? Promise.resolve();
  }

  /** Puts back a run read from the store (detached: its trainer must reattach); false when the table or the memory budget is full. */
  restore(run: Run): boolean {
    if (this.runs.size >= this.maxRuns || this.runs.has(run.id)) return false;
    if (run.state !== 'ended' && this.heldBytes() + runMemoryBytes(run.samples, run.outputs) > this.memoryBudget) return false;
    this.runs.set(run.id, run);
    return true;
  }

  /** Marks a run finished: its metric series go, its worker state is freed; GetRun still answers until evicted. */
  end(run: Run, status: RunStatus__Output, nowMs: number): void {
    run.state = 'ended';
    run.status = status;
    run.touchedAtMs = nowMs;
    this.forget(run.id);
    void this.persist(run);
  }

  get(id: string): Run | undefined {
    return this.runs.get(id);
  }

  /** The run or NOT_FOUND with what to do next. */
  require(id: string): Run {
    const run = this.runs.get(id);
    if (!run) throw new SidecarError(Code.NOT_FOUND, `unknown run "${id}": it never attached to this sidecar or was evicted; attach with RunStart first`);
    return run;
  }

  values(): IterableIterator<Run> {
    return this.runs.values();
  }

  byJob(jobId: string): Run[] {
    return [...this.runs.values()].filter((r) => r.start.job_id === jobId);
  }

  /** Makes room for one more run (evicting if it must) and registers it. */
  /**
   * Makes room for one more run (evicting if it must) and registers it. Checked before the run allocates anything:
   * the count (--max-active-runs) and the memory budget (--max-memory, issue 14 #6) — detached runs are evicted,
   * least recently touched first, to make room; attached ones never.
   */
  add(run: Run): void {
    const need = runMemoryBytes(run.samples, run.outputs);
    const rows = run.samples * run.outputs;
    if (need > this.memoryBudget) {
      throw new SidecarError(
        Code.RESOURCE_EXHAUSTED,
        `run "${run.id}" needs up to ${formatBytes(need)} (40·N² + 1 MiB for N = n·C = ${run.samples}·${run.outputs} = ${rows} rows), more than this sidecar's whole memory budget of ${formatBytes(this.memoryBudget)} (--max-memory); use fewer probe samples or outputs, or raise --max-memory`,
      );
    }
    while (this.runs.size >= this.maxRuns || this.heldBytes() + need > this.memoryBudget) {
      const forMemory = this.runs.size < this.maxRuns;
      const victim = this.evictable(forMemory);
      if (!victim && forMemory) {
        const live = [...this.runs.values()].filter((r) => r.state !== 'ended').length;
        throw new SidecarError(
          Code.RESOURCE_EXHAUSTED,
          `run "${run.id}" needs up to ${formatBytes(need)} (N = ${rows} rows) but ${live} attached run(s) already hold ${formatBytes(this.heldBytes())} of the ${formatBytes(this.memoryBudget)} budget (--max-memory); end finished runs with EndRun, retry later, or raise --max-memory`,
        );
      }
      if (!victim) {
        throw new SidecarError(
          Code.RESOURCE_EXHAUSTED,
          `${this.runs.size} runs are attached and the limit is ${this.maxRuns} (--max-active-runs); end finished runs with EndRun or raise the limit`,
        );
      }
      this.runs.delete(victim.id);
      this.forget(victim.id);
      // An ended run's history goes with it; an unfinished one's is kept in runs/evicted/ (issue 14 #8).
      void (victim.state === 'ended' ? this.store?.remove(victim.id) : this.store?.evict(victim.id));
    }
    this.runs.set(run.id, run);
  }

  /** Memory reserved by the runs that have not ended (ended runs have freed their worker state). */
  heldBytes(): number {
    let sum = 0;
    for (const r of this.runs.values()) if (r.state !== 'ended') sum += runMemoryBytes(r.samples, r.outputs);
    return sum;
  }

  /** The run to evict: ended before detached, least recently touched first; never an attached one. */
  private evictable(forMemory = false): Run | undefined {
    let best: Run | undefined;
    const rank = (r: Run) => (r.state === 'ended' ? 0 : 1);
    for (const r of this.runs.values()) {
      if (r.attached) continue;
      if (forMemory && r.state === 'ended') continue; // frees no memory
      if (!best || rank(r) < rank(best) || (rank(r) === rank(best) && r.touchedAtMs < best.touchedAtMs)) best = r;
    }
    return best;
  }

  /** Live runs as metric views; ended runs have no series (docs/design.md §5). */
  *metricViews(): Generator<RunMetricsView> {
    for (const run of this.runs.values()) {
      if (run.state === 'ended') continue;
      yield {
        labels: { run_id: run.id, job_id: run.start.job_id, cohort: run.start.cohort },
        lastStep: run.lastStep,
        trainLoss: run.lastLoss,
        decision: run.decision ? (run.decision.action === 'ACTION_STOP' ? 1 : 0) : undefined,
        decisionReason: run.verdict?.reason,
        enforced: run.decision?.enforced ?? run.policy.enforced,
        spectra: run.latest?.spectra ?? [],
        diagnostics: run.diagnostics[run.diagnostics.length - 1],
        generalization: run.generalization?.[run.generalization.length - 1],
        flags: run.flags,
        shadow: shadowSavings(run),
      };
    }
  }
}
