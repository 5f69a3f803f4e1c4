/**
 * Applies the cohort rules (src/policy/cohort.ts) to a sidecar's runs with shared state in a CohortStore.
 *
 * At each observation of a run: a STOP latched for it (here or by another sidecar) is returned at once; otherwise
 * the run's crossed rungs are recorded and every rule that has a rung there is evaluated in cohort.rules order,
 * then the budget rules. The first STOP is latched in the store (first latch wins) and returned.
 *
 * Fail-open: when the store cannot be reached, the engine abstains with the reason ("cohort store unreachable: …"),
 * keeps the crossed rungs pending, and does not ask the store again for `retryAfterMs`; when the store answers
 * again, the pending rungs are recorded and judged, and the rules resume. Per-run decisions never wait on more
 * than the store's query timeout.
 */
import {
  COHORT_OBJECTIVES,
  NEW_TRACKER,
  crossRungs,
  evaluateBudgetRule,
  evaluateRungRule,
  ruleAppliesAt,
  statsQueriesFor,
  type CohortConfig,
  type CohortDecision,
  type CohortObservation,
  type CohortVerdict,
  type RungTracker,
  type RungValue,
} from '../policy/cohort.js';
import type { CohortStore, LatchedStop } from './cohortStore.js';
import { CohortStats, registerCohortStats } from './cohortMetrics.js';

export interface CohortEngineOptions {
  config: CohortConfig;
  store: CohortStore;
  /** Milliseconds clock (injected; never used to align runs, only to pace retries). */
  now?: () => number;
  /** After a store failure, abstain without asking the store for this long (default 1000 ms). */
  retryAfterMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

interface RunState {
  tracker: RungTracker;
  /** Crossed rungs not yet recorded and judged (the store was unreachable), oldest first. */
  pending: RungValue[];
}

const runKey = (cohort: string, runId: string) => `${cohort}\u0000${runId}`;

export function verdictOfLatch(stop: LatchedStop): CohortVerdict {
  return { action: 'ACTION_STOP', reason: 'REASON_COHORT', detail: stop.detail, evidence: { ...stop.evidence } };
}

export class CohortEngine {
  readonly config: CohortConfig;
  readonly store: CohortStore;
  private readonly runs = new Map<string, RunState>();
  private readonly latched = new Map<string, LatchedStop>();
  private readonly now: () => number;
  private readonly retryAfterMs: number;
  private readonly log: NonNullable<CohortEngineOptions['log']>;
  private downSince: number | undefined;
  private lastError = '';
  private readonly unsubscribe: () => void;
  /** Per-cohort numbers for /metrics (rung medians, runs stopped by rule). */
  readonly stats = new CohortStats();
  private readonly unregister: () => void;

  constructor(opts: CohortEngineOptions) {
    this.config = opts.config;
    this.store = opts.store;
    this.now = opts.now ?? Date.now;
    this.retryAfterMs = opts.retryAfterMs ?? 1000;
    this.log = opts.log ?? (() => undefined);
    // STOPs latched anywhere (other sidecars included) are known here without asking the store again.
    this.unsubscribe = this.store.subscribe((stop) => this.latched.set(runKey(stop.cohort, stop.runId), stop));
    this.unregister = registerCohortStats(this.stats);
  }

  /** The STOP latched for a run, if this sidecar knows of one (own latches and notifications). */
  knownStop(cohort: string, runId: string): CohortVerdict | undefined {
    const held = this.latched.get(runKey(cohort, runId));
    return held && verdictOfLatch(held);
  }

  /** Whether the store is currently treated as unreachable (and why). */
  get unreachable(): string | undefined {
    return this.downSince === undefined ? undefined : this.lastError;
  }

  async observe(obs: CohortObservation): Promise<CohortDecision> {
    const key = runKey(obs.cohort, obs.runId);
    let state = this.runs.get(key);
    if (!state) this.runs.set(key, (state = { tracker: NEW_TRACKER, pending: [] }));
    const known = this.latched.get(key);
    if (known) return { stop: verdictOfLatch(known), notes: [] };

    // The kernel-predicted final value is a loss (L_∞): the spectral rule compares it only when the objective is the loss.
    const seen = this.config.objective === 'train_loss' || obs.predicted === undefined ? obs : { ...obs, predicted: undefined };
    const { tracker, crossed } = crossRungs(this.config, state.tracker, seen);
    state.tracker = tracker;
    state.pending.push(...crossed);

    if (this.downSince !== undefined && this.now() - this.downSince < this.retryAfterMs) {
      return { notes: [], abstain: `cohort store unreachable: ${this.lastError}` };
    }
    try {
      const decision = await this.judge(obs, state);
      if (this.downSince !== undefined) this.log('info', `cohort store ${this.store.describe} answers again; cohort rules resume`);
      this.downSince = undefined;
      return decision;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.downSince === undefined) this.log('warn', `cohort store ${this.store.describe} unreachable (${message}); cohort rules abstain, per-run decisions go on`);
      this.downSince = this.now();
      this.lastError = message || 'error without a message';
      return { notes: [], abstain: `cohort store unreachable: ${this.lastError}` };
    }
  }

  private async judge(obs: CohortObservation, state: RunState): Promise<CohortDecision> {
    const notes: string[] = [];
    const held = await this.store.stopOf(obs.cohort, obs.runId);
    if (held) return this.latch(held, state);
    await this.store.progress(obs.cohort, obs.runId, obs.step, obs.compute);
    while (state.pending.length) {
      const rung = state.pending[0];
      await this.store.record(rung);
      for (let i = 0; i < this.config.rules.length; i++) {
        const rule = this.config.rules[i];
        if (!ruleAppliesAt(rule, rung.rung)) continue;
        const stats = [];
        for (const query of statsQueriesFor(this.config, rule, rung)) stats.push(await this.store.rungStats(query));
        if ((rule.rule === 'median' || rule.rule === 'kess') && stats[0]?.quantile !== undefined) this.stats.median(obs.cohort, rung.rung, stats[0].quantile, stats[0].peers);
        const outcome = evaluateRungRule(this.config, rule, i, rung, stats[0], stats[1]);
        if (outcome.kind === 'stop') {
          const stop = await this.store.latchStop({ cohort: obs.cohort, runId: obs.runId, ruleIndex: i, rule: rule.rule, detail: outcome.verdict.detail, evidence: outcome.verdict.evidence, step: rung.step });
          state.pending.length = 0;
          return this.latch(stop, state, i);
        }
        notes.push(outcome.note);
      }
      state.pending.shift();
    }
    const lowerIsBetter = COHORT_OBJECTIVES[this.config.objective].lowerIsBetter;
    for (let i = 0; i < this.config.rules.length; i++) {
      const rule = this.config.rules[i];
      if (rule.rule !== 'budget') continue;
      const outcome = evaluateBudgetRule(this.config, rule, i, obs, await this.store.budgetStanding(obs.cohort, obs.runId, lowerIsBetter));
      if (outcome.kind === 'stop') {
        const stop = await this.store.latchStop({ cohort: obs.cohort, runId: obs.runId, ruleIndex: i, rule: rule.rule, detail: outcome.verdict.detail, evidence: outcome.verdict.evidence, step: obs.step });
        return this.latch(stop, state, i);
      }
      notes.push(outcome.note);
    }
    return { notes };
  }

  /** `mine`: the index of the rule this sidecar latched with (counted in the stats when its latch is the one that holds). */
  private latch(stop: LatchedStop, state: RunState, mine?: number): CohortDecision {
    if (mine !== undefined && stop.ruleIndex === mine) this.stats.stopped(stop.cohort, stop.runId, stop.rule);
    this.latched.set(runKey(stop.cohort, stop.runId), stop);
    state.pending.length = 0;
    return { stop: verdictOfLatch(stop), notes: [] };
  }

  /**
   * A run stopped by its per-run rule (divergence, budget, A14) leaves the cohort's active runs: it is latched with
   * rule "per-run" (ruleIndex −1) so that budgets rank only runs still training. Fail-open: errors are logged only.
   */
  async runStopped(cohort: string, runId: string, verdict: { reason: string; detail: string; evidence: Record<string, number> }, step: number): Promise<void> {
    const key = runKey(cohort, runId);
    if (this.latched.has(key)) return;
    try {
      const stop = await this.store.latchStop({ cohort, runId, ruleIndex: -1, rule: `per-run ${verdict.reason}`, detail: verdict.detail, evidence: verdict.evidence, step });
      this.latched.set(key, stop);
    } catch (err) {
      this.log('debug', `cohort store: cannot record the per-run STOP of run "${runId}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Forgets a run's tracking (its rung values and latch stay in the store). */
  forget(cohort: string, runId: string): void {
    this.runs.delete(runKey(cohort, runId));
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.unregister();
    await this.store.close();
  }
}
