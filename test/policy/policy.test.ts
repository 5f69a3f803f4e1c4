import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, PolicyError, policySetFrom, selectPolicy } from '../../src/policy/policy.js';
import { decide, jobVerdict, type DecisionInput } from '../../src/policy/decide.js';

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  step: 100, computeSpent: 0, trainLoss: 0.5, dataFinite: true, snapshots: 5, kernelSnapshots: 5,
  run: { warmupSteps: 0, maxSteps: 0, maxCompute: 0 }, ...over,
});

describe('policy file', () => {
  it('inherits from default and through extends chains', () => {
    const set = policySetFrom({ default: { minSnapshots: 2 }, policies: { capped: { extends: 'shadow', maxSteps: 10 }, shadow: { enforced: false } } });
    expect(selectPolicy(set, '')).toEqual({ ...DEFAULT_POLICY, minSnapshots: 2 });
    expect(selectPolicy(set, 'capped')).toEqual({ ...DEFAULT_POLICY, name: 'capped', minSnapshots: 2, enforced: false, maxSteps: 10 });
    expect(selectPolicy(set, 'missing')).toBeUndefined();
  });

  it('rejects bad documents with the place and the value', () => {
    expect(() => policySetFrom({ policies: { a: { maxSteps: -1 } } }, 'p.yaml')).toThrow(/p\.yaml: a\.maxSteps must be a non-negative integer, got -1/);
    expect(() => policySetFrom({ policies: { a: { enforce: true } } })).toThrow(/unknown setting "enforce"/);
    expect(() => policySetFrom({ policies: { a: { extends: 'b' }, b: { extends: 'a' } } })).toThrow(PolicyError);
    expect(() => policySetFrom({ policies: { a: { extends: 'zzz' } } })).toThrow(/extends unknown policy "zzz"/);
    expect(() => policySetFrom({ defaults: {} })).toThrow(/unknown top-level key/);
  });

  it('defaults the stopping settings to the A14 table', () => {
    expect(DEFAULT_POLICY.stopping).toMatchObject({
      rho: 0.1, horizonFraction: 0.2, deltaH: 0.02, frozenWindow: 3, stopVotes: 2, price: 0, spikeTheta: 0.5, spikeWindow: 5,
      velocityRel: 0.05, distanceAbs: 0.02, alignmentDelta: 0.005, overlapMin: 0.9, plateauRel: 0.01, plateauWindow: 5,
      lazyDistance: 0.1, lazyGap: 0.1, traceGrowth: 0.05, eosLow: 0.9, eosHigh: 1.1, eosSnapshots: 3, sketchFloorFactor: 3,
      validGap: 0.3, timeR2Min: 0.8, logitsPatience: 2,
    });
  });

  it('merges nested stopping settings key by key through extends', () => {
    const set = policySetFrom({ default: { stopping: { rho: 0.2 } }, policies: { strict: { stopping: { stopVotes: 3, price: 1e-4 } }, child: { extends: 'strict', stopping: { deltaH: 0.05 } } } });
    expect(selectPolicy(set, '')!.stopping).toEqual({ ...DEFAULT_POLICY.stopping, rho: 0.2 });
    expect(selectPolicy(set, 'child')!.stopping).toEqual({ ...DEFAULT_POLICY.stopping, rho: 0.2, stopVotes: 3, price: 1e-4, deltaH: 0.05 });
    expect(DEFAULT_POLICY.stopping.rho).toBe(0.1); // defaults untouched
  });

  it('rejects bad stopping settings with the place, the rule and the value', () => {
    const bad = (stopping: unknown) => () => policySetFrom({ policies: { a: { stopping } } }, 'p.yaml');
    expect(bad({ rho: 1.5 })).toThrow(/p\.yaml: a\.stopping\.rho must be a number in \(0, 1\), got 1\.5/);
    expect(bad({ stopVotes: 0 })).toThrow(/a\.stopping\.stopVotes must be an integer ≥ 1, got 0/);
    expect(bad({ logitsPatience: 1 })).toThrow(/logitsPatience must be an integer ≥ 2, got 1/);
    expect(bad({ frozenWindow: 2.5 })).toThrow(/frozenWindow must be an integer ≥ 1, got 2\.5/);
    expect(bad({ price: -1 })).toThrow(/price must be a non-negative number, got -1/);
    expect(bad({ deltaH: '0.02' })).toThrow(/deltaH must be a number in \(0, 1\), got "0\.02"/);
    expect(bad({ eosLow: 1.2 })).toThrow(/needs eosLow < eosHigh, got 1\.2 and 1\.1/);
    expect(bad({ theta: 0.5 })).toThrow(/a\.stopping has unknown setting "theta"; known: rho, /);
    expect(bad([1])).toThrow(/a\.stopping must be a mapping/);
  });
});

describe('decide', () => {
  it('stops a diverged run and latches', () => {
    const stop = decide(input({ trainLoss: Number.NaN }), DEFAULT_POLICY, undefined);
    expect(stop).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_DIVERGED' });
    expect(decide(input(), DEFAULT_POLICY, stop)).toBe(stop);
    expect(decide(input({ dataFinite: false }), DEFAULT_POLICY, undefined).detail).toMatch(/NaN or Inf/);
    expect(decide(input({ trainLoss: Infinity }), DEFAULT_POLICY, undefined).reason).toBe('REASON_DIVERGED');
  });

  it('applies the tighter of policy and run budgets, after warm-up', () => {
    const policy = { ...DEFAULT_POLICY, maxSteps: 500 };
    expect(decide(input({ step: 499 }), policy, undefined).action).toBe('ACTION_CONTINUE');
    expect(decide(input({ step: 300, run: { warmupSteps: 0, maxSteps: 300, maxCompute: 0 } }), policy, undefined)).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    expect(decide(input({ step: 600, run: { warmupSteps: 1000, maxSteps: 0, maxCompute: 0 } }), policy, undefined).reason).toBe('REASON_WARMUP');
    expect(decide(input({ computeSpent: 2e15 }), { ...DEFAULT_POLICY, maxCompute: 1e15 }, undefined).evidence).toMatchObject({ compute_spent: 2e15, max_compute: 1e15 });
  });

  it('marks every STOP with the would-stop step (exported in shadow mode)', () => {
    expect(decide(input({ trainLoss: Number.NaN }), DEFAULT_POLICY, undefined).evidence.would_stop_step).toBe(100);
    expect(decide(input({ step: 700 }), { ...DEFAULT_POLICY, maxSteps: 500, enforced: false }, undefined).evidence).toMatchObject({ would_stop_step: 700 });
  });

  it('continues honestly: warm-up, no data, collecting', () => {
    expect(decide(input({ snapshots: 2 }), DEFAULT_POLICY, undefined).reason).toBe('REASON_WARMUP');
    expect(decide(input({ kernelSnapshots: 0 }), DEFAULT_POLICY, undefined).reason).toBe('REASON_NO_DATA');
    expect(decide(input(), DEFAULT_POLICY, undefined).reason).toBe('REASON_COLLECTING');
  });

  it('gives a job one decision: the first enforced STOP of any rank, else the latest', () => {
    const d = (action: 'ACTION_STOP' | 'ACTION_CONTINUE', enforced: boolean, decidedAtMs: number) => ({ action, enforced, decidedAtMs });
    expect(jobVerdict([d('ACTION_CONTINUE', true, 1), d('ACTION_CONTINUE', true, 3)])!.decidedAtMs).toBe(3);
    expect(jobVerdict([d('ACTION_CONTINUE', true, 5), d('ACTION_STOP', true, 2), d('ACTION_STOP', true, 4)])!.decidedAtMs).toBe(2);
    expect(jobVerdict([d('ACTION_CONTINUE', true, 1), d('ACTION_STOP', false, 2)])!.action).toBe('ACTION_STOP'); // shadow: latest, not enforced
    expect(jobVerdict([])).toBeUndefined();
  });
});

describe('policy file: the stopping rule and its generalisation settings (docs/generalization.md G5)', () => {
  it('reads rule and generalization, merged over the parent key by key', () => {
    const set = policySetFrom({
      policies: {
        gen: { rule: 'generalization', generalization: { estimate: 'eval_accuracy', minAccuracyGain: 0.01 } },
        genPatient: { extends: 'gen', generalization: { horizonFraction: 0.5 } },
      },
    });
    // The default reads the evaluation probe (the estimate the stopping evaluation supports), else the loss chain.
    expect(set.byName.get('default')!).toMatchObject({ rule: 'generalization', generalization: { estimate: 'eval_accuracy' } });
    const g = set.byName.get('genPatient')!;
    expect(g.rule).toBe('generalization');
    expect(g.generalization).toMatchObject({ estimate: 'eval_accuracy', minAccuracyGain: 0.01, horizonFraction: 0.5, upperZ: 1.645 });
  });

  it('refuses an unknown rule, estimate or setting and a bad value, naming the key and the value', () => {
    expect(() => policySetFrom({ policies: { p: { rule: 'validation' } } })).toThrow(/p\.rule must be one of loss, generalization, label_wave, got "validation"/);
    expect(() => policySetFrom({ policies: { p: { generalization: { estimate: 'test_accuracy' } } } })).toThrow(/p\.generalization\.estimate must be one of auto, loo_accuracy, eval_accuracy, neg_loo_error, got "test_accuracy"/);
    expect(() => policySetFrom({ policies: { p: { generalization: { patience: 3 } } } })).toThrow(/p\.generalization has unknown setting "patience"/);
    expect(() => policySetFrom({ policies: { p: { generalization: { horizonFraction: -1 } } } })).toThrow(/p\.generalization\.horizonFraction must be finite and > 0, got -1/);
  });
});
