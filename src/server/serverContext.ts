/** What the handlers share: configuration, the run table, the compute pool, policies and metrics. */
import type { Config } from '../config/config.js';
import type { SidecarMetrics } from '../metrics/sidecarMetrics.js';
import type { PolicySet } from '../policy/policy.js';
import type { ComputePool } from '../worker/computePool.js';
import type { RunTable } from './runTable.js';
import type { RunRecorder } from '../record/runRecorder.js';
import type { CohortEngine } from '../cohort/cohortEngine.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ServerContext {
  config: Config;
  runs: RunTable;
  pool: ComputePool;
  policies: PolicySet;
  metrics: SidecarMetrics;
  /** Present with --record-dir. */
  recorder?: RunRecorder;
  /** Present when the policy file has a `cohort:` section (docs/cohorts.md). */
  cohort?: CohortEngine;
  version: string;
  /** Open Attach sessions, ended with UNAVAILABLE at shutdown. */
  sessions: Set<{ shutdown(): void }>;
  now(): number;
  log(level: LogLevel, message: string): void;
}
