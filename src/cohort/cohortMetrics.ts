/**
 * Per-cohort numbers for /metrics (docs/metrics.md, "Cohorts"): each CohortEngine keeps a CohortStats, and the
 * sidecar's metrics read every open engine's at scrape time (a sidecar has one engine; tests may open several).
 * Bounded: at most MAX_COHORT_SERIES cohorts (the least recently active is dropped), label `rule` from the closed set
 * of rule names.
 */
export const MAX_COHORT_SERIES = 100;
/** Stopped runs remembered per cohort (for the rule of a shadow would-stop); the oldest are forgotten beyond. */
const MAX_STOPS_PER_COHORT = 10_000;

interface CohortEntry {
  /** The peers' median at the highest rung judged by a median or kess rule. */
  median?: { rung: number; value: number; peers: number };
  /** Runs this sidecar stopped by each cohort rule (enforced or shadow). */
  stopped: Map<string, number>;
  /** run id → rule of its cohort STOP. */
  ruleOf: Map<string, string>;
}

export class CohortStats {
  private readonly cohorts = new Map<string, CohortEntry>();

  private entry(cohort: string): CohortEntry {
    let e = this.cohorts.get(cohort);
    if (e) {
      this.cohorts.delete(cohort); // most recently active last
    } else {
      e = { stopped: new Map(), ruleOf: new Map() };
      if (this.cohorts.size >= MAX_COHORT_SERIES) this.cohorts.delete(this.cohorts.keys().next().value!);
    }
    this.cohorts.set(cohort, e);
    return e;
  }

  /** A median of the peers' values at a rung (median and kess rules); the highest rung's is kept. */
  median(cohort: string, rung: number, value: number, peers: number): void {
    const e = this.entry(cohort);
    if (!e.median || rung >= e.median.rung) e.median = { rung, value, peers };
  }

  /** A cohort STOP latched by this sidecar. */
  stopped(cohort: string, runId: string, rule: string): void {
    const e = this.entry(cohort);
    if (e.ruleOf.has(runId)) return;
    e.ruleOf.set(runId, rule);
    if (e.ruleOf.size > MAX_STOPS_PER_COHORT) e.ruleOf.delete(e.ruleOf.keys().next().value!);
    e.stopped.set(rule, (e.stopped.get(rule) ?? 0) + 1);
  }

  ruleOfStop(cohort: string, runId: string): string | undefined {
    return this.cohorts.get(cohort)?.ruleOf.get(runId);
  }

  *medians(): Iterable<{ cohort: string; rung: number; value: number; peers: number }> {
    for (const [cohort, e] of this.cohorts) if (e.median) yield { cohort, ...e.median };
  }

  *stops(): Iterable<{ cohort: string; rule: string; runs: number }> {
    for (const [cohort, e] of this.cohorts) for (const [rule, runs] of e.stopped) yield { cohort, rule, runs };
  }
}

const open = new Set<CohortStats>();

/** The stats of every open engine (read by src/metrics/sidecarMetrics.ts at scrape time). */
export function openCohortStats(): Iterable<CohortStats> {
  return open;
}

export function registerCohortStats(stats: CohortStats): () => void {
  open.add(stats);
  return () => open.delete(stats);
}
