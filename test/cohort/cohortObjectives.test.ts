/**
 * What the server feeds the cohort engine (cohortObservationOf): the generalisation estimates of a snapshot's
 * diagnostics as objectives (eval_accuracy, loo_accuracy, loo_error, gcv_error), the trusted prediction's L_∞ and
 * KESS (carried over Scalars events), and the kess rule "KESS already passed while peers gain".
 */
import { describe, expect, it } from 'vitest';
import { parseCohortConfig, type CohortObservation } from '../../src/policy/cohort.js';
import { cohortObservationOf } from '../../src/policy/cohortCombine.js';
import { policySetFrom } from '../../src/policy/policy.js';
import { CohortEngine } from '../../src/cohort/cohortEngine.js';
import { MemoryCohortStore } from '../../src/cohort/memoryCohortStore.js';
import type { PredictionDiagnostics, SnapshotDiagnostics } from '../../src/analysis/types.js';
import type { GeneralizationReportFields } from '../../src/analysis/generalization.js';

function prediction(p: Partial<PredictionDiagnostics> = {}): PredictionDiagnostics {
  return { valid: true, timeScale: 1, timeR2: 0.95, kess: {}, gain: {}, ...p };
}

function diagnostics(step: number, trainLoss: number, extra: { generalization?: Partial<GeneralizationReportFields>; prediction?: PredictionDiagnostics } = {}): SnapshotDiagnostics {
  return {
    snapshotId: step,
    step,
    trainLoss,
    prediction: extra.prediction,
    generalization: extra.generalization && { heldOut: true, ...extra.generalization },
  };
}

/** A snapshot event as attachSession builds it (compute = step). */
const snapshot = (runId: string, step: number, loss: number, extra: Parameters<typeof diagnostics>[2] = {}): CohortObservation =>
  cohortObservationOf('sweep', runId, { step, trainLoss: loss, computeSpent: step, diagnostics: diagnostics(step, loss, extra) }, step);
/** A Scalars event (no diagnostics). */
const scalars = (runId: string, step: number, loss: number): CohortObservation => cohortObservationOf('sweep', runId, { step, trainLoss: loss, computeSpent: step }, step);

const engineFor = (config: unknown) => new CohortEngine({ config: parseCohortConfig(config), store: new MemoryCohortStore() });

describe('cohortObservationOf', () => {
  it('passes the finite generalisation estimates as objectives, the trusted L_∞ and K2', () => {
    const o = snapshot('a', 100, 0.5, {
      generalization: { looAccuracy: 0.8, looError: 0.2, gcvError: Number.NaN, evalAccuracy: 0.75 },
      prediction: prediction({ floor: 0.1, kess: { K2: 80 } }),
    });
    expect(o).toEqual({ cohort: 'sweep', runId: 'a', step: 100, compute: 100, objectives: { train_loss: 0.5, loo_accuracy: 0.8, loo_error: 0.2, eval_accuracy: 0.75 }, predicted: 0.1, kess: 80, hasDiagnostics: true });
    // An untrusted prediction gives neither L_∞ nor K2; a Scalars event has only the loss and carries the latest ones.
    expect(snapshot('a', 100, 0.5, { prediction: prediction({ valid: false, floor: 0.1, kess: { K2: 80 } }) })).toMatchObject({ predicted: undefined, kess: undefined, hasDiagnostics: true });
    expect(scalars('a', 110, 0.4)).toEqual({ cohort: 'sweep', runId: 'a', step: 110, compute: 110, objectives: { train_loss: 0.4 }, predicted: undefined, kess: undefined, hasDiagnostics: false });
  });
});

describe('generalisation objectives', () => {
  it('objective: eval_accuracy compares the evaluation-probe accuracy, higher is better; Scalars events only move the run', async () => {
    const e = engineFor({ objective: 'eval_accuracy', rules: [{ rule: 'median', rungs: [100], minPeers: 3 }] });
    for (const [id, acc] of [['a', 0.9], ['b', 0.8], ['c', 0.85]] as const) {
      expect((await e.observe(snapshot(id, 100, 1, { generalization: { evalAccuracy: acc } }))).stop).toBeUndefined();
    }
    // d: its last snapshot (step 90) had accuracy 0.6; the Scalars event at step 100 carries no accuracy.
    expect((await e.observe(snapshot('d', 90, 0.1, { generalization: { evalAccuracy: 0.6 } }))).stop).toBeUndefined();
    const d = await e.observe(scalars('d', 100, 0.05));
    expect(d.stop!.detail).toBe('Cohort median rule: evaluation-probe accuracy 0.6 at step 100 is below the median 0.85 of 3 peers in cohort "sweep".');
    expect(d.stop!.evidence).toMatchObject({ value: 0.6, median: 0.85, step: 90, rung: 100 });
  });

  it.each([
    ['loo_accuracy', { looAccuracy: 0.5 }, [{ looAccuracy: 0.9 }, { looAccuracy: 0.7 }], 'kernel leave-one-out accuracy 0.5 at step 10 is below the median 0.8'],
    ['loo_error', { looError: 0.5 }, [{ looError: 0.1 }, { looError: 0.3 }], 'kernel leave-one-out error 0.5 at step 10 is above the median 0.2'],
    ['gcv_error', { gcvError: 0.5 }, [{ gcvError: 0.1 }, { gcvError: 0.3 }], 'generalised cross-validation error 0.5 at step 10 is above the median 0.2'],
  ] as const)('objective: %s', async (objective, loser, peers, sentence) => {
    const e = engineFor({ objective, rules: [{ rule: 'median', rungs: [10], minPeers: 2 }] });
    for (const [i, g] of peers.entries()) expect((await e.observe(snapshot(`p${i}`, 10, 1, { generalization: g }))).stop).toBeUndefined();
    expect((await e.observe(snapshot('x', 10, 0.01, { generalization: loser }))).stop!.detail).toContain(sentence);
  });

  it('a run without the objective at a rung has no value there (never a peer, never judged)', async () => {
    const e = engineFor({ objective: 'loo_error', rules: [{ rule: 'median', rungs: [10], minPeers: 1 }] });
    expect(await e.observe(snapshot('a', 10, 1))).toEqual({ notes: [] });
    expect(await e.observe(snapshot('b', 10, 1, { generalization: { looError: 0.9 } }))).toEqual({ notes: ['median rule: 0 of 1 peers at step 10'] });
  });

  it('the spectral rule compares the predicted final loss only when the objective is the loss', async () => {
    const e = engineFor({ objective: 'eval_accuracy', rules: [{ rule: 'spectral', rungs: [10], k: 1 }] });
    await e.observe(snapshot('a', 10, 1, { generalization: { evalAccuracy: 0.9 }, prediction: prediction({ floor: 0.01 }) }));
    const b = await e.observe(snapshot('b', 10, 1, { generalization: { evalAccuracy: 0.9 }, prediction: prediction({ floor: 0.5 }) }));
    expect(b).toEqual({ notes: ['spectral rule: no trusted prediction of the final evaluation-probe accuracy at step 10'] });
  });
});

describe('kess rule: KESS already passed while peers gain', () => {
  const RULE = { rule: 'kess', rungs: [100, 200], delta: 0.05, minPeers: 3 };
  /** Peers a, b, c: median loss 1.0 at rung 100, `at200` at rung 200. */
  async function withPeers(at200: number) {
    const e = engineFor({ rules: [RULE] });
    for (const [id, l100, l200] of [['a', 0.9, at200 - 0.1], ['b', 1.0, at200], ['c', 1.1, at200 + 0.1]] as const) {
      expect((await e.observe(scalars(id, 100, l100))).stop).toBeUndefined();
      expect((await e.observe(scalars(id, 200, l200))).stop).toBeUndefined(); // no KESS known: never stopped
    }
    return e;
  }

  it('stops a run past its K2 while the peers’ median still improves by ≥ δ, with evidence and a sentence', async () => {
    const e = await withPeers(0.8); // median 1.0 → 0.8: a 20 % gain
    expect((await e.observe(snapshot('x', 100, 0.7, { prediction: prediction({ kess: { K2: 150 } }) }))).stop).toBeUndefined(); // first rung
    // K2 = 150 comes from the snapshot at step 100; the Scalars event at 200 carries it: 150 < 200.
    const x = await e.observe(scalars('x', 200, 0.69));
    expect(x.stop!.detail).toBe('Cohort KESS rule: the run passed its kernel effective stopping step (K2 = 150) before step 200, while the median training loss of its 3 peers in cohort "sweep" still improved by 20 % from step 100 to step 200 (1 → 0.8; δ = 5 %).');
    expect(x.stop!.evidence).toMatchObject({ cohort_rule: 0, rung: 200, step: 200, value: 0.69, kess: 150, median: 0.8, previous_median: 1, previous_rung: 100, delta: 0.05, peers: 3 });
    expect(x.stop!.evidence.improvement).toBeCloseTo(0.2, 12);
  });

  it('continues when K2 is not yet passed, when the peers have plateaued, or without a trusted KESS', async () => {
    const gaining = await withPeers(0.8);
    await gaining.observe(snapshot('y', 100, 0.7, { prediction: prediction({ kess: { K2: 500 } }) }));
    expect(await gaining.observe(scalars('y', 200, 0.6))).toEqual({ notes: ['kess rule: KESS K2 = 500 not yet passed at step 200'] });
    await gaining.observe(snapshot('z', 100, 0.7, { prediction: prediction({ valid: false, kess: { K2: 50 } }) }));
    expect(await gaining.observe(scalars('z', 200, 0.6))).toEqual({ notes: ['kess rule: no trusted KESS (K2) of the run at step 200'] });

    const flat = await withPeers(0.97); // 3 % < δ
    await flat.observe(snapshot('x', 100, 0.7, { prediction: prediction({ kess: { K2: 150 } }) }));
    const x = await flat.observe(scalars('x', 200, 0.69));
    expect(x.stop).toBeUndefined();
    expect(x.notes[0]).toMatch(/^kess rule: KESS passed but the peers' median improved by only 3 % \(< δ = 5 %\) from step 100 to step 200$/);
  });

  it('abstains below minPeers at either rung; refuses a bad δ with the key and value', async () => {
    const e = engineFor({ rules: [RULE] });
    await e.observe(scalars('a', 100, 1));
    await e.observe(scalars('a', 200, 0.5));
    await e.observe(snapshot('x', 100, 0.7, { prediction: prediction({ kess: { K2: 150 } }) }));
    expect((await e.observe(scalars('x', 200, 0.69))).notes).toEqual(['kess rule: 1 of 3 peers at both step 200 and the previous rung']);
    expect(() => policySetFrom({ cohort: { rules: [{ rule: 'kess', rungs: [1, 2], delta: 1.5 }] } }, 'p.yaml')).toThrow('p.yaml: cohort.rules[0].delta must be a number in (0, 1) (relative improvement of the median), got 1.5');
    expect(parseCohortConfig({ rules: [{ rule: 'kess', rungs: [1, 2] }] }).rules[0]).toEqual({ rule: 'kess', rungs: [1, 2], delta: 0.01, minPeers: 3 });
  });
});
