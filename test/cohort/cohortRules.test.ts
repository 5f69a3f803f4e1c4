/**
 * The pure cohort rules (src/policy/cohort.ts) against hand-computed cases, driven through the engine with the
 * in-memory store (the same code path a sidecar uses), plus configuration errors and the combination order.
 */
import { describe, expect, it } from 'vitest';
import {
  budgetAllowed,
  crossRungs,
  NEW_TRACKER,
  parseCohortConfig,
  percentileCont,
  percentileDisc,
  ruleRungs,
  type CohortConfig,
  type CohortObservation,
} from '../../src/policy/cohort.js';
import { combineWithCohort } from '../../src/policy/cohortCombine.js';
import { PolicyError, policySetFrom } from '../../src/policy/policy.js';
import type { Verdict } from '../../src/policy/verdict.js';
import { CohortEngine } from '../../src/cohort/cohortEngine.js';
import { MemoryCohortStore } from '../../src/cohort/memoryCohortStore.js';

const obs = (runId: string, step: number, loss: number, extra: Partial<CohortObservation> = {}): CohortObservation => ({
  cohort: 'sweep',
  runId,
  step,
  compute: step,
  objectives: { train_loss: loss },
  ...extra,
});

function engineFor(config: unknown): CohortEngine {
  return new CohortEngine({ config: parseCohortConfig(config), store: new MemoryCohortStore() });
}

describe('percentiles match PostgreSQL', () => {
  it('percentile_cont interpolates, percentile_disc picks the first value reaching q', () => {
    expect(percentileCont([1, 2, 3, 5], 0.5)).toBe(2.5);
    expect(percentileCont([1, 2, 3], 0.5)).toBe(2);
    expect(percentileCont([1, 2, 3, 5], 0.25)).toBe(1.75); // pos 0.75: 1 + (2−1)·0.75
    expect(percentileDisc([1, 2, 3, 5], 0.5)).toBe(2);
    expect(percentileDisc([1, 2, 3, 5], 0.51)).toBe(3);
    expect(percentileDisc([1, 2, 3, 5], 0)).toBe(1);
  });
});

describe('rungs', () => {
  it('a run’s value at a rung is its latest observation at or before the rung', () => {
    const config = parseCohortConfig({ rules: [{ rule: 'median', rungs: [100, 200] }] });
    let t = NEW_TRACKER;
    let r = crossRungs(config, t, obs('a', 90, 1.0));
    expect(r.crossed).toEqual([]);
    t = r.tracker;
    r = crossRungs(config, t, obs('a', 110, 0.8));
    expect(r.crossed).toMatchObject([{ rung: 100, value: 1.0, step: 90 }]);
    t = r.tracker;
    r = crossRungs(config, t, obs('a', 200, 0.7));
    expect(r.crossed).toMatchObject([{ rung: 200, value: 0.7, step: 200 }]);
    // A replayed (older) observation changes nothing.
    expect(crossRungs(config, r.tracker, obs('a', 150, 0.1)).crossed).toEqual([]);
  });

  it('a run first seen beyond a rung has no value there; one jump may cross several rungs', () => {
    const config = parseCohortConfig({ rules: [{ rule: 'median', rungs: [100, 200, 300] }] });
    const first = crossRungs(config, NEW_TRACKER, obs('a', 150, 1.0));
    expect(first.crossed).toEqual([]);
    const jump = crossRungs(config, first.tracker, obs('a', 320, 0.5));
    expect(jump.crossed).toMatchObject([{ rung: 200, value: 1.0, step: 150 }, { rung: 300, value: 1.0, step: 150 }]);
  });

  it('ASHA rungs are r·η^(s+k), up to maxResource', () => {
    const config = parseCohortConfig({ rules: [{ rule: 'asha', minResource: 1, reductionFactor: 3, bracket: 1, maxResource: 81 }] });
    expect(ruleRungs(config.rules[0], 1e9)).toEqual([3, 9, 27, 81]);
  });

  it('compute rungs use compute_spent, not steps', () => {
    const config = parseCohortConfig({ resource: 'compute', rules: [{ rule: 'median', rungs: [1000] }] });
    const r = crossRungs(config, NEW_TRACKER, { ...obs('a', 5, 1.0), compute: 1000 });
    expect(r.crossed).toMatchObject([{ rung: 1000, step: 5 }]);
  });
});

describe('median stopping', () => {
  it('ignores NaN peers (one NaN stops nobody) and speaks only after minPeers finite peers', async () => {
    const e = engineFor({ rules: [{ rule: 'median', rungs: [10], minPeers: 3 }] });
    const seen: Array<[string, string | undefined, string | undefined]> = [];
    for (const [id, loss] of [['p1', 1], ['p2', Number.NaN], ['p3', 3], ['p4', 2], ['p5', 5]] as const) {
      const d = await e.observe(obs(id, 10, loss));
      seen.push([id, d.stop?.detail, d.notes[0]]);
    }
    expect(seen).toEqual([
      ['p1', undefined, 'median rule: 0 of 3 peers at step 10'],
      ['p2', undefined, "median rule: the run's training loss at step 10 is NaN; left to the per-run rule"],
      ['p3', undefined, 'median rule: 1 of 3 peers at step 10'],
      ['p4', undefined, 'median rule: 2 of 3 peers at step 10'], // the NaN of p2 is no peer
      ['p5', 'Cohort median rule: training loss 5 at step 10 is above the median 2 of 3 peers in cohort "sweep".', undefined],
    ]);
  });

  it('stops a run above the median of its peers, with evidence and a sentence', async () => {
    const e = engineFor({ rules: [{ rule: 'median', rungs: [10], minPeers: 3 }] });
    for (const [id, loss] of [['p1', 1], ['p2', Number.NaN], ['p3', 3], ['p4', 2], ['p5', 5]] as const) await e.observe(obs(id, 10, loss));
    // p6 with 2.6: peers finite [1, 2, 3, 5] → median 2.5 → 2.6 is worse: STOP (a mean of 2.75 would continue it).
    const stopped = await e.observe(obs('p6', 10, 2.6));
    expect(stopped.stop).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_COHORT' });
    expect(stopped.stop!.evidence).toMatchObject({ cohort_rule: 0, rung: 10, value: 2.6, median: 2.5, peers: 4, would_stop_step: 10 });
    expect(stopped.stop!.detail).toBe('Cohort median rule: training loss 2.6 at step 10 is above the median 2.5 of 4 peers in cohort "sweep".');
    // p7 with exactly the median of its peers [1, 2, 2.6, 3, 5] = 2.6: continues (ties are not worse).
    expect((await e.observe(obs('p7', 10, 2.6))).stop).toBeUndefined();
    // The latch holds: p6 stays stopped at later steps.
    expect((await e.observe(obs('p6', 20, 0.1))).stop?.detail).toMatch(/median 2.5/);
  });

  it('abstains until minPeers peers have a finite value at the rung', async () => {
    const e = engineFor({ rules: [{ rule: 'median', rungs: [10], minPeers: 3 }] });
    await e.observe(obs('p1', 10, 1));
    await e.observe(obs('p2', 10, Number.NaN));
    await e.observe(obs('p3', 10, 1.5));
    const d = await e.observe(obs('p4', 10, 100)); // only 2 finite peers
    expect(d.stop).toBeUndefined();
    expect(d.notes).toContain('median rule: 2 of 3 peers at step 10');
  });

  it('compares in the right direction for a higher-is-better objective', async () => {
    const e = engineFor({ objective: 'eval_accuracy', rules: [{ rule: 'median', rungs: [10], minPeers: 2 }] });
    const o = (id: string, acc: number) => ({ ...obs(id, 10, 1), objectives: { eval_accuracy: acc } });
    await e.observe(o('a', 0.9));
    await e.observe(o('b', 0.8));
    expect((await e.observe(o('c', 0.86))).stop).toBeUndefined(); // median 0.85
    const d = await e.observe(o('d', 0.7)); // peers [0.8, 0.86, 0.9] → median 0.86
    expect(d.stop?.detail).toMatch(/evaluation-probe accuracy 0.7 at step 10 is below the median 0.86 of 3 peers/);
  });
});

describe('ASHA (Optuna SuccessiveHalvingPruner semantics)', () => {
  it('η = 3: a run continues past a rung iff it is in the top 1/η of the runs that reached it', async () => {
    const e = engineFor({ rules: [{ rule: 'asha', minResource: 1, reductionFactor: 3 }] });
    // Rung 0 at step 1. n runs at the rung (this one included) → k = max(1, ⌊n/3⌋)-th best must not beat it.
    const expected: Array<[string, number, boolean]> = [
      ['t1', 5, false], // n=1, k=1: best so far
      ['t2', 3, false], // n=2, k=1: 3 is the best
      ['t3', 4, true], //  n=3, k=1: best is 3
      ['t4', 2, false], // n=4, k=1: best
      ['t5', 6, true], //  n=5, k=1
      ['t6', 2.5, false], // n=6, k=2: sorted [2, 2.5, 3, 4, 5, 6], 2nd best 2.5 (ties continue)
      ['t7', 3, true], //  n=7, k=2: 2nd best 2.5
      ['t8', 2.2, false], // n=8, k=2: sorted [2, 2.2, …] → 2nd best 2.2
      ['t9', 2.6, true], // n=9, k=3: sorted [2, 2.2, 2.5, 2.6, …] → 3rd best 2.5
    ];
    for (const [id, loss, stops] of expected) {
      const d = await e.observe(obs(id, 1, loss));
      expect(d.stop !== undefined, `${id} (${loss})`).toBe(stops);
    }
    const t9 = await e.observe(obs('t9', 3, 0.1));
    expect(t9.stop!.evidence).toMatchObject({ cohort_rule: 0, rung: 1, value: 2.6, quantile: 2.5, kth: 3, peers: 9, reduction_factor: 3 });
    expect(t9.stop!.detail).toBe('ASHA (η = 3): training loss 2.6 at step 1 is not in the top 1/3 of the 9 runs that reached this rung (the 3rd best is 2.5).');
    // Survivors compete again at rung 1 (step 3) among themselves.
    expect((await e.observe(obs('t4', 3, 1.0))).stop).toBeUndefined();
    expect((await e.observe(obs('t6', 3, 1.5))).stop).toBeDefined(); // n=2, k=1: best is 1.0
  });

  it('a NaN value at a rung is stopped and never counted as a peer', async () => {
    const e = engineFor({ rules: [{ rule: 'asha', minResource: 10, reductionFactor: 2 }] });
    expect((await e.observe(obs('a', 10, Number.NaN))).stop?.detail).toMatch(/is NaN/);
    expect((await e.observe(obs('b', 10, 7))).stop).toBeUndefined(); // n = 1 finite
  });
});

describe('spectral rule', () => {
  it('stops a run whose predicted final loss is worse than the k-th best peer at the rung', async () => {
    const e = engineFor({ rules: [{ rule: 'spectral', rungs: [10], k: 2 }] });
    for (const [id, p] of [['a', 0.1], ['b', 0.3], ['c', 0.2]] as const) expect((await e.observe(obs(id, 10, 1, { predicted: p }))).stop).toBeUndefined();
    expect((await e.observe(obs('d', 10, 1, { predicted: 0.2 }))).stop).toBeUndefined(); // 2nd best of [0.1, 0.2, 0.3] is 0.2: a tie
    const d = await e.observe(obs('e', 10, 1, { predicted: 0.25 })); // peers [0.1, 0.2, 0.2, 0.3]: 2nd best 0.2
    expect(d.stop!.evidence).toMatchObject({ predicted: 0.25, quantile: 0.2, kth: 2, peers: 4, rung: 10 });
    expect(d.stop!.detail).toMatch(/kernel-predicted final training loss 0.25 at step 10 is worse than the 2nd best 0.2 of 4 peers/);
    const none = await e.observe(obs('f', 10, 1));
    expect(none.notes).toContain('spectral rule: no trusted prediction of the final training loss at step 10');
  });
});

describe('cohort budget', () => {
  it('once the cohort has spent its compute, the least promising runs stop first', async () => {
    const e = engineFor({ rules: [{ rule: 'median', rungs: [10], minPeers: 99 }, { rule: 'budget', maxCompute: 100, keep: 1 }] });
    const step = (id: string, s: number, loss: number, compute: number) => e.observe(obs(id, s, loss, { compute }));
    for (const [id, loss] of [['a', 1], ['b', 2], ['c', 3]] as const) expect((await step(id, 10, loss, 30)).stop).toBeUndefined();
    expect((await step('a', 20, 0.9, 40)).stop).toBeUndefined(); // spent 100 ≥ 100: allowed 1, a ranks 1st
    const b = await step('b', 20, 1.9, 40); // spent 110; a beats b at rung 10 → rank 2 > 1
    expect(b.stop!.evidence).toMatchObject({ cohort_rule: 1, cohort_compute: 110, max_compute: 100, rank: 2, allowed: 1 });
    expect(b.stop!.detail).toBe('Cohort budget: cohort "sweep" has spent 110 of 100 compute, leaving room for 1 run(s); this run ranks 2 of 3 (1 active peer(s) beat it at their latest common rung).');
    const c = await step('c', 20, 2.9, 40); // b is stopped: c ranks 2 of the 2 active runs
    expect(c.stop!.evidence).toMatchObject({ rank: 2, allowed: 1, cohort_compute: 120 });
    expect((await step('a', 30, 0.8, 50)).stop).toBeUndefined();
  });

  it('with startFraction < 1 the runs allowed fall linearly from all to keep', () => {
    const rule = { rule: 'budget' as const, maxCompute: 100, keep: 1, startFraction: 0.5 };
    expect(budgetAllowed(rule, 40, 5)).toBe(5);
    expect(budgetAllowed(rule, 50, 5)).toBe(5); // 1 + ⌊4·50/50⌋
    expect(budgetAllowed(rule, 75, 5)).toBe(3); // 1 + ⌊4·25/50⌋
    expect(budgetAllowed(rule, 99, 5)).toBe(1);
    expect(budgetAllowed(rule, 100, 5)).toBe(1);
  });
});

describe('configuration', () => {
  const refused = (cohort: unknown) => () => policySetFrom({ cohort }, 'p.yaml');
  it('refuses bad cohort configuration with the key and the value', () => {
    expect(refused({ rules: [{ rule: 'hyperband' }] })).toThrow(PolicyError);
    expect(refused({ rules: [{ rule: 'hyperband' }] })).toThrow('p.yaml: cohort.rules[0].rule is not a known cohort rule (known: median, asha, spectral, kess, budget), got "hyperband"');
    expect(refused({ rules: [{ rule: 'asha', minResource: 1, reductionFactor: 1 }] })).toThrow('p.yaml: cohort.rules[0].reductionFactor must be an integer ≥ 2, got 1');
    expect(refused({ rules: [{ rule: 'median', rungs: [100, 300, 200] }] })).toThrow('p.yaml: cohort.rules[0].rungs must be strictly increasing (rungs[2] = 200 ≤ rungs[1] = 300), got [100,300,200]');
    expect(refused({ rules: [{ rule: 'median', rungs: [100] }, { rule: 'median', rungs: [1], minpeers: 2 }] })).toThrow('cohort.rules[1].minpeers is not a setting of rule median');
    expect(refused({ order: 'cohort-last', rules: [{ rule: 'median', rungs: [1] }] })).toThrow('cohort.order must be run-first or cohort-first, got "cohort-last"');
    expect(refused({ resource: 'seconds', rules: [{ rule: 'median', rungs: [1] }] })).toThrow('cohort.resource must be steps or compute (never wall-clock), got "seconds"');
    expect(refused({ objective: 'val_loss', rules: [{ rule: 'median', rungs: [1] }] })).toThrow('cohort.objective must be one of train_loss, loo_error, gcv_error, loo_accuracy, eval_accuracy, got "val_loss"');
    expect(refused({ rules: [] })).toThrow('cohort.rules must be a non-empty list of rules, got []');
    expect(refused({ rules: [{ rule: 'spectral', rungs: [1], k: 3, minPeers: 2 }] })).toThrow('cohort.rules[0].minPeers must be an integer ≥ k = 3, got 2');
  });

  it('parses a full cohort section with defaults', () => {
    const set = policySetFrom({ cohort: { order: 'cohort-first', rules: [{ rule: 'asha', minResource: 100 }, { rule: 'budget', maxCompute: 5 }] } });
    expect(set.cohort).toEqual<CohortConfig>({
      order: 'cohort-first',
      objective: 'train_loss',
      resource: 'steps',
      rules: [
        { rule: 'asha', minResource: 100, reductionFactor: 3, bracket: 0, maxResource: 0 },
        { rule: 'budget', maxCompute: 5, keep: 1, startFraction: 1 },
      ],
    });
    expect(policySetFrom({}).cohort).toBeUndefined();
  });
});

describe('combining with the per-run decision', () => {
  const runStop: Verdict = { action: 'ACTION_STOP', reason: 'REASON_BUDGET', detail: 'Step budget spent.', evidence: { step: 5 } };
  const runGo: Verdict = { action: 'ACTION_CONTINUE', reason: 'REASON_COLLECTING', detail: 'Collecting.', evidence: { step: 5 } };
  const cohortStop = { action: 'ACTION_STOP' as const, reason: 'REASON_COHORT' as const, detail: 'Cohort median rule: …', evidence: { rung: 5 } };
  it('run-first: a per-run STOP keeps its reason; cohort-first: the cohort STOP wins', () => {
    expect(combineWithCohort('run-first', runStop, { stop: cohortStop, notes: [] }).reason).toBe('REASON_BUDGET');
    expect(combineWithCohort('cohort-first', runStop, { stop: cohortStop, notes: [] }).reason).toBe('REASON_COHORT');
    expect(combineWithCohort('run-first', runGo, { stop: cohortStop, notes: [] }).reason).toBe('REASON_COHORT');
    expect(combineWithCohort('cohort-first', runGo, { notes: [] })).toEqual(runGo);
    expect(combineWithCohort('cohort-first', runGo, { stop: cohortStop, notes: [] }, runStop)).toBe(runStop); // latched
  });
  it('an abstention keeps the per-run verdict and says why', () => {
    const v = combineWithCohort('run-first', runGo, { notes: [], abstain: 'cohort store unreachable: connect ECONNREFUSED 127.0.0.1:5' });
    expect(v.action).toBe('ACTION_CONTINUE');
    expect(v.detail).toBe('Collecting. Cohort rules abstain: cohort store unreachable: connect ECONNREFUSED 127.0.0.1:5.');
  });
});

describe('--cohort-store', () => {
  it('takes memory or a postgres:// URL and refuses anything else with the flag and the value', async () => {
    const { resolveConfig, ConfigError } = await import('../../src/config/config.js');
    expect(resolveConfig({}).cohortStore).toBe('memory');
    expect(resolveConfig({ flags: { 'cohort-store': 'postgres://ntk@db:5432/sweeps' } }).cohortStore).toBe('postgres://ntk@db:5432/sweeps');
    expect(resolveConfig({ env: { NTK_SIDECAR_COHORT_STORE: 'postgresql://db/x' } }).cohortStore).toBe('postgresql://db/x');
    expect(() => resolveConfig({ flags: { 'cohort-store': 'mysql://db/x' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: { 'cohort-store': 'mysql://db/x' } })).toThrow('flags: --cohort-store="mysql://db/x": choose memory or a postgres://… (or postgresql://…) URL');
  });
});
