/** What every rule answers (per run, job, cohort): an action, its reason (a proto enum), a sentence and the evidence. */
import type { Reason__Output as Reason } from '../gen/ntksidecar/v1/Reason.js';

export type Action = 'ACTION_CONTINUE' | 'ACTION_STOP';

export interface Verdict {
  action: Action;
  reason: Reason;
  detail: string;
  /** The numbers the verdict used; every STOP carries would_stop_step (exported in shadow mode too). */
  evidence: Record<string, number>;
}
