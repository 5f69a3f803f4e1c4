/**
 * Where cohort state lives (docs/cohorts.md): per-rung values, each run's compute, and latched STOPs. One sidecar
 * keeps it in memory (MemoryCohortStore, the default); sidecars of several machines share it through PostgreSQL
 * (PostgresCohortStore). Both compute the same statistics with the same arithmetic, so the rules reach the same
 * decisions on the same sequence of events. Every method may reject (a lost database); the engine fails open.
 */
import type { BudgetStanding, RungStats, RungStatsQuery, RungValue } from '../policy/cohort.js';

/** A STOP decided by a cohort rule; the first latch of a run wins and is never replaced. */
export interface LatchedStop {
  cohort: string;
  runId: string;
  /** Position in cohort.rules and the rule's name. */
  ruleIndex: number;
  rule: string;
  detail: string;
  evidence: Record<string, number>;
  step: number;
}

export interface CohortStore {
  /** Human-readable kind for logs: "memory" or "postgres://host:port/db". */
  readonly describe: string;
  /** Records a run's value at a rung; a value already recorded for (cohort, run, rung) is kept (first write wins). */
  record(value: RungValue): Promise<void>;
  /** Records a run's latest progress (step and compute_spent only grow). */
  progress(cohort: string, runId: string, step: number, compute: number): Promise<void>;
  /** Every value recorded at a rung of a cohort, by run id order. */
  rungValues(cohort: string, rung: number): Promise<RungValue[]>;
  /** Exact statistics of one rung (NaN and absent values are never peers). */
  rungStats(query: RungStatsQuery): Promise<RungStats>;
  /** Where a run stands in its cohort's compute budget. */
  budgetStanding(cohort: string, runId: string, lowerIsBetter: boolean): Promise<BudgetStanding>;
  /** Latches a STOP; returns the latch that holds (an earlier one when the run was already stopped). */
  latchStop(stop: LatchedStop): Promise<LatchedStop>;
  stopOf(cohort: string, runId: string): Promise<LatchedStop | undefined>;
  stops(cohort: string): Promise<LatchedStop[]>;
  /** Called for every STOP latched by any sidecar sharing the store (this one included); returns unsubscribe. */
  subscribe(listener: (stop: LatchedStop) => void): () => void;
  close(): Promise<void>;
}
