/**
 * Cohort stopping rules (docs/cohorts.md): runs of one cohort compared with their peers at rungs — fixed steps or
 * fixed compute, never wall-clock. Pure: the rules read per-rung statistics that a CohortStore computes (exactly,
 * in SQL or in memory with the same arithmetic as PostgreSQL: `rungStatsOf`, `budgetStandingOf`) and return a
 * verdict with REASON_COHORT, a sentence and evidence, or a CONTINUE/abstain note.
 *
 * A run's value at rung R is its latest observed objective at a step (or compute) ≤ R; a run whose first
 * observation already lies beyond R has no value at R. A rung value, once recorded, never changes.
 */
import type { Reason__Output as Reason } from '../gen/ntksidecar/v1/Reason.js';

/** The objectives a cohort can be compared on, declared once: name → direction and wording. */
export const COHORT_OBJECTIVES = {
  train_loss: { lowerIsBetter: true, text: 'training loss' },
  loo_error: { lowerIsBetter: true, text: 'kernel leave-one-out error' },
  gcv_error: { lowerIsBetter: true, text: 'generalised cross-validation error' },
  loo_accuracy: { lowerIsBetter: false, text: 'kernel leave-one-out accuracy' },
  eval_accuracy: { lowerIsBetter: false, text: 'evaluation-probe accuracy' },
} as const satisfies Record<string, { lowerIsBetter: boolean; text: string }>;
export type CohortObjective = keyof typeof COHORT_OBJECTIVES;

export type CohortResource = 'steps' | 'compute';
export type CohortOrder = 'run-first' | 'cohort-first';

export interface MedianRule {
  rule: 'median';
  /** Increasing rung positions (steps or compute). */
  rungs: number[];
  /** Peers (other runs with a finite value at the rung) needed before the rule speaks. */
  minPeers: number;
}
export interface AshaRule {
  rule: 'asha';
  /** r: the first rung is at r·η^s. */
  minResource: number;
  /** η ≥ 2: a run continues past rung k iff it is in the top 1/η of the runs that reached rung k. */
  reductionFactor: number;
  /** s, the bracket (Optuna's min_early_stopping_rate): rung k is at r·η^(s+k). */
  bracket: number;
  /** Last rung at or below this; 0 = no limit (the trainer's own budget ends the run). */
  maxResource: number;
}
export interface SpectralRule {
  rule: 'spectral';
  rungs: number[];
  /** Stop a run whose predicted final value is worse than the k-th best peer's at the same rung. */
  k: number;
  /** Peers with a prediction at the rung needed before the rule speaks (≥ k). */
  minPeers: number;
}
export interface BudgetRule {
  rule: 'budget';
  /** Total compute of the cohort (sum over runs of their latest compute_spent). */
  maxCompute: number;
  /** Runs kept once the budget is spent: the most promising ones. */
  keep: number;
  /** From startFraction·maxCompute on, the runs allowed fall linearly to `keep` at maxCompute (1 = a hard cut). */
  startFraction: number;
}
/**
 * "KESS already passed while peers gain": at rung R_i (i ≥ 1) a run whose kernel effective stopping step K2 lies
 * before its step at the rung stops when the cohort median (other runs) still improved by ≥ δ (relative) from R_{i−1}
 * to R_i: its own kernel says its useful training is over while its peers are still learning.
 */
export interface KessRule {
  rule: 'kess';
  /** Increasing rung positions; the rule speaks from the second rung on. */
  rungs: number[];
  /** Relative improvement of the peers' median between the last two rungs that counts as "still gaining". */
  delta: number;
  /** Peers with a finite value needed at both rungs. */
  minPeers: number;
}
export type CohortRule = MedianRule | AshaRule | SpectralRule | KessRule | BudgetRule;
export type CohortRuleName = CohortRule['rule'];

export interface CohortConfig {
  /** Which STOP wins when the per-run rule and a cohort rule both stop: its reason is reported. */
  order: CohortOrder;
  objective: CohortObjective;
  resource: CohortResource;
  rules: CohortRule[];
}

export class CohortConfigError extends Error {
  override readonly name = 'CohortConfigError';
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration

const RULE_KEYS: Record<CohortRuleName, readonly string[]> = {
  median: ['rule', 'rungs', 'minPeers'],
  asha: ['rule', 'minResource', 'reductionFactor', 'bracket', 'maxResource'],
  spectral: ['rule', 'rungs', 'k', 'minPeers'],
  kess: ['rule', 'rungs', 'delta', 'minPeers'],
  budget: ['rule', 'maxCompute', 'keep', 'startFraction'],
};
const TOP_KEYS = ['order', 'objective', 'resource', 'rules'];

function isMapping(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/**
 * Validates the top-level `cohort:` section of a policy document:
 *   cohort:
 *     order: run-first            # or cohort-first
 *     objective: train_loss       # one of COHORT_OBJECTIVES
 *     resource: steps             # or compute
 *     rules:
 *       - { rule: median, rungs: [100, 200, 400], minPeers: 3 }
 *       - { rule: asha, minResource: 100, reductionFactor: 3, bracket: 0 }
 *       - { rule: spectral, rungs: [200, 400], k: 3 }
 *       - { rule: kess, rungs: [200, 400], delta: 0.01, minPeers: 3 }
 *       - { rule: budget, maxCompute: 1.0e6, keep: 2 }
 * Errors name the key and the value (`cohort.rules[1].reductionFactor must be an integer ≥ 2, got 1`).
 */
export function parseCohortConfig(raw: unknown, where = 'policy file'): CohortConfig {
  const fail = (key: string, want: string, got: unknown): never => {
    throw new CohortConfigError(`${where}: ${key} ${want}, got ${JSON.stringify(got)}`);
  };
  if (!isMapping(raw)) return fail('cohort', 'must be a mapping with order, objective, resource and rules', raw);
  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) fail(`cohort.${key}`, `is not a cohort setting (known: ${TOP_KEYS.join(', ')})`, raw[key]);
  }
  const order = raw.order ?? 'run-first';
  if (order !== 'run-first' && order !== 'cohort-first') fail('cohort.order', 'must be run-first or cohort-first', order);
  const objective = raw.objective ?? 'train_loss';
  if (typeof objective !== 'string' || !(objective in COHORT_OBJECTIVES)) {
    fail('cohort.objective', `must be one of ${Object.keys(COHORT_OBJECTIVES).join(', ')}`, objective);
  }
  const resource = raw.resource ?? 'steps';
  if (resource !== 'steps' && resource !== 'compute') fail('cohort.resource', 'must be steps or compute (never wall-clock)', resource);
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) fail('cohort.rules', 'must be a non-empty list of rules', raw.rules);
  const rules = (raw.rules as unknown[]).map((r, i) => parseRule(r, `cohort.rules[${i}]`, fail));
  return { order: order as CohortOrder, objective: objective as CohortObjective, resource: resource as CohortResource, rules };
}

function parseRule(raw: unknown, key: string, fail: (key: string, want: string, got: unknown) => never): CohortRule {
  if (!isMapping(raw)) return fail(key, 'must be a mapping with a "rule" key', raw);
  const name = raw.rule;
  if (typeof name !== 'string' || !(name in RULE_KEYS)) return fail(`${key}.rule`, `is not a known cohort rule (known: ${Object.keys(RULE_KEYS).join(', ')})`, name);
  const allowed = RULE_KEYS[name as CohortRuleName];
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) fail(`${key}.${k}`, `is not a setting of rule ${name} (known: ${allowed.join(', ')})`, raw[k]);
  const num = (k: string, dflt: number | undefined, ok: (x: number) => boolean, want: string): number => {
    const v = raw[k] ?? dflt;
    if (v === undefined) return fail(`${key}.${k}`, `is required (${want})`, v);
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) return fail(`${key}.${k}`, `must be ${want}`, v);
    return v;
  };
  const int = (x: number) => Number.isInteger(x);
  const rungs = (): number[] => {
    const v = raw.rungs;
    if (!Array.isArray(v) || v.length === 0) return fail(`${key}.rungs`, 'must be a non-empty list of increasing positive numbers', v);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) fail(`${key}.rungs[${i}]`, 'must be a positive number', x);
      if (i > 0 && !(x > (v[i - 1] as number))) fail(`${key}.rungs`, `must be strictly increasing (rungs[${i}] = ${x} ≤ rungs[${i - 1}] = ${String(v[i - 1])})`, v);
    });
    return [...(v as number[])];
  };
  switch (name as CohortRuleName) {
    case 'median':
      return { rule: 'median', rungs: rungs(), minPeers: num('minPeers', 3, (x) => int(x) && x >= 1, 'an integer ≥ 1') };
    case 'asha': {
      const minResource = num('minResource', undefined, (x) => x > 0, 'a positive number');
      const reductionFactor = num('reductionFactor', 3, (x) => int(x) && x >= 2, 'an integer ≥ 2');
      const bracket = num('bracket', 0, (x) => int(x) && x >= 0, 'an integer ≥ 0');
      const maxResource = num('maxResource', 0, (x) => x >= 0, 'a non-negative number (0 = no limit)');
      if (maxResource > 0 && maxResource < minResource * reductionFactor ** bracket) {
        fail(`${key}.maxResource`, `must be 0 or at least the first rung r·η^s = ${minResource * reductionFactor ** bracket}`, maxResource);
      }
      return { rule: 'asha', minResource, reductionFactor, bracket, maxResource };
    }
    case 'spectral': {
      const r = rungs();
      const k = num('k', 3, (x) => int(x) && x >= 1, 'an integer ≥ 1');
      const minPeers = num('minPeers', k, (x) => int(x) && x >= k, `an integer ≥ k = ${k}`);
      return { rule: 'spectral', rungs: r, k, minPeers };
    }
    case 'kess':
      return {
        rule: 'kess',
        rungs: rungs(),
        delta: num('delta', 0.01, (x) => x > 0 && x < 1, 'a number in (0, 1) (relative improvement of the median)'),
        minPeers: num('minPeers', 3, (x) => int(x) && x >= 1, 'an integer ≥ 1'),
      };
    case 'budget':
      return {
        rule: 'budget',
        maxCompute: num('maxCompute', undefined, (x) => x > 0, 'a positive number'),
        keep: num('keep', 1, (x) => int(x) && x >= 1, 'an integer ≥ 1'),
        startFraction: num('startFraction', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
      };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Rungs

/** Rung k of an ASHA rule: r·η^(s+k). */
export function ashaRung(rule: AshaRule, k: number): number {
  return rule.minResource * rule.reductionFactor ** (rule.bracket + k);
}

/** The rungs of one rule at or below `upTo`, increasing. */
export function ruleRungs(rule: CohortRule, upTo: number): number[] {
  if (rule.rule === 'budget') return [];
  if (rule.rule === 'asha') {
    const out: number[] = [];
    const limit = rule.maxResource > 0 ? Math.min(upTo, rule.maxResource) : upTo;
    for (let k = 0; ashaRung(rule, k) <= limit; k++) out.push(ashaRung(rule, k));
    return out;
  }
  return rule.rungs.filter((r) => r <= upTo);
}

/** Union of every rule's rungs at or below `upTo`, increasing and distinct. */
export function rungsUpTo(config: CohortConfig, upTo: number): number[] {
  const all = new Set<number>();
  for (const rule of config.rules) for (const r of ruleRungs(rule, upTo)) all.add(r);
  return [...all].sort((a, b) => a - b);
}

/** One report of a run, as the cohort sees it. `objectives` holds whatever the snapshot carried. */
export interface CohortObservation {
  cohort: string;
  runId: string;
  step: number;
  compute: number;
  objectives: Partial<Record<CohortObjective, number>>;
  /** Kernel-predicted final value of the objective (the spectral rule's input), when trusted. */
  predicted?: number;
  /** The run's kernel effective stopping step K2 (docs/science.md A10) of a trusted prediction (the kess rule's input). */
  kess?: number;
  /**
   * false: an event without diagnostics (Scalars): `predicted` and `kess` are the run's latest known ones (carried
   * from its last snapshot). Absent or true: they are this observation's own (undefined = none trusted now).
   */
  hasDiagnostics?: boolean;
}

/** A run's value at one rung: what the store records (first write wins). */
export interface RungValue {
  cohort: string;
  runId: string;
  rung: number;
  value: number;
  predicted: number | undefined;
  step: number;
  compute: number;
  /** The run's K2 at the value's observation; used for the run's own judgement only, never stored. */
  kess?: number;
}

/** Per-run tracking between observations: the latest observation seen and the highest rung passed. */
export interface RungTracker {
  last?: { at: number; value: number; predicted: number | undefined; kess?: number; step: number; compute: number };
  passed: number;
}
export const NEW_TRACKER: RungTracker = { passed: -Infinity };

/** The position of an observation on the rung axis. */
export function positionOf(config: CohortConfig, obs: { step: number; compute: number }): number {
  return config.resource === 'steps' ? obs.step : obs.compute;
}

/**
 * Advances a run's tracker by one observation; returns the rungs it crossed with the run's value at each (the
 * latest observation at or before the rung). An observation without the cohort's objective still moves the run
 * along the axis; an observation behind the latest one (a replay) changes nothing.
 */
export function crossRungs(config: CohortConfig, tracker: RungTracker, obs: CohortObservation): { tracker: RungTracker; crossed: RungValue[] } {
  const at = positionOf(config, obs);
  if (!Number.isFinite(at) || (tracker.last && at < tracker.last.at)) return { tracker, crossed: [] };
  const value = obs.objectives[config.objective];
  const carried = obs.hasDiagnostics === false;
  const predicted = carried ? tracker.last?.predicted : obs.predicted;
  const kess = carried ? tracker.last?.kess : obs.kess;
  const here = value === undefined ? tracker.last : { at, value, predicted, kess, step: obs.step, compute: obs.compute };
  const crossed: RungValue[] = [];
  for (const rung of rungsUpTo(config, at)) {
    if (rung <= tracker.passed) continue;
    const source = rung === at ? here : tracker.last;
    if (!source || source.at > rung) continue; // no observation at or before this rung
    const v: RungValue = { cohort: obs.cohort, runId: obs.runId, rung, value: source.value, predicted: source.predicted, step: source.step, compute: source.compute };
    if (source.kess !== undefined) v.kess = source.kess;
    crossed.push(v);
  }
  const passed = Math.max(tracker.passed, ...rungsUpTo(config, at));
  return { tracker: { last: here, passed }, crossed };
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics (the store computes these; the memory store with these functions, PostgreSQL in SQL)

/** PostgreSQL's percentile_cont: linear interpolation between sorted[floor(q(n−1))] and sorted[ceil(q(n−1))]. */
export function percentileCont(sortedAsc: readonly number[], q: number): number {
  const n = sortedAsc.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sortedAsc[lo];
  const b = sortedAsc[hi];
  return lo === hi ? a : a + (b - a) * (pos - lo); // float8_lerp
}

/** PostgreSQL's percentile_disc: the first value whose cumulative fraction reaches q. */
export function percentileDisc(sortedAsc: readonly number[], q: number): number {
  const n = sortedAsc.length;
  if (n === 0) return Number.NaN;
  return sortedAsc[Math.max(1, Math.ceil(q * n)) - 1];
}

export type RungMetric = 'value' | 'predicted';

/** What a rule asks of the values recorded at one rung. NaN and absent values are never peers. */
export interface RungStatsQuery {
  cohort: string;
  rung: number;
  metric: RungMetric;
  /** Leave this run out (median and spectral compare with the others; ASHA competes with itself included). */
  excludeRun?: string;
  lowerIsBetter: boolean;
  /** percentile_cont fraction of the values (0.5 = the median). */
  quantile?: number;
  /** k-th best value: a fixed k, or Optuna's ASHA threshold k = max(1, ⌊n/η⌋). */
  kth?: { k: number } | { eta: number };
}
export interface RungStats {
  /** Runs with a finite value of the metric at the rung (after the exclusion). */
  peers: number;
  quantile?: number;
  /** The k-th best value (undefined when fewer than k peers) and the k used. */
  kthBest?: number;
  k?: number;
}

export function kthOf(query: RungStatsQuery, n: number): number | undefined {
  if (!query.kth) return undefined;
  return 'k' in query.kth ? query.kth.k : Math.max(1, Math.floor(n / query.kth.eta));
}

/** The in-memory twin of the store's SQL (same selection, same arithmetic). */
export function rungStatsOf(rows: readonly RungValue[], query: RungStatsQuery): RungStats {
  const values: number[] = [];
  for (const r of rows) {
    if (r.cohort !== query.cohort || r.rung !== query.rung || r.runId === query.excludeRun) continue;
    const v = query.metric === 'value' ? r.value : r.predicted;
    if (v !== undefined && Number.isFinite(v)) values.push(v);
  }
  values.sort((a, b) => a - b);
  const out: RungStats = { peers: values.length };
  if (query.quantile !== undefined && values.length) out.quantile = percentileCont(values, query.quantile);
  const k = kthOf(query, values.length);
  if (k !== undefined) {
    out.k = k;
    if (k <= values.length) out.kthBest = query.lowerIsBetter ? values[k - 1] : values[values.length - k];
  }
  return out;
}

/** Where a run stands in its cohort's budget. */
export interface BudgetStanding {
  /** Sum over the cohort's runs of their latest compute_spent. */
  spent: number;
  /** Runs of the cohort without a latched STOP, this one included. */
  active: number;
  /** Active peers that beat this run at the highest rung both have a value at (NaN is worst). */
  better: number;
  /** Whether this run has any rung value. */
  ranked: boolean;
  /** Active peers with at least one rung value. */
  rankedPeers: number;
}

export interface RunProgress {
  cohort: string;
  runId: string;
  compute: number;
  stopped: boolean;
}

/** true when a beats b (NaN loses to every number, ties do not beat). */
export function beats(a: number, b: number, lowerIsBetter: boolean): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return lowerIsBetter ? a < b : a > b;
}

/** The in-memory twin of the store's budget SQL. */
export function budgetStandingOf(rows: readonly RungValue[], runs: readonly RunProgress[], cohort: string, runId: string, lowerIsBetter: boolean): BudgetStanding {
  let spent = 0;
  let active = 0;
  const activePeers = new Set<string>();
  for (const r of runs) {
    if (r.cohort !== cohort) continue;
    spent += r.compute;
    if (!r.stopped) active++;
    if (!r.stopped && r.runId !== runId) activePeers.add(r.runId);
  }
  const mine = new Map<number, number>();
  const theirs = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (r.cohort !== cohort) continue;
    if (r.runId === runId) mine.set(r.rung, r.value);
    else if (activePeers.has(r.runId)) {
      let m = theirs.get(r.runId);
      if (!m) theirs.set(r.runId, (m = new Map()));
      m.set(r.rung, r.value);
    }
  }
  let better = 0;
  for (const m of theirs.values()) {
    let common = -Infinity;
    for (const rung of m.keys()) if (mine.has(rung) && rung > common) common = rung;
    if (common > -Infinity && beats(m.get(common)!, mine.get(common)!, lowerIsBetter)) better++;
  }
  return { spent, active, better, ranked: mine.size > 0, rankedPeers: theirs.size };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

export interface CohortVerdict {
  action: 'ACTION_STOP';
  reason: Extract<Reason, 'REASON_COHORT'>;
  detail: string;
  evidence: Record<string, number>;
}

export type RuleOutcome =
  | { kind: 'stop'; verdict: CohortVerdict }
  | { kind: 'continue'; note: string }
  | { kind: 'abstain'; note: string };

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x);
}

/** The rung statistics a rung rule needs; undefined for the budget rule (budgetStanding instead). */
export function statsQueryFor(config: CohortConfig, rule: CohortRule, rung: RungValue): RungStatsQuery | undefined {
  const lowerIsBetter = COHORT_OBJECTIVES[config.objective].lowerIsBetter;
  const base = { cohort: rung.cohort, rung: rung.rung, lowerIsBetter };
  switch (rule.rule) {
    case 'median':
      return { ...base, metric: 'value', excludeRun: rung.runId, quantile: 0.5 };
    case 'asha':
      return { ...base, metric: 'value', kth: { eta: rule.reductionFactor } };
    case 'spectral':
      return { ...base, metric: 'predicted', excludeRun: rung.runId, kth: { k: rule.k } };
    case 'kess':
      return { ...base, metric: 'value', excludeRun: rung.runId, quantile: 0.5 };
    case 'budget':
      return undefined;
  }
}

/**
 * Every statistics query a rung rule needs at a rung, in the order evaluateRungRule takes them: the rung's own, then
 * (kess rule) the previous rung's median among the same kind of peers.
 */
export function statsQueriesFor(config: CohortConfig, rule: CohortRule, rung: RungValue): RungStatsQuery[] {
  const own = statsQueryFor(config, rule, rung);
  if (!own) return [];
  if (rule.rule !== 'kess') return [own];
  const previous = previousRung(rule, rung.rung);
  return previous === undefined ? [own] : [own, { ...own, rung: previous }];
}

/** The rung of a kess rule before `rung`, if any. */
function previousRung(rule: KessRule, rung: number): number | undefined {
  const i = rule.rungs.indexOf(rung);
  return i > 0 ? rule.rungs[i - 1] : undefined;
}

/** Whether a rung rule looks at this rung. */
export function ruleAppliesAt(rule: CohortRule, rung: number): boolean {
  return ruleRungs(rule, rung).includes(rung);
}

/**
 * One rung rule at the rung a run has just crossed, given the store's statistics for `statsQueryFor(...)`.
 * `index` is the rule's position in cohort.rules (evidence `cohort_rule`).
 */
export function evaluateRungRule(config: CohortConfig, rule: CohortRule, index: number, rung: RungValue, stats: RungStats, previous?: RungStats): RuleOutcome {
  const obj = COHORT_OBJECTIVES[config.objective];
  const lower = obj.lowerIsBetter;
  const worse = lower ? 'above' : 'below';
  const at = `${config.resource === 'steps' ? 'step' : 'compute'} ${fmt(rung.rung)}`;
  const evidence = (extra: Record<string, number>): Record<string, number> => ({
    cohort_rule: index,
    rung: rung.rung,
    step: rung.step,
    would_stop_step: rung.step,
    ...extra,
  });
  const stop = (detail: string, extra: Record<string, number>): RuleOutcome => ({
    kind: 'stop',
    verdict: { action: 'ACTION_STOP', reason: 'REASON_COHORT', detail, evidence: evidence(extra) },
  });
  switch (rule.rule) {
    case 'median': {
      if (!Number.isFinite(rung.value)) return { kind: 'abstain', note: `median rule: the run's ${obj.text} at ${at} is ${rung.value}; left to the per-run rule` };
      if (stats.peers < rule.minPeers) return { kind: 'abstain', note: `median rule: ${stats.peers} of ${rule.minPeers} peers at ${at}` };
      const median = stats.quantile!;
      if (beats(median, rung.value, lower)) {
        return stop(
          `Cohort median rule: ${obj.text} ${fmt(rung.value)} at ${at} is ${worse} the median ${fmt(median)} of ${stats.peers} peers in cohort "${rung.cohort}".`,
          { value: rung.value, median, peers: stats.peers, min_peers: rule.minPeers },
        );
      }
      return { kind: 'continue', note: `median rule: ${fmt(rung.value)} at ${at} is not ${worse} the median ${fmt(median)} of ${stats.peers} peers` };
    }
    case 'asha': {
      const eta = rule.reductionFactor;
      if (!Number.isFinite(rung.value)) {
        // As Optuna's SuccessiveHalvingPruner: a NaN value at a rung is pruned (it is never a peer of others).
        return stop(`ASHA (η = ${eta}): ${obj.text} at ${at} is ${rung.value}; a run without a value cannot be promoted.`, {
          value: rung.value, peers: stats.peers, reduction_factor: eta,
        });
      }
      const threshold = stats.kthBest;
      const k = stats.k ?? 1;
      // Top 1/η of the runs that reached the rung (this one included); the first η−1 must be the best so far.
      if (threshold !== undefined && !beats(rung.value, threshold, lower) && rung.value !== threshold) {
        return stop(
          `ASHA (η = ${eta}): ${obj.text} ${fmt(rung.value)} at ${at} is not in the top 1/${eta} of the ${stats.peers} runs that reached this rung (the ${ordinal(k)} best is ${fmt(threshold)}).`,
          { value: rung.value, quantile: threshold, kth: k, peers: stats.peers, reduction_factor: eta },
        );
      }
      return { kind: 'continue', note: `ASHA: promoted past ${at} (${ordinal(k)} best of ${stats.peers} is ${fmt(threshold ?? rung.value)})` };
    }
    case 'spectral': {
      const p = rung.predicted;
      if (p === undefined || !Number.isFinite(p)) return { kind: 'abstain', note: `spectral rule: no trusted prediction of the final ${obj.text} at ${at}` };
      if (stats.peers < rule.minPeers || stats.kthBest === undefined) return { kind: 'abstain', note: `spectral rule: ${stats.peers} of ${rule.minPeers} peers with a prediction at ${at}` };
      if (beats(stats.kthBest, p, lower)) {
        return stop(
          `Cohort spectral rule: the kernel-predicted final ${obj.text} ${fmt(p)} at ${at} is worse than the ${ordinal(rule.k)} best ${fmt(stats.kthBest)} of ${stats.peers} peers in cohort "${rung.cohort}".`,
          { value: rung.value, predicted: p, quantile: stats.kthBest, kth: rule.k, peers: stats.peers },
        );
      }
      return { kind: 'continue', note: `spectral rule: predicted ${fmt(p)} at ${at} is within the best ${rule.k}` };
    }
    case 'kess': {
      const before = previousRung(rule, rung.rung);
      if (before === undefined || !previous) return { kind: 'abstain', note: `kess rule: ${at} is its first rung (it compares the median at two rungs)` };
      const kess = rung.kess;
      if (kess === undefined || !Number.isFinite(kess)) return { kind: 'abstain', note: `kess rule: no trusted KESS (K2) of the run at ${at}` };
      if (!(kess < rung.step)) return { kind: 'continue', note: `kess rule: KESS K2 = ${fmt(kess)} not yet passed at step ${fmt(rung.step)}` };
      if (!Number.isFinite(rung.value)) return { kind: 'abstain', note: `kess rule: the run's ${obj.text} at ${at} is ${rung.value}; left to the per-run rule` };
      const peers = Math.min(stats.peers, previous.peers);
      if (peers < rule.minPeers || stats.quantile === undefined || previous.quantile === undefined) {
        return { kind: 'abstain', note: `kess rule: ${peers} of ${rule.minPeers} peers at both ${at} and the previous rung` };
      }
      const now = stats.quantile;
      const then = previous.quantile;
      const gain = (lower ? then - now : now - then) / Math.abs(then);
      const since = `${config.resource === 'steps' ? 'step' : 'compute'} ${fmt(before)}`;
      if (Number.isFinite(gain) && gain >= rule.delta) {
        return stop(
          `Cohort KESS rule: the run passed its kernel effective stopping step (K2 = ${fmt(kess)}) before step ${fmt(rung.step)}, while the median ${obj.text} of its ${peers} peers in cohort "${rung.cohort}" still improved by ${fmt(100 * gain)} % from ${since} to ${at} (${fmt(then)} → ${fmt(now)}; δ = ${fmt(100 * rule.delta)} %).`,
          { value: rung.value, kess, median: now, previous_median: then, previous_rung: before, improvement: gain, delta: rule.delta, peers, min_peers: rule.minPeers },
        );
      }
      return { kind: 'continue', note: `kess rule: KESS passed but the peers' median improved by only ${fmt(100 * gain)} % (< δ = ${fmt(100 * rule.delta)} %) from ${since} to ${at}` };
    }
    case 'budget':
      throw new Error('budget is not a rung rule; use evaluateBudgetRule');
  }
}

/** Runs allowed to continue at cohort spending `spent` (linear from `active` at startFraction·B to `keep` at B). */
export function budgetAllowed(rule: BudgetRule, spent: number, active: number): number {
  const B = rule.maxCompute;
  if (spent >= B) return rule.keep;
  const start = rule.startFraction * B;
  if (spent < start || active <= rule.keep) return Math.max(active, rule.keep);
  return rule.keep + Math.floor(((active - rule.keep) * (B - spent)) / (B - start));
}

/** The cohort budget rule at a run's observation: the least promising runs stop first once spending passes its start. */
export function evaluateBudgetRule(_config: CohortConfig, rule: BudgetRule, index: number, obs: { cohort: string; runId: string; step: number }, s: BudgetStanding): RuleOutcome {
  const allowed = budgetAllowed(rule, s.spent, s.active);
  const rank = s.ranked ? s.better + 1 : s.rankedPeers + 1;
  if (rank <= allowed) return { kind: 'continue', note: `budget: rank ${rank} of ${s.active} within the ${allowed} runs allowed at ${fmt(s.spent)} of ${fmt(rule.maxCompute)}` };
  const why = s.ranked
    ? `${s.better} active peer(s) beat it at their latest common rung`
    : `it has no rung value yet and ${s.rankedPeers} active peer(s) have`;
  return {
    kind: 'stop',
    verdict: {
      action: 'ACTION_STOP',
      reason: 'REASON_COHORT',
      detail: `Cohort budget: cohort "${obs.cohort}" has spent ${fmt(s.spent)} of ${fmt(rule.maxCompute)} compute, leaving room for ${allowed} run(s); this run ranks ${rank} of ${s.active} (${why}).`,
      evidence: {
        cohort_rule: index,
        step: obs.step,
        would_stop_step: obs.step,
        cohort_compute: s.spent,
        max_compute: rule.maxCompute,
        rank,
        allowed,
        peers: s.active - 1,
      },
    },
  };
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return `${k}${s}`;
}

/** What the cohort rules say at one observation: a STOP, or nothing (with notes), or an abstention and why. */
export interface CohortDecision {
  stop?: CohortVerdict;
  notes: string[];
  /** Set when the cohort rules could not be applied (e.g. "cohort store unreachable: …"). */
  abstain?: string;
}
