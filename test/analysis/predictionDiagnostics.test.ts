import { describe, expect, it } from 'vitest';
import { fitAnchorTimeScale, predictedCurve, predictionDiagnostics } from '../../src/analysis/predictionDiagnostics.js';
import type { PredictionInput } from '../../src/analysis/predictionDiagnostics.js';
import { kessK1, kessK2, kessK4 } from '../../src/analysis/kess.js';
import type { LossCurve } from '../../src/analysis/kess.js';
import { nullSpaceFloor, predictedGainMse, predictedLossMse, solveCeTrajectory } from '../../src/analysis/prediction.js';
import type { ModalState } from '../../src/analysis/prediction.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { mulberry32, normalArray } from '../../src/random.js';

/**
 * A linear model f = Xθ (N = 10 samples, C = 1, P = 6 parameters, so K = XXᵀ has a 4-dimensional null space)
 * trained by full-batch GD on L = c_L‖Xθ − y‖², simulated exactly. For it the discrete A9 form is exact.
 */
const N = 10;
const P = 6;
const cL = 1 / (2 * N);
const rng = mulberry32(2024);
const X = normalArray(rng, N * P);
const y = normalArray(rng, N);
const K = new Float64Array(N * N);
for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) for (let p = 0; p < P; p++) K[i * N + j] += X[i * P + p] * X[j * P + p];
const { values: lambda, vectors: U } = eighSymmetric(K, N, { vectors: true }) as { values: Float64Array; vectors: Float64Array };
const eta = 0.25 / (2 * cL * lambda[0]); // 2c_Lηλ_1 = 0.25: discrete mode (A9 threshold 0.1), stable
const STEPS = 400;

/** Residuals r_s = Xθ_s − y and losses of GD from θ = 0. */
const residuals: Float64Array[] = [];
const losses: number[] = [];
{
  const theta = new Float64Array(P);
  for (let s = 0; s <= STEPS; s++) {
    const r = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let v = -y[i];
      for (let p = 0; p < P; p++) v += X[i * P + p] * theta[p];
      r[i] = v;
    }
    residuals.push(r);
    losses.push(cL * r.reduce((a, v) => a + v * v, 0));
    for (let p = 0; p < P; p++) {
      let grad = 0;
      for (let i = 0; i < N; i++) grad += 2 * cL * X[i * P + p] * r[i];
      theta[p] -= eta * grad;
    }
  }
}

function modal(step: number): { lambda: Float64Array; coeff2: Float64Array; restEnergy: number; tol: number } {
  const r = residuals[step];
  const coeff2 = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let c = 0;
    for (let i = 0; i < N; i++) c += U[i * N + j] * r[i];
    coeff2[j] = c * c;
  }
  // All N pairs are known, so ‖r‖² − Σc² is roundoff only.
  const restEnergy = r.reduce((a, v) => a + v * v, 0) - coeff2.reduce((a, v) => a + v, 0);
  return { lambda, coeff2, restEnergy, tol: 1e-10 * lambda[0] };
}

function input(anchor: number, lastObserved: number, extra: Partial<PredictionInput> = {}): PredictionInput {
  return {
    anchorStep: anchor,
    ...modal(anchor),
    cL,
    loss: 'mse',
    etaEff: eta,
    lr: eta,
    observed: losses.slice(0, lastObserved + 1).map((loss, step) => ({ step, loss })),
    firstStep: 0,
    kess: { rho: 0.1, eps: 0.05, horizonFraction: 0.2 },
    ...extra,
  };
}

/** The analytic discrete curve from step 0 (the whole run as one anchor). */
const state0: ModalState = { ...modal(0), cL };
const analytic: LossCurve = {
  loss: (s) => predictedLossMse(state0, eta, s, 'discrete'),
  gain: (s) => predictedGainMse(state0, eta, s, 'discrete'),
};
const K2true = kessK2(analytic, { rho: 0.1, s0: 0, sMax: 1e6 }) as number;

describe('predictionDiagnostics end to end on a linear model under full-batch GD (docs/science.md A9–A12, C5)', () => {
  const anchor = 3;
  const d = predictionDiagnostics(input(anchor, 300));

  it('the example is in the regime the test means: discrete mode, K2 after the anchor, a non-zero floor', () => {
    expect(K2true).toBeGreaterThan(anchor + 5);
    expect(nullSpaceFloor(state0)).toBeGreaterThan(1e-3);
  });
  it('fits â = 1 (1e-8: noise-free, exact model) with R²_time = 1, and is valid', () => {
    expect(Math.abs(d.timeScale - 1)).toBeLessThan(1e-8);
    expect(d.timeR2).toBeGreaterThan(1 - 1e-12);
    expect(d.valid).toBe(true);
  });
  it('the predicted loss matches the simulation at every later step to 1e-9 (relative)', () => {
    const curve = predictedCurve(input(anchor, 300), d.timeScale, STEPS);
    for (let s = anchor; s <= STEPS; s += 7) expect(Math.abs(curve.loss(s) / losses[s] - 1)).toBeLessThan(1e-9);
    // L(s_t + H) with s_t = 300 (last observation) and H = 0.2·300 = 60.
    expect(Math.abs((d.lossAtHorizon as number) / losses[360] - 1)).toBeLessThan(1e-9);
  });
  it('the floor is the least-squares residual loss the simulation converges to', () => {
    expect(Math.abs((d.floor as number) / nullSpaceFloor(state0) - 1)).toBeLessThan(1e-9);
    expect(Math.abs(losses[STEPS] / (d.floor as number) - 1)).toBeLessThan(1e-6);
  });
  it('K2 equals kessK2 on the analytic curve from step 0 (1e-8: â differs from 1 by < 1e-8)', () => {
    expect(Math.abs((d.kess.K2 as number) / K2true - 1)).toBeLessThan(1e-8);
    expect(Math.abs((d.predictedLossAtKess as number) / analytic.loss(K2true) - 1)).toBeLessThan(1e-8);
  });
  it('K1 (L∞ = floor), K4 and the gain forms agree with the analytic curve', () => {
    const floor = nullSpaceFloor(state0);
    const sMaxK1 = 1e6;
    expect(Math.abs((d.kess.K1 as number) / (kessK1(analytic, { eps: 0.05, Linf: floor, sMax: sMaxK1 }) as number) - 1)).toBeLessThan(1e-8);
    expect(d.kess.K4).toBeGreaterThan(1);
    expect(d.kess.K3).toBeUndefined(); // no price configured
    const st = 300;
    expect(Math.abs((d.gain.perStep as number) / analytic.gain(st) - 1)).toBeLessThan(1e-8);
    const ratio = (analytic.gain(st) * st) / (losses[0] - analytic.loss(st));
    expect(Math.abs((d.gain.avgRatio as number) / ratio - 1)).toBeLessThan(1e-8);
    const remaining = (analytic.loss(st) - floor) / (losses[0] - floor);
    expect(Math.abs((d.gain.remaining as number) / remaining - 1)).toBeLessThan(1e-6);
  });
  it('K3 with a price and K1/K4 with a budget horizon', () => {
    const price = analytic.gain(40);
    const withPrice = predictionDiagnostics(input(anchor, 300, { kess: { rho: 0.1, eps: 0.05, horizonFraction: 0.2, price, budgetStep: 1000 } }));
    expect(Math.abs((withPrice.kess.K3 as number) / 40 - 1)).toBeLessThan(1e-6);
    const LinfBudget = analytic.loss(1000);
    expect(Math.abs((withPrice.kess.K1 as number) / (kessK1(analytic, { eps: 0.05, Linf: LinfBudget, sMax: 1000 }) as number) - 1)).toBeLessThan(1e-8);
    const K4 = kessK4(analytic, { sMin: 1, sMax: 1000 }) as number;
    expect(Math.abs((withPrice.kess.K4 as number) / K4 - 1)).toBeLessThan(0.02); // same 1001-point grid; history is interpolated below s_a
  });
});

describe('predictionDiagnostics at a live snapshot (no observations after the anchor yet)', () => {
  it('known η_eff: a = 1 by default, timeR2 = NaN, valid; the prediction is still exact', () => {
    const d = predictionDiagnostics(input(20, 20));
    expect(d.timeScale).toBe(1);
    expect(d.timeR2).toBeNaN();
    expect(d.valid).toBe(true);
    // s_t = 20, H = 4.
    expect(Math.abs((d.lossAtHorizon as number) / losses[24] - 1)).toBeLessThan(1e-9);
  });
  it('K2 already passed before the anchor is located on the observed history', () => {
    const late = 4 * Math.ceil(K2true);
    const d = predictionDiagnostics(input(late, late));
    const K2 = d.kess.K2 as number;
    expect(Number.isInteger(K2)).toBe(true); // an observed step
    expect(K2).toBeLessThan(late);
    // Observations are whole steps and the centered 20-point Theil–Sen gain has a curvature bias: K2true = 18.80
    // here, the history gives 20; 2 steps of slack.
    expect(K2).toBeGreaterThanOrEqual(Math.ceil(K2true));
    expect(K2 - K2true).toBeLessThan(2);
    expect(d.predictedLossAtKess).toBeGreaterThan(0);
  });
  it('noisy history (3% multiplicative, seeded): the located K2 stays within 4 steps of the truth', () => {
    const late = 4 * Math.ceil(K2true);
    const z = normalArray(mulberry32(8), late + 1);
    const inp = input(late, late);
    inp.observed = inp.observed.map((o, i) => ({ step: o.step, loss: o.loss * Math.exp(0.03 * z[i]) }));
    const K2 = predictionDiagnostics(inp).kess.K2 as number;
    expect(Math.abs(K2 - K2true)).toBeLessThan(4);
  });
  it('Adam without a fit: no curve, timeScale NaN, not valid, the floor still reported', () => {
    const d = predictionDiagnostics(input(20, 20, { etaEff: undefined }));
    expect(d.valid).toBe(false);
    expect(d.timeScale).toBeNaN();
    expect(d.kess).toEqual({});
    expect(d.gain).toEqual({});
    expect(Math.abs((d.floor as number) / nullSpaceFloor(state0) - 1)).toBeLessThan(1e-9);
  });
  it('priorTimeScale from the previous anchor carries â (fitAnchorTimeScale on the previous window)', () => {
    // Adam-like: the trainer's lr is 1/300 of the true per-step η, so a = 300 must be fitted.
    const lr = eta / 300;
    const prev = fitAnchorTimeScale(input(5, 40, { etaEff: undefined, lr }));
    expect(prev.fitted).toBe(true);
    // Continuous form on discrete data (2c_Lηλ_1 = 0.25): â within 15% and a good R².
    expect(Math.abs(prev.a / 300 - 1)).toBeLessThan(0.15);
    expect(prev.r2).toBeGreaterThan(0.9);
    const d = predictionDiagnostics(input(40, 40, { etaEff: undefined, lr, priorTimeScale: { a: prev.a, r2: prev.r2 } }));
    expect(d.timeScale).toBe(prev.a);
    expect(d.valid).toBe(true);
    expect(d.kess.K2).toBeDefined();
  });
});

describe('predictionDiagnostics guards', () => {
  it('spike-flagged observations do not move the fit', () => {
    const inp = input(3, 300);
    inp.observed = inp.observed.map((o, i) => (i % 17 === 5 ? { ...o, loss: o.loss * 50, spike: true } : o));
    const d = predictionDiagnostics(inp);
    expect(Math.abs(d.timeScale - 1)).toBeLessThan(1e-8);
    expect(d.valid).toBe(true);
  });
  it('a run the model cannot describe gets valid = false (R²_time < 0.8)', () => {
    const inp = input(3, 3);
    inp.observed = Array.from({ length: 60 }, (_, s) => ({ step: s, loss: losses[0] * (1 + 0.5 * Math.sin(s / 5)) }));
    const d = predictionDiagnostics(inp);
    expect(d.timeR2).toBeLessThan(0.8);
    expect(d.valid).toBe(false);
  });
  it('discrete GD past the stability edge (2c_Lηλ_1 > 2) is never valid', () => {
    const d = predictionDiagnostics(input(3, 3, { etaEff: 2.2 / (2 * cL * lambda[0]) }));
    expect(d.valid).toBe(false);
    // A rising predicted loss has no sweet spot, horizon or gain: none is reported (K2 would fire at once).
    expect(d.kess).toEqual({});
    expect(d.gain).toEqual({});
    expect(d.lossAtHorizon).toBeUndefined();
  });
  it('refuses MSE without c_L and CE without a kernel, with the reason', () => {
    expect(() => predictionDiagnostics(input(3, 3, { cL: 0 }))).toThrow(/c_L > 0 .* got 0/);
    expect(() => predictionDiagnostics(input(3, 3, { loss: 'cross_entropy' }))).toThrow(/cross-entropy needs `ce`/);
    expect(() => predictionDiagnostics(input(3, 3, { firstStep: 5 }))).toThrow(/firstStep = 5, anchorStep = 3/);
  });
});

describe('predictionDiagnostics for cross-entropy (RK4 path)', () => {
  const n = 5;
  const C = 3;
  const M = n * C;
  const r2 = mulberry32(99);
  const J = normalArray(r2, M * 8);
  const Kc = new Float64Array(M * M);
  for (let i = 0; i < M; i++) for (let j = 0; j < M; j++) for (let p = 0; p < 8; p++) Kc[i * M + j] += J[i * 8 + p] * J[j * 8 + p];
  const logits = normalArray(r2, M);
  const targets = new Float64Array(M);
  for (let i = 0; i < n; i++) targets[i * C + ((i * 2) % C)] = 1;
  const { values } = eighSymmetric(Kc, M);
  const etaCe = 0.2;
  const ce = { kernel: Kc, logits, targets, samples: n, outputs: C };
  // Observations: the exact CE gradient flow from the anchor at step 10 (fine RK4), every 2 steps to 80.
  const obsSteps = Array.from({ length: 36 }, (_, i) => 2 * i);
  const truth = solveCeTrajectory(ce, etaCe, obsSteps, { maxStep: 0.01 });
  const ceInput: PredictionInput = {
    anchorStep: 10,
    lambda: values,
    coeff2: new Float64Array(M),
    restEnergy: 0,
    tol: 0,
    loss: 'cross_entropy',
    etaEff: etaCe,
    lr: etaCe,
    observed: [{ step: 0, loss: 2.5 }, ...obsSteps.map((s, i) => ({ step: 10 + s, loss: truth.loss[i] }))],
    firstStep: 0,
    kess: { rho: 0.1, eps: 0.05, horizonFraction: 0.2 },
    ce,
  };

  it('fits â ≈ 1 on its own gradient flow (1e-3: A9 step rule + Hermite table) and K2 matches the RK4 curve', () => {
    const d = predictionDiagnostics(ceInput);
    expect(Math.abs(d.timeScale - 1)).toBeLessThan(1e-3);
    expect(d.valid).toBe(true);
    expect(d.floor).toBeUndefined();
    // s_t = 80, H = 16: the loss at 96 from a fine RK4 run (rel 1e-4).
    const at96 = solveCeTrajectory(ce, etaCe, [86], { maxStep: 0.01 }).loss[0];
    expect(Math.abs((d.lossAtHorizon as number) / at96 - 1)).toBeLessThan(1e-4);
    // K2 on the stitched curve: L(s0) = 2.5 from the first observation, the CE flow after the anchor.
    const grid = Float64Array.from({ length: 801 }, (_, i) => i * 0.5);
    const fine = solveCeTrajectory(ce, etaCe, grid, { maxStep: 0.01 });
    const flow: LossCurve = {
      loss: (s) => fine.loss[Math.round((s - 10) * 2)],
      gain: (s) => fine.gain[Math.round((s - 10) * 2)],
    };
    // Brute force on the half-step grid: first s ≥ 10 where g(s)·s ≤ 0.1·(2.5 − L(s)).
    let want = NaN;
    for (let s = 10; s <= 400; s += 0.5) {
      if (flow.gain(s) * s <= 0.1 * (2.5 - flow.loss(s))) {
        want = s;
        break;
      }
    }
    expect(Number.isFinite(want)).toBe(true);
    expect(Math.abs((d.kess.K2 as number) - want)).toBeLessThan(0.5 + 1e-3 * want);
  });
});
