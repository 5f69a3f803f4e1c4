/**
 * Stopping policy: named settings a run selects in RunStart, loaded from a policy file (YAML or JSON):
 * warm-up, budgets, shadow mode and the A14 stopping parameters and A13 detector thresholds (`stopping:`).
 */
import { DEFAULT_STOPPING_CONFIG, type StoppingConfig } from './stopping.js';
import { ESTIMATE_CHOICES } from '../analysis/generalizationForecast.js';
import {
  DEFAULT_GENERALIZATION_POLICY,
  STOPPING_RULES,
  checkGeneralizationRule,
  type GeneralizationPolicy,
  type StoppingRule,
} from './generalizationRule.js';
import { CohortConfigError, parseCohortConfig, type CohortConfig } from './cohort.js';

export interface Policy {
  name: string;
  /** false = shadow mode: decisions are computed and exported but carry enforced=false. */
  enforced: boolean;
  /** No budget STOP before this step (a run's RunStart.warmup_steps raises it). */
  warmupSteps: number;
  /** Snapshots a run needs before any analysis-based vote (docs/science.md A14 s_min: the 3rd snapshot). */
  minSnapshots: number;
  /** STOP with REASON_BUDGET at this step; 0 = none. RunStart.budget.max_steps overrides when smaller. */
  maxSteps: number;
  /** STOP with REASON_BUDGET once compute_spent reaches this; 0 = none. */
  maxCompute: number;
  /** docs/science.md A13/A14 parameters; defaults = the A14 table (DEFAULT_STOPPING_CONFIG). */
  stopping: StoppingConfig;
  /** The curve the decision reads: the training loss (A14), a generalisation estimate (G5) or Label Wave (G4). */
  rule: StoppingRule;
  /** docs/generalization.md G5 settings, used when rule is `generalization`. */
  generalization: GeneralizationPolicy;
}

/** The rule a policy uses unless its file says otherwise (docs/generalization.md G5 says why). */
export const DEFAULT_RULE: StoppingRule = 'generalization';

export const DEFAULT_POLICY: Policy = {
  name: 'default',
  enforced: true,
  warmupSteps: 0,
  minSnapshots: 3,
  maxSteps: 0,
  maxCompute: 0,
  stopping: DEFAULT_STOPPING_CONFIG,
  rule: DEFAULT_RULE,
  generalization: DEFAULT_GENERALIZATION_POLICY,
};

export interface PolicySet {
  defaultName: string;
  byName: ReadonlyMap<string, Policy>;
  /** Top-level `cohort:` section: rules comparing the runs of one cohort (src/policy/cohort.ts, docs/cohorts.md). */
  cohort?: CohortConfig;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

const FIELDS: Record<Exclude<keyof Policy, 'name' | 'stopping' | 'rule' | 'generalization'>, 'boolean' | 'count' | 'amount'> = {
  enforced: 'boolean',
  warmupSteps: 'count',
  minSnapshots: 'count',
  maxSteps: 'count',
  maxCompute: 'amount',
};

/**
 * Allowed values of each `stopping:` setting. count = integer ≥ min; fraction = 0 < x < 1; unit = 0 < x ≤ 1;
 * positive = x > 0; amount = x ≥ 0.
 */
type StoppingKind = { kind: 'count'; min: number } | { kind: 'fraction' | 'unit' | 'positive' | 'amount' };
const STOPPING_FIELDS: Record<keyof StoppingConfig, StoppingKind> = {
  rho: { kind: 'fraction' },
  horizonFraction: { kind: 'positive' },
  deltaH: { kind: 'fraction' },
  stopVotes: { kind: 'count', min: 1 },
  price: { kind: 'amount' },
  validGap: { kind: 'positive' },
  timeR2Min: { kind: 'unit' },
  logitsPatience: { kind: 'count', min: 2 },
  spikeTheta: { kind: 'positive' },
  spikeWindow: { kind: 'count', min: 1 },
  velocityRel: { kind: 'fraction' },
  distanceAbs: { kind: 'unit' },
  alignmentDelta: { kind: 'fraction' },
  overlapMin: { kind: 'unit' },
  plateauRel: { kind: 'fraction' },
  plateauWindow: { kind: 'count', min: 2 },
  frozenWindow: { kind: 'count', min: 1 },
  lazyDistance: { kind: 'unit' },
  lazyGap: { kind: 'positive' },
  traceGrowth: { kind: 'positive' },
  eosLow: { kind: 'positive' },
  eosHigh: { kind: 'positive' },
  eosSnapshots: { kind: 'count', min: 1 },
  sharpeningSnapshots: { kind: 'count', min: 2 },
  sketchFloorFactor: { kind: 'amount' },
  catapultDrop: { kind: 'fraction' },
  catapultSettle: { kind: 'fraction' },
  energyJump: { kind: 'unit' },
  energyK: { kind: 'count', min: 1 },
  spikeNoiseK: { kind: 'amount' },
  spikeNoiseWindow: { kind: 'count', min: 5 },
};

const KIND_TEXT = { fraction: 'a number in (0, 1)', unit: 'a number in (0, 1]', positive: 'a positive number', amount: 'a non-negative number' };

/**
 * The nested `stopping:` mapping of a policy, merged over the parent's (so `extends` inherits it key by key):
 *   stopping: { rho: 0.1, horizonFraction: 0.2, deltaH: 0.02, frozenWindow: 3, stopVotes: 2, price: 0, spikeTheta: 0.5 }
 * Keys are the fields of StoppingConfig (src/policy/stopping.ts and DetectorConfig in src/analysis/detectors.ts).
 */
function parseStopping(name: string, raw: unknown, base: StoppingConfig, where: string): StoppingConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PolicyError(`${where}: ${name}.stopping must be a mapping of settings, got ${JSON.stringify(raw)}`);
  }
  const out: StoppingConfig = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    const spec = STOPPING_FIELDS[key as keyof StoppingConfig];
    if (!spec) throw new PolicyError(`${where}: ${name}.stopping has unknown setting "${key}"; known: ${Object.keys(STOPPING_FIELDS).join(', ')}`);
    const x = typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
    let ok: boolean;
    let want: string;
    if (spec.kind === 'count') {
      ok = Number.isInteger(x) && x >= spec.min;
      want = `an integer ≥ ${spec.min}`;
    } else {
      ok = spec.kind === 'fraction' ? x > 0 && x < 1 : spec.kind === 'unit' ? x > 0 && x <= 1 : spec.kind === 'positive' ? x > 0 : x >= 0;
      want = KIND_TEXT[spec.kind];
    }
    if (!ok) throw new PolicyError(`${where}: ${name}.stopping.${key} must be ${want}, got ${JSON.stringify(value)}`);
    out[key as keyof StoppingConfig] = x;
  }
  if (!(out.eosLow < out.eosHigh)) throw new PolicyError(`${where}: ${name}.stopping needs eosLow < eosHigh, got ${out.eosLow} and ${out.eosHigh}`);
  return out;
}

/**
 * The nested `generalization:` mapping (docs/generalization.md G5), merged over the parent's:
 *   generalization: { estimate: eval_accuracy, minAccuracyGain: 0.005, horizonFraction: 0.2 }
 */
function parseGeneralization(name: string, raw: unknown, base: GeneralizationPolicy, where: string): GeneralizationPolicy {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PolicyError(`${where}: ${name}.generalization must be a mapping of settings, got ${JSON.stringify(raw)}`);
  }
  const out: GeneralizationPolicy = { ...base };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in base)) throw new PolicyError(`${where}: ${name}.generalization has unknown setting "${key}"; known: ${Object.keys(base).join(', ')}`);
    if (key === 'estimate') {
      if (!(ESTIMATE_CHOICES as readonly unknown[]).includes(value)) throw new PolicyError(`${where}: ${name}.generalization.estimate must be one of ${ESTIMATE_CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
      out.estimate = value as GeneralizationPolicy['estimate'];
      continue;
    }
    if (typeof value !== 'number') throw new PolicyError(`${where}: ${name}.generalization.${key} must be a number, got ${JSON.stringify(value)}`);
    (out as unknown as Record<string, number>)[key] = value;
  }
  try {
    checkGeneralizationRule(out);
  } catch (err) {
    throw new PolicyError(`${where}: ${name}.${(err as Error).message}`);
  }
  return out;
}

function parsePolicy(name: string, raw: unknown, base: Policy, where: string): Policy {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PolicyError(`${where}: policy "${name}" must be a mapping of settings, got ${JSON.stringify(raw)}`);
  }
  const policy: Policy = { ...base, name };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'extends') continue;
    if (key === 'stopping') {
      policy.stopping = parseStopping(name, value, base.stopping, where);
      continue;
    }
    if (key === 'generalization') {
      policy.generalization = parseGeneralization(name, value, base.generalization, where);
      continue;
    }
    if (key === 'rule') {
      if (!(STOPPING_RULES as readonly unknown[]).includes(value)) throw new PolicyError(`${where}: ${name}.rule must be one of ${STOPPING_RULES.join(', ')}, got ${JSON.stringify(value)}`);
      policy.rule = value as StoppingRule;
      continue;
    }
    const kind = FIELDS[key as keyof typeof FIELDS];
    if (!kind) throw new PolicyError(`${where}: policy "${name}" has unknown setting "${key}"; known: ${[...Object.keys(FIELDS), 'stopping', 'rule', 'generalization'].join(', ')}`);
    if (kind === 'boolean') {
      if (typeof value !== 'boolean') throw new PolicyError(`${where}: ${name}.${key} must be true or false, got ${JSON.stringify(value)}`);
      (policy as unknown as Record<string, unknown>)[key] = value;
    } else {
      const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0 && (kind === 'amount' || Number.isInteger(value));
      if (!ok) throw new PolicyError(`${where}: ${name}.${key} must be a non-negative ${kind === 'count' ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
      (policy as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return policy;
}

/**
 * Validates a parsed policy document:
 *   default: { enforced: true, minSnapshots: 3 }      # optional; overrides DEFAULT_POLICY
 *   policies:
 *     shadow: { enforced: false }                     # inherits from default
 *     capped: { extends: shadow, maxSteps: 20000 }
 *     patient: { stopping: { stopVotes: 3, deltaH: 0.01 } }   # A13/A14 knobs, merged key by key
 */
export function policySetFrom(doc: unknown, where = 'policy file'): PolicySet {
  if (doc === undefined || doc === null) return { defaultName: 'default', byName: new Map([['default', DEFAULT_POLICY]]) };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyError(`${where}: expected a mapping with "default" and/or "policies"`);
  const { default: rawDefault, policies: rawPolicies, cohort: rawCohort, ...rest } = doc as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new PolicyError(`${where}: unknown top-level key(s) ${extra.join(', ')}; expected "default", "policies" and "cohort"`);
  let cohort: CohortConfig | undefined;
  try {
    cohort = rawCohort === undefined ? undefined : parseCohortConfig(rawCohort, where);
  } catch (err) {
    throw err instanceof CohortConfigError ? new PolicyError(err.message) : err;
  }
  const byName = new Map<string, Policy>();
  const base = rawDefault === undefined ? DEFAULT_POLICY : parsePolicy('default', rawDefault, DEFAULT_POLICY, where);
  byName.set('default', base);
  if (rawPolicies !== undefined) {
    if (rawPolicies === null || typeof rawPolicies !== 'object' || Array.isArray(rawPolicies)) {
      throw new PolicyError(`${where}: "policies" must be a mapping from name to settings`);
    }
    const pending = new Map(Object.entries(rawPolicies as Record<string, unknown>));
    // Resolve `extends` chains in dependency order; a cycle or a missing parent is an error.
    while (pending.size) {
      let progressed = false;
      for (const [name, raw] of pending) {
        if (name === 'default') throw new PolicyError(`${where}: name the default policy under "default", not "policies.default"`);
        const parentName = raw && typeof raw === 'object' && 'extends' in raw ? String((raw as { extends: unknown }).extends) : 'default';
        const parent = byName.get(parentName);
        if (!parent) {
          if (!pending.has(parentName)) throw new PolicyError(`${where}: policy "${name}" extends unknown policy "${parentName}"`);
          continue;
        }
        byName.set(name, parsePolicy(name, raw, parent, where));
        pending.delete(name);
        progressed = true;
      }
      if (!progressed) throw new PolicyError(`${where}: "extends" cycle among ${[...pending.keys()].join(', ')}`);
    }
  }
  return cohort ? { defaultName: 'default', byName, cohort } : { defaultName: 'default', byName };
}

/** The policy a run asked for; an unknown name is the caller's error to report. */
export function selectPolicy(set: PolicySet, requested: string): Policy | undefined {
  return set.byName.get(requested === '' ? set.defaultName : requested);
}
