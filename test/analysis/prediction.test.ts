import { describe, expect, it } from 'vitest';
import {
  choosePredictionMode,
  compileMse,
  discreteDiverges,
  lossExponent,
  nullSpaceFloor,
  powerLambdaMax,
  predictCeLoss,
  predictedGainMse,
  predictedLossMse,
  solveCeTrajectory,
} from '../../src/analysis/prediction.js';
import type { ModalState } from '../../src/analysis/prediction.js';
import { mulberry32, normalArray } from '../../src/random.js';

/** docs/science.md C6 example A: K = diag(100, 10, 0.1), N = 3, c_L = 1/(2N), η = 0.015, f0 = 0, y = 1 ⇒ c_i² = 1. */
const exampleA: ModalState = { lambda: Float64Array.of(100, 10, 0.1), coeff2: Float64Array.of(1, 1, 1), cL: 1 / 6, tol: 1e-12 };
const ETA = 0.015;

describe('predictedLossMse / predictedGainMse (docs/science.md A9, C6)', () => {
  // C6 prints 10 significant digits: |error| ≤ 1e-9 covers the rounding of the table with a wide margin.
  const table: Array<[number, number, number]> = [
    [0, 0.5, 0.5],
    [1, 0.3786195598, 0.358583375],
    [2, 0.3253446725, 0.3125012916],
    [10, 0.2263291125, 0.2247557056],
    [50, 0.1596612286, 0.1595230099],
    [100, 0.150813803, 0.1508083071],
    [1000, 0.0613132402, 0.0612979087],
  ];
  it.each(table)('C6 at s = %d: L_cont and L_disc to 1e-9', (s, cont, disc) => {
    expect(Math.abs(predictedLossMse(exampleA, ETA, s, 'continuous') - cont)).toBeLessThan(1e-9);
    expect(Math.abs(predictedLossMse(exampleA, ETA, s, 'discrete') - disc)).toBeLessThan(1e-9);
  });
  it('C6 at s = 10000 (printed to 5 digits)', () => {
    expect(Math.abs(predictedLossMse(exampleA, ETA, 10000, 'continuous') - 7.5667e-6)).toBeLessThan(5e-11);
    expect(Math.abs(predictedLossMse(exampleA, ETA, 10000, 'discrete') - 7.5478e-6)).toBeLessThan(5e-11);
  });
  it('C6 g_cont at 0, 10, 100 (printed to 4 and 7 significant digits: half a unit of the last digit)', () => {
    expect(Math.abs(predictedGainMse(exampleA, ETA, 0, 'continuous') - 0.1835)).toBeLessThan(1e-12);
    expect(Math.abs(predictedGainMse(exampleA, ETA, 10, 'continuous') - 6.303899e-3)).toBeLessThan(5e-10);
    expect(Math.abs(predictedGainMse(exampleA, ETA, 100, 'continuous') - 1.515629e-4)).toBeLessThan(5e-11);
  });

  it('gain is −dL/dΔ in both modes (central differences, rel 1e-6: O(δ²) truncation with δ = 1e-4)', () => {
    const rng = mulberry32(7);
    const state: ModalState = {
      lambda: Float64Array.from({ length: 40 }, () => 50 * rng() ** 3),
      coeff2: Float64Array.from({ length: 40 }, () => rng()),
      cL: 0.01,
      tol: 1e-3,
      restEnergy: 0.3,
    };
    const d = 1e-4;
    for (const mode of ['continuous', 'discrete'] as const) {
      for (const s of [0.5, 3, 17.25, 120]) {
        const fd = -(predictedLossMse(state, 0.9, s + d, mode) - predictedLossMse(state, 0.9, s - d, mode)) / (2 * d);
        const g = predictedGainMse(state, 0.9, s, mode);
        expect(Math.abs(g - fd)).toBeLessThan(1e-6 * Math.abs(g));
      }
    }
  });

  it('continuous and discrete agree when 2c_Lηλ_1 ≪ 1 (first-order difference, rel 1e-3 at 2c_Lηλ_1 = 1e-4)', () => {
    const eta = 0.015 / 5000; // 2c_Lηλ_1 = 1e-4
    for (const s of [0, 1e3, 1e4, 1e5]) {
      const c = predictedLossMse(exampleA, eta, s, 'continuous');
      expect(Math.abs(predictedLossMse(exampleA, eta, s, 'discrete') - c)).toBeLessThan(1e-3 * c);
    }
  });

  it('frozen modes and restEnergy form the null-space floor, reached as Δ → ∞', () => {
    const state: ModalState = { lambda: Float64Array.of(4, 1, 1e-14, 0), coeff2: Float64Array.of(2, 3, 5, 7), cL: 0.5, tol: 1e-10, restEnergy: 11 };
    expect(nullSpaceFloor(state)).toBe(0.5 * (5 + 7 + 11));
    expect(predictedLossMse(state, 0.1, 0, 'continuous')).toBe(0.5 * (2 + 3 + 5 + 7 + 11));
    for (const mode of ['continuous', 'discrete'] as const) {
      expect(predictedLossMse(state, 0.1, 1e4, mode)).toBeCloseTo(nullSpaceFloor(state), 12);
      expect(predictedGainMse(state, 0.1, 1e4, mode)).toBeLessThan(1e-12);
    }
  });

  it('discrete mode: a mode removed in one step (2c_Lηλ = 1) counts at Δ = 0 only; |1−x|^{2Δ} above 1', () => {
    const state: ModalState = { lambda: Float64Array.of(10, 15), coeff2: Float64Array.of(1, 1), cL: 0.5, tol: 0 };
    // η = 0.1: x = 1 (gone after one step) and x = 1.5 (|1−x| = 0.5, oscillating but decaying).
    expect(predictedLossMse(state, 0.1, 0, 'discrete')).toBe(1);
    expect(predictedLossMse(state, 0.1, 1, 'discrete')).toBeCloseTo(0.5 * 0.25, 15);
    expect(Number.isFinite(predictedGainMse(state, 0.1, 0, 'discrete'))).toBe(true);
  });

  it('mode choice and divergence thresholds (A9)', () => {
    expect(choosePredictionMode(exampleA, ETA)).toBe('discrete'); // 2c_Lηλ_1 = 0.5
    expect(choosePredictionMode(exampleA, 0.0029)).toBe('continuous'); // 0.0967
    expect(choosePredictionMode(exampleA, 0.0031)).toBe('discrete'); // 0.1033
    expect(discreteDiverges(exampleA, 0.059)).toBe(false); // 1.97
    expect(discreteDiverges(exampleA, 0.061)).toBe(true); // 2.03
  });

  it('rejects bad input with the numbers', () => {
    expect(() => predictedLossMse({ ...exampleA, cL: 0 }, ETA, 1, 'continuous')).toThrow(/c_L .* got 0/);
    expect(() => predictedLossMse({ ...exampleA, coeff2: Float64Array.of(1) }, ETA, 1, 'continuous')).toThrow(/3 entries but coeff2 has 1/);
    expect(() => predictedLossMse(exampleA, ETA, -1, 'continuous')).toThrow(/Δ .* got -1/);
    expect(() => predictedLossMse(exampleA, -ETA, 1, 'continuous')).toThrow(/η_eff .* got -0.015/);
    expect(() => nullSpaceFloor({ ...exampleA, restEnergy: -0.5 })).toThrow(/restEnergy = -0.5/);
    expect(() => nullSpaceFloor({ ...exampleA, lambda: Float64Array.of(1, NaN, 2) })).toThrow(/lambda\[1\] = NaN/);
  });
});

describe('compileMse (the fast path the fits use)', () => {
  it('equals the reference forms (rel 1e-12) for single points and for lossMany on even and uneven spacings', () => {
    const rng = mulberry32(5);
    // Includes frozen modes, restEnergy and (discrete, η = 0.1) a mode with 2c_Lηλ = 1 exactly.
    const state: ModalState = {
      lambda: Float64Array.from([10, ...Array.from({ length: 60 }, () => 30 * rng() ** 2), 0, 1e-13]),
      coeff2: Float64Array.from({ length: 63 }, () => rng()),
      cL: 0.5,
      tol: 1e-12,
      restEnergy: 0.25,
    };
    const even = Float64Array.from({ length: 400 }, (_, j) => 0.7 * j);
    const uneven = Float64Array.from({ length: 200 }, (_, j) => j * j * 0.01);
    for (const mode of ['continuous', 'discrete'] as const) {
      const c = compileMse(state, 0.1, mode);
      expect(c.floor).toBeCloseTo(nullSpaceFloor(state), 15);
      for (const deltas of [even, uneven, Float64Array.of(5, 1, 3)]) {
        const out = new Float64Array(deltas.length);
        c.lossMany(deltas, out);
        for (let j = 0; j < deltas.length; j++) {
          const want = predictedLossMse(state, 0.1, deltas[j], mode);
          expect(Math.abs(out[j] - want)).toBeLessThan(1e-12 * want);
          expect(Math.abs(c.loss(deltas[j]) - want)).toBeLessThan(1e-12 * want);
          const g = predictedGainMse(state, 0.1, deltas[j], mode);
          expect(Math.abs(c.gain(deltas[j]) - g)).toBeLessThanOrEqual(1e-12 * Math.abs(g)); // discrete modes with q > 1 grow: g < 0
        }
      }
    }
  });
});

describe('lossExponent (docs/science.md A9 loss-exponent link)', () => {
  const N = 1000;
  const state: ModalState = {
    lambda: Float64Array.from({ length: N }, (_, i) => (i + 1) ** -1.5),
    coeff2: Float64Array.from({ length: N }, (_, i) => (i + 1) ** -2),
    cL: 0.5,
    tol: 0,
  };
  it('recovers a = 1.5, b = 2 exactly and predicts (b − 1)/a = 2/3 (exact power laws: 1e-9)', () => {
    const e = lossExponent(state);
    expect(Math.abs(e.lambdaExponent - 1.5)).toBeLessThan(1e-9);
    expect(Math.abs(e.energyExponent - 2)).toBeLessThan(1e-9);
    expect(Math.abs(e.exponent - 2 / 3)).toBeLessThan(1e-9);
  });
  it('the predicted curve has log-log slope ≈ −0.70 on s ∈ [10, 1000] (A9 [computed]; numpy −0.7005, N = 1000, rate 2λ)', () => {
    // c_L = 1/2, η = 1 ⇒ continuous rate 4c_Lηλ = 2λ. OLS of ln L on ln s over 50 log-spaced points.
    const xs: number[] = [];
    const ys: number[] = [];
    for (let j = 0; j < 50; j++) {
      const s = 10 * 100 ** (j / 49);
      xs.push(Math.log(s));
      ys.push(Math.log(predictedLossMse(state, 1, s, 'continuous')));
    }
    const mx = xs.reduce((a, b) => a + b) / 50;
    const my = ys.reduce((a, b) => a + b) / 50;
    let sxy = 0;
    let sxx = 0;
    for (let j = 0; j < 50; j++) {
      sxy += (xs[j] - mx) * (ys[j] - my);
      sxx += (xs[j] - mx) ** 2;
    }
    expect(Math.abs(sxy / sxx - -0.7005)).toBeLessThan(5e-4);
  });
});

describe('CE trajectory by RK4 (docs/science.md A9)', () => {
  /** n = 1, C = 2, K = k·I: d = z1 − z2 obeys d + e^d = d0 + e^{d0} + 2ηk s exactly; L = ln(1 + e^{−d}). */
  function exactBinary(d0: number, eta: number, k: number, s: number): number {
    const c = d0 + Math.exp(d0) + 2 * eta * k * s;
    // Newton from the right of the root (d + e^d is convex increasing): monotone convergence.
    let d = c > 1 ? Math.log(c) : c;
    for (let it = 0; it < 100; it++) d -= (d + Math.exp(d) - c) / (1 + Math.exp(d));
    return Math.log1p(Math.exp(-d));
  }

  it('matches the closed-form binary solution: rel 1e-4 with the A9 step rule, 1e-9 with h ≤ 0.01 (RK4 is O(h⁴))', () => {
    const k = 3;
    const eta = 0.5; // σ = ηλ_1/(2n) = 0.75, so the A9 rule takes h = min(1.33, 0.4): measured error ≤ 3e-5.
    const kernel = Float64Array.of(k, 0, 0, k);
    const logits = Float64Array.of(-1, 0.5);
    const targets = Float64Array.of(1, 0);
    const steps = [0, 0.5, 2, 10, 40, 7]; // unsorted on purpose: results come back in the requested order
    const got = predictCeLoss(kernel, logits, targets, 1, 2, eta, steps);
    const problem = { kernel, logits, targets, samples: 1, outputs: 2 };
    const fine = solveCeTrajectory(problem, eta, steps, { maxStep: 0.01 });
    for (let i = 0; i < steps.length; i++) {
      const want = exactBinary(-1.5, eta, k, steps[i]);
      expect(Math.abs(got[i] - want)).toBeLessThan(1e-4 * want);
      expect(Math.abs(fine.loss[i] - want)).toBeLessThan(1e-9 * want);
    }
  });

  it('agrees with a fine explicit-Euler reference on a random kernel, gain = −dL/ds, loss decreasing', () => {
    const n = 6;
    const C = 3;
    const N = n * C;
    const rng = mulberry32(11);
    const P = 10;
    const J = normalArray(rng, N * P);
    const K = new Float64Array(N * N);
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) for (let p = 0; p < P; p++) K[i * N + j] += J[i * P + p] * J[j * P + p];
    const f0 = normalArray(rng, N);
    const Y = new Float64Array(N);
    for (let i = 0; i < n; i++) Y[i * C + (i % C)] = 1;
    const eta = 0.05;
    const steps = [0, 1, 3, 10, 30];
    const traj = solveCeTrajectory({ kernel: K, logits: f0, targets: Y, samples: n, outputs: C }, eta, steps);
    for (let i = 1; i < steps.length; i++) expect(traj.loss[i]).toBeLessThan(traj.loss[i - 1]);

    // Euler with h = 1e-3: global error O(h) ≈ 1e-4 relative here, so compare at 1e-3.
    const f = Float64Array.from(f0);
    const g = new Float64Array(N);
    const h = 1e-3;
    let t = 0;
    const ceLoss = (): number => {
      let L = 0;
      for (let i = 0; i < n; i++) {
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, f[i * C + c]);
        let z = 0;
        for (let c = 0; c < C; c++) z += Math.exp(f[i * C + c] - m);
        for (let c = 0; c < C; c++) g[i * C + c] = Math.exp(f[i * C + c] - m) / z - Y[i * C + c];
        L += m + Math.log(z) - f[i * C + (i % C)];
      }
      return L / n;
    };
    for (let idx = 0; idx < steps.length; idx++) {
      while (t < steps[idx] - 1e-12) {
        ceLoss();
        for (let i = 0; i < N; i++) {
          let s = 0;
          for (let j = 0; j < N; j++) s += K[i * N + j] * g[j];
          f[i] -= (h * eta * s) / n;
        }
        t += h;
      }
      expect(Math.abs(ceLoss() - traj.loss[idx])).toBeLessThan(1e-3 * traj.loss[idx]);
    }

    // Gain: central difference of the RK4 solution itself (δ = 1e-3, O(δ²) ⇒ rel 1e-5).
    const d = 1e-3;
    const fd = solveCeTrajectory({ kernel: K, logits: f0, targets: Y, samples: n, outputs: C }, eta, [3 - d, 3 + d]);
    expect(Math.abs(traj.gain[2] - (fd.loss[0] - fd.loss[1]) / (2 * d))).toBeLessThan(1e-5 * traj.gain[2]);
  });

  it('power iteration finds λ_1 of a PSD matrix (rel 1e-6 with a gap of 2×)', () => {
    const K = Float64Array.of(4, 1, 0, 1, 2, 0, 0, 0, 1);
    const want = 3 + Math.sqrt(2);
    expect(Math.abs(powerLambdaMax(K, 3) - want)).toBeLessThan(1e-6 * want);
  });

  it('rejects shapes and budgets with the numbers', () => {
    const K = Float64Array.of(1, 0, 0, 1);
    expect(() => predictCeLoss(K, Float64Array.of(0), Float64Array.of(1, 0), 1, 2, 1, [1])).toThrow(/logits have 1 entries, expected N = 2/);
    expect(() => predictCeLoss(new Float64Array(3), Float64Array.of(0, 0), Float64Array.of(1, 0), 1, 2, 1, [1])).toThrow(/kernel has 3 entries/);
    expect(() => solveCeTrajectory({ kernel: K, logits: Float64Array.of(0, 0), targets: Float64Array.of(1, 0), samples: 1, outputs: 2 }, 1, [1e6], { maxSteps: 10 })).toThrow(
      /horizon 1000000 needs .* RK4 steps/,
    );
  });
});
