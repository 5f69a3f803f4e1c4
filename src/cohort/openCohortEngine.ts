/** The cohort engine of a sidecar: the rules of the policy file's `cohort:` section over the --cohort-store store. */
import type { CohortConfig } from '../policy/cohort.js';
import { CohortEngine } from './cohortEngine.js';
import { MemoryCohortStore } from './memoryCohortStore.js';
import { PostgresCohortStore } from './postgresCohortStore.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** `store` is "memory" or a postgres:// URL (validated by resolveConfig). The PostgreSQL store connects lazily. */
export function openCohortEngine(config: CohortConfig, store: string, log: Log): CohortEngine {
  const backing = store === 'memory' ? new MemoryCohortStore() : new PostgresCohortStore(store, { log }).start();
  log('info', `cohort rules: ${config.rules.map((r) => r.rule).join(', ')} (order ${config.order}, objective ${config.objective}, rungs in ${config.resource}); cohort store ${backing.describe}`);
  return new CohortEngine({ config, store: backing, log });
}
