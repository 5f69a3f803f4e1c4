/** Cohort state in this process's memory: the embedded default (one sidecar, nothing to install). */
import { budgetStandingOf, rungStatsOf, type BudgetStanding, type RunProgress, type RungStats, type RungStatsQuery, type RungValue } from '../policy/cohort.js';
import type { CohortStore, LatchedStop } from './cohortStore.js';

const key = (...parts: Array<string | number>) => JSON.stringify(parts);

export class MemoryCohortStore implements CohortStore {
  readonly describe = 'memory';
  private readonly values = new Map<string, RungValue>();
  private readonly byCohort = new Map<string, RungValue[]>();
  private readonly runs = new Map<string, RunProgress & { step: number }>();
  private readonly latched = new Map<string, LatchedStop>();
  private readonly listeners = new Set<(stop: LatchedStop) => void>();

  async record(v: RungValue): Promise<void> {
    const k = key(v.cohort, v.runId, v.rung);
    if (this.values.has(k)) return;
    const { kess: _ownOnly, ...row } = v; // a run's K2 judges the run itself; the store keeps what PostgreSQL keeps
    this.values.set(k, row);
    let list = this.byCohort.get(v.cohort);
    if (!list) this.byCohort.set(v.cohort, (list = []));
    list.push(row);
    await this.progress(v.cohort, v.runId, v.step, v.compute);
  }

  async progress(cohort: string, runId: string, step: number, compute: number): Promise<void> {
    const k = key(cohort, runId);
    const run = this.runs.get(k);
    if (run) {
      run.step = Math.max(run.step, step);
      run.compute = Math.max(run.compute, compute);
    } else {
      this.runs.set(k, { cohort, runId, step, compute, stopped: this.latched.has(k) });
    }
  }

  async rungValues(cohort: string, rung: number): Promise<RungValue[]> {
    return (this.byCohort.get(cohort) ?? [])
      .filter((v) => v.rung === rung)
      .sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0))
      .map((v) => ({ ...v }));
  }

  async rungStats(query: RungStatsQuery): Promise<RungStats> {
    return rungStatsOf(this.byCohort.get(query.cohort) ?? [], query);
  }

  async budgetStanding(cohort: string, runId: string, lowerIsBetter: boolean): Promise<BudgetStanding> {
    // Summed in run-id order, as the SQL does (sum(compute ORDER BY run_id COLLATE "C")): the same float result.
    const runs = [...this.runs.values()].filter((r) => r.cohort === cohort).sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    return budgetStandingOf(this.byCohort.get(cohort) ?? [], runs, cohort, runId, lowerIsBetter);
  }

  async latchStop(stop: LatchedStop): Promise<LatchedStop> {
    const k = key(stop.cohort, stop.runId);
    const held = this.latched.get(k);
    if (held) return { ...held };
    const copy = { ...stop, evidence: { ...stop.evidence } };
    this.latched.set(k, copy);
    const run = this.runs.get(k);
    if (run) run.stopped = true;
    for (const fn of this.listeners) fn({ ...copy });
    return { ...copy };
  }

  async stopOf(cohort: string, runId: string): Promise<LatchedStop | undefined> {
    const held = this.latched.get(key(cohort, runId));
    return held && { ...held };
  }

  async stops(cohort: string): Promise<LatchedStop[]> {
    return [...this.latched.values()].filter((s) => s.cohort === cohort).map((s) => ({ ...s }));
  }

  subscribe(listener: (stop: LatchedStop) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
