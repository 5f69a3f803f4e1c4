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
