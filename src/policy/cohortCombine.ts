/**
 * Combines the per-run verdict (src/policy/decide.ts) with the cohort rules' decision under cohort.order:
 * - run-first: a per-run STOP stands with its own reason; otherwise a cohort STOP; otherwise the per-run verdict.
 * - cohort-first: a cohort STOP stands (REASON_COHORT) even when the per-run rule stops too; otherwise the per-run
 *   verdict.
 * A STOP latched earlier is returned unchanged whatever the order (a STOP never changes its reason). When the cohort
 * rules abstain (e.g. the store is unreachable), the per-run verdict goes on and its detail says why.
 */
import type { Verdict } from './decide.js';
import type { CohortDecision, CohortOrder } from './cohort.js';

export function combineWithCohort(order: CohortOrder, runVerdict: Verdict, cohort: CohortDecision | undefined, previous?: Verdict): Verdict {
  if (previous?.action === 'ACTION_STOP') return previous;
  const cohortStop = cohort?.stop;
  if (runVerdict.action === 'ACTION_STOP' && (order === 'run-first' || !cohortStop)) return runVerdict;
  if (cohortStop) return { ...cohortStop, evidence: { ...cohortStop.evidence } };
  if (cohort?.abstain) {
    return { ...runVerdict, detail: `${runVerdict.detail} Cohort rules abstain: ${cohort.abstain}.`, evidence: { ...runVerdict.evidence, cohort_abstained: 1 } };
  }
  return runVerdict;
}
