import { describe, expect, it } from 'vitest';
import { cumulativeEta, etaEff, fitTimeScale } from '../../src/analysis/timeMap.js';
import { predictedLossMse } from '../../src/analysis/prediction.js';
import type { ModalState } from '../../src/analysis/prediction.js';
import { mulberry32, normal } from '../../src/random.js';

/** docs/science.md C6/C8 example A; predict(τ) is the continuous curve in model time τ = a·η·s. */
const exampleA: ModalState = { lambda: Float64Array.of(100, 10, 0.1), coeff2: Float64Array.of(1, 1, 1), cL: 1 / 6, tol: 0 };
const ETA = 0.015;
const predict = (tau: number): number => predictedLossMse(exampleA, 1, tau, 'continuous');

function observe(aTrue: number, noise: number, seed: number): Array<{ step: number; loss: number }> {
  const z = normal(mulberry32(seed));
  const out: Array<{ step: number; loss: number }> = [];
  for (let s = 0; s <= 195; s += 5) out.push({ step: s, loss: predict(aTrue * ETA * s) * Math.exp(noise * z()) });
  return out;
}

describe('etaEff (docs/science.md A11)', () => {
  it('η for SGD, η/(1−β) for momentum, undefined for Adam', () => {
    expect(etaEff({ kind: 'sgd', lr: 0.1, momentum: 0 })).toBe(0.1);
    expect(etaEff({ kind: 'momentum', lr: 0.1, momentum: 0.9 })).toBeCloseTo(1, 14);
    expect(etaEff({ kind: 'adam', lr: 1e-3, momentum: 0 })).toBeUndefined();
  });
  it('rejects a bad learning rate or momentum with the numbers', () => {
    expect(() => etaEff({ kind: 'sgd', lr: 0, momentum: 0 })).toThrow(/got 0/);
    expect(() => etaEff({ kind: 'momentum', lr: 0.1, momentum: 1 })).toThrow(/β .* got 1/);
  });
});

describe('cumulativeEta', () => {
  it('constant η: η·(s − s_a); a schedule: Σ_{s_a ≤ s′ < s} η(s′) in any point order', () => {
    expect(Array.from(cumulativeEta([10, 12.5], 10, 0.2))).toEqual([0, 0.5]);
    const warm = (s: number): number => (s < 3 ? 0.1 * (s + 1) : 0.3);
    // from 1: η(1) + η(2) = 0.2 + 0.3; to 5 adds η(3) + η(4) = 0.6.
    const e = cumulativeEta([5, 3, 1], 1, warm);
    expect(e[2]).toBe(0);
    expect(e[1]).toBeCloseTo(0.5, 15);
    expect(e[0]).toBeCloseTo(1.1, 15);
    expect(() => cumulativeEta([0], 1, 0.1)).toThrow(/step 0 is before the anchor 1/);
    expect(() => cumulativeEta([2.5], 1, warm)).toThrow(/integer steps, got 2.5/);
  });
});

describe('fitTimeScale (docs/science.md A11, C8)', () => {
  it('C8: a = 0.6 with 2% log-noise, s = 0, 5, …, 195 → â within 5% of 0.6 (five seeds)', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const fit = fitTimeScale(observe(0.6, 0.02, seed), predict, { anchorStep: 0, eta: ETA });
      expect(fit.fitted).toBe(true);
      expect(fit.points).toBe(40);
      expect(Math.abs(fit.a - 0.6)).toBeLessThan(0.03);
      expect(fit.r2).toBeGreaterThan(0.95); // 2% noise on ln L spanning ≈ 1.2 nats: R² ≈ 0.99
    }
  });
  it('noise-free data: â = a_true to 1e-8 and R² = 1 (golden section stops at 1e-10 in ln a)', () => {
    for (const aTrue of [0.0021, 0.6, 1, 37]) {
      const fit = fitTimeScale(observe(aTrue, 0, 1), predict, { anchorStep: 0, eta: ETA });
      expect(Math.abs(fit.a / aTrue - 1)).toBeLessThan(1e-8);
      expect(fit.r2).toBeCloseTo(1, 12);
    }
  });
  it('handles a learning-rate schedule: τ = a·Σ η(s′)', () => {
    const eta = (s: number): number => (s < 50 ? ETA : ETA / 4);
    const pts: Array<{ step: number; loss: number }> = [];
    const E = cumulativeEta([0, 10, 20, 40, 60, 80, 120, 200], 0, eta);
    [0, 10, 20, 40, 60, 80, 120, 200].forEach((s, i) => pts.push({ step: s, loss: predict(0.8 * E[i]) }));
    const fit = fitTimeScale(pts, predict, { anchorStep: 0, eta });
    expect(Math.abs(fit.a - 0.8)).toBeLessThan(1e-8);
  });
  it('spike-flagged points are excluded; unflagged spikes bias â', () => {
    const pts = observe(0.6, 0, 1);
    const exclude = pts.map((_, i) => i % 9 === 4);
    const spiked = pts.map((p, i) => (exclude[i] ? { step: p.step, loss: p.loss * 20 } : p));
    const clean = fitTimeScale(spiked, predict, { anchorStep: 0, eta: ETA, exclude });
    expect(Math.abs(clean.a - 0.6)).toBeLessThan(1e-8);
    expect(clean.points).toBe(40 - exclude.filter(Boolean).length);
    const biased = fitTimeScale(spiked, predict, { anchorStep: 0, eta: ETA });
    expect(Math.abs(biased.a - 0.6)).toBeGreaterThan(0.01);
    expect(biased.r2).toBeLessThan(clean.r2);
  });
  it('needs ≥ 5 points strictly after the anchor; earlier points are ignored', () => {
    const pts = observe(0.6, 0, 1).filter((p) => p.step <= 20); // 0, 5, …, 20: four after s_a = 0
    expect(fitTimeScale(pts, predict, { anchorStep: 0, eta: ETA })).toEqual({ a: 1, r2: NaN, fitted: false, points: 5, sse: NaN });
    // Anchored at 100: only the points from 100 on count, model time measured from 100.
    const late = observe(0.6, 0, 1).map((p) => ({ step: p.step + 100, loss: p.loss }));
    const withEarly = [{ step: 3, loss: 99 }, ...late];
    const fit = fitTimeScale(withEarly, predict, { anchorStep: 100, eta: ETA });
    expect(Math.abs(fit.a - 0.6)).toBeLessThan(1e-8);
  });
  it('a model that cannot describe the data gets R² < 0.8 (A11 validity gate)', () => {
    // Observed: a loss that first falls then rises again (a bad learning-rate phase); the kernel model only decays.
    const pts = Array.from({ length: 30 }, (_, i) => ({ step: 10 * (i + 1), loss: 0.3 + 0.2 * Math.cos((Math.PI * (i + 1)) / 15) }));
    const fit = fitTimeScale(pts, predict, { anchorStep: 0, eta: ETA });
    expect(fit.fitted).toBe(true);
    expect(fit.r2).toBeLessThan(0.8);
  });
  it('rejects a mask of the wrong length and a bad range', () => {
    expect(() => fitTimeScale(observe(1, 0, 1), predict, { anchorStep: 0, eta: ETA, exclude: [true] })).toThrow(/1 entries for 40 points/);
    expect(() => fitTimeScale(observe(1, 0, 1), predict, { anchorStep: 0, eta: ETA, range: [2, 1] })).toThrow(/bad range \[2, 1\]/);
  });
});
