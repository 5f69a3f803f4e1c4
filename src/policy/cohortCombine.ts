/**
 * Combines the per-run verdict (src/policy/decide.ts) with the cohort rules' decision under cohort.order:
 * - run-first: a per-run STOP stands with its own reason; otherwise a cohort STOP; otherwise the per-run verdict.
 * - cohort-first: a cohort STOP stands (REASON_COHORT) even when the per-run rule stops too; otherwise the per-run
 *   verdict.
 * A STOP latched earlier is returned unchanged whatever the order (a STOP never changes its reason). When the cohort
 * rules abstain (e.g. the store is unreachable), the per-run verdict goes on and its detail says why.
 */
import type { Verdict } from './verdict.js';
import type { CohortDecision, CohortObservation, CohortOrder } from './cohort.js';
import { latch, type RunState } from './advanceRun.js';
import type { Policy } from './policy.js';
import type { SnapshotDiagnostics } from '../analysis/types.js';

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

/**
 * What the cohort sees of one run event: the step, compute and every objective the event carries — the training
 * loss always; from a snapshot's generalisation estimates (docs/generalization.md G1–G4) loo_accuracy, loo_error,
 * gcv_error and eval_accuracy when finite — plus, from a trusted prediction (kernel_model_valid, docs/science.md
 * A11), the predicted final loss L_∞ (spectral rule) and the KESS K2 (kess rule). A Scalars event has no
 * diagnostics: `hasDiagnostics: false` makes the rules use the run's latest snapshot's prediction and KESS.
 */
export function cohortObservationOf(cohort: string, runId: string, event: { step: number; trainLoss: number; computeSpent: number; diagnostics?: SnapshotDiagnostics }, computeSpent: number): CohortObservation {
  const diagnostics = event.diagnostics;
  const objectives: CohortObservation['objectives'] = { train_loss: event.trainLoss };
  const g = diagnostics?.generalization;
  const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
  if (finite(g?.looAccuracy)) objectives.loo_accuracy = g.looAccuracy;
  if (finite(g?.looError)) objectives.loo_error = g.looError;
  if (finite(g?.gcvError)) objectives.gcv_error = g.gcvError;
  if (finite(g?.evalAccuracy)) objectives.eval_accuracy = g.evalAccuracy;
  const prediction = diagnostics?.prediction;
  const trusted = prediction?.valid === true;
  const predicted = trusted && finite(prediction.floor) ? prediction.floor : undefined;
  const kess = trusted && finite(prediction.kess.K2) ? prediction.kess.K2 : undefined;
  return { cohort, runId, step: event.step, compute: computeSpent, objectives, predicted, kess, hasDiagnostics: diagnostics !== undefined };
}

/**
 * The run after advanceRun(…) and the cohort decision of the same event. `before` is the run's verdict before the
 * event (a STOP latched then stays), `verdict` what advanceRun returned (undefined: a Scalars event without news).
 * A cohort STOP latches in the run's state like any STOP (shadow mode records where it would have stopped).
 */
export function applyCohortDecision(
  state: RunState,
  before: Verdict | undefined,
  verdict: Verdict | undefined,
  decision: CohortDecision,
  order: CohortOrder,
  policy: Policy,
  step: number,
): { state: RunState; verdict?: Verdict } {
  if (before?.action === 'ACTION_STOP') return { state, verdict };
  let combined: Verdict | undefined;
  if (verdict) combined = combineWithCohort(order, verdict, decision, before);
  else if (decision.stop) combined = { ...decision.stop, evidence: { ...decision.stop.evidence } };
  if (!combined || combined === verdict) return { state, verdict };
  return { state: latch(state, combined, step, policy), verdict: combined };
}
