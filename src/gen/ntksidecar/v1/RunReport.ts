// Original file: proto/ntksidecar/v1/sidecar.proto

import type { RunStatus as _ntksidecar_v1_RunStatus, RunStatus__Output as _ntksidecar_v1_RunStatus__Output } from '../../ntksidecar/v1/RunStatus.js';
import type { SnapshotReport as _ntksidecar_v1_SnapshotReport, SnapshotReport__Output as _ntksidecar_v1_SnapshotReport__Output } from '../../ntksidecar/v1/SnapshotReport.js';
import type { Decision as _ntksidecar_v1_Decision, Decision__Output as _ntksidecar_v1_Decision__Output } from '../../ntksidecar/v1/Decision.js';
import type { Long } from '@grpc/proto-loader';

export interface RunReport {
  'run_id'?: (string);
  'job_id'?: (string);
  'cohort'?: (string);
  'rank'?: (number);
  /**
   * "active", "detached", "ended"
   */
  'state'?: (string);
  'status'?: (_ntksidecar_v1_RunStatus);
  'snapshots_accepted'?: (number | string | Long);
  'snapshots_rejected'?: (number | string | Long);
  'last_step'?: (number | string | Long);
  'latest'?: (_ntksidecar_v1_SnapshotReport | null);
  'decision'?: (_ntksidecar_v1_Decision | null);
  'decisions_by_reason'?: ({[key: string]: number | string | Long});
  'backend'?: (string);
  'policy'?: (string);
  'num_samples'?: (number);
  'num_outputs'?: (number);
  'last_train_loss'?: (number | string);
  /**
   * the last decisions, oldest first (at most 20)
   */
  'recent_decisions'?: (_ntksidecar_v1_Decision)[];
  /**
   * shadow mode: step at which STOP latched without being enforced
   */
  'would_stop_step'?: (number | string);
  /**
   * shadow mode: compute spent since the would-stop step (what stopping saves)
   */
  'compute_after_would_stop'?: (number | string);
  'steps_after_would_stop'?: (number | string);
  '_would_stop_step'?: "would_stop_step";
}

export interface RunReport__Output {
  'run_id': (string);
  'job_id': (string);
  'cohort': (string);
  'rank': (number);
  /**
   * "active", "detached", "ended"
   */
  'state': (string);
  'status': (_ntksidecar_v1_RunStatus__Output);
  'snapshots_accepted': (number);
  'snapshots_rejected': (number);
  'last_step': (number);
  'latest': (_ntksidecar_v1_SnapshotReport__Output | null);
  'decision': (_ntksidecar_v1_Decision__Output | null);
  'decisions_by_reason': ({[key: string]: number});
  'backend': (string);
  'policy': (string);
  'num_samples': (number);
  'num_outputs': (number);
  'last_train_loss': (number);
  /**
   * the last decisions, oldest first (at most 20)
   */
  'recent_decisions': (_ntksidecar_v1_Decision__Output)[];
  /**
   * shadow mode: step at which STOP latched without being enforced
   */
  'would_stop_step'?: (number);
  /**
   * shadow mode: compute spent since the would-stop step (what stopping saves)
   */
  'compute_after_would_stop': (number);
  'steps_after_would_stop': (number);
  '_would_stop_step'?: "would_stop_step";
}
