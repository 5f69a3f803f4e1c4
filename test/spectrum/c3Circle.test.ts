/**
 * docs/science.md C3: exact spectrum of the two-layer ReLU NTK (½-free form) on n equally spaced points of the
 * circle. The Gram matrix is circulant, so its eigenvalues are known exactly.
 */
import { describe, expect, it } from 'vitest';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { fitDecay } from '../../src/spectrum/powerLaw.js';
import { summarizeSpectrum } from '../../src/spectrum/summarizeSpectrum.js';
import { reluNtk } from './helpers.js';

function circleGram(n: number): Float64Array {
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i * n + j] = reluNtk(Math.cos((2 * Math.PI * (i - j)) / n));
  return k;
}

describe('C3 circle, n = 64: λ_k/n against the table (1e-6)', () => {
  const n = 64;
  const { values } = eighSymmetric(circleGram(n), n);
  const op = Array.from(values, (v) => v / n);

  it('sorted spectrum is λ_0, then doubly degenerate λ_1, λ_2, λ_4, λ_6', () => {
    // Table values: λ_0/n = 0.6080900, λ_1/n = 0.5, λ_2/n = 0.1577739, λ_4/n = 0.01727618, λ_6/n = 0.006617237.
    // Tolerance 1e-6: the table prints 7 significant digits; the solver itself is good to ~1e-15 here.
    const expected = [0.60809, 0.5, 0.5, 0.1577739, 0.1577739, 0.01727618, 0.01727618, 0.006617237, 0.006617237];
    expected.forEach((v, i) => expect(Math.abs(op[i] - v)).toBeLessThan(1e-6));
  });

  it('odd k ≥ 3 are numerically zero: r_num = 34', () => {
    // Nonzero modes: k = 0, k = ±1, even k = ±2..±30 and the simple k = n/2 = 32 → 1 + 2 + 30 + 1 = 34;
    // the 30 odd |k| ≥ 3 vanish (they come out at ~1e-15, below tol = 64·2⁻⁵²·λ_1).
    const s = summarizeSpectrum(circleGram(n), n, { samples: n, outputs: 1 });
    expect(s.numericalRank).toBe(34);
    for (let i = 34; i < n; i++) expect(s.eigenvalues[i]).toBe(0);
  });
});

describe('C3 circle, n = 256: decay-window rows (±0.01 in s and R²)', () => {
  const n = 256;
  const s = summarizeSpectrum(circleGram(n), n, { samples: n, outputs: 1 });

  it('default A3 window is [2, ⌊r_num/2⌋ = 65] with r_num = 130; s = 2.789, R² = 0.967', () => {
    expect(s.numericalRank).toBe(130);
    expect(s.decay.lo).toBe(2);
    expect(s.decay.hi).toBe(65);
    expect(Math.abs(s.decay.exponent - 2.789)).toBeLessThan(0.01);
    expect(Math.abs(s.decay.r2 - 0.967)).toBeLessThan(0.01);
  });

  it('far window [16, 65]: s = 2.061, R² = 0.996', () => {
    const fit = fitDecay(s.eigenvalues, 16, 65);
    expect(Math.abs(fit.exponent - 2.061)).toBeLessThan(0.01);
    expect(Math.abs(fit.r2 - 0.996)).toBeLessThan(0.01);
  });

  it('λ_k/n approaches μ_k: λ_0/n within 1e-4 of 6/π², λ_2/n within 1e-4 of 14/(9π²)', () => {
    expect(Math.abs(s.operatorEigenvalues[0] - 6 / Math.PI ** 2)).toBeLessThan(1e-4);
    expect(Math.abs(s.operatorEigenvalues[3] - 14 / (9 * Math.PI ** 2))).toBeLessThan(1e-4);
  });
});

describe('C3 circle, n = 1024: table values and decay-window rows', () => {
  const n = 1024;
  const s = summarizeSpectrum(circleGram(n), n, { samples: n, outputs: 1 });

  it('λ_k/n: 0.6079277, 0.1576114, 0.01711266, 0.006452107 (1e-6)', () => {
    const op = s.operatorEigenvalues;
    expect(Math.abs(op[0] - 0.6079277)).toBeLessThan(1e-6);
    expect(Math.abs(op[3] - 0.1576114)).toBeLessThan(1e-6);
    expect(Math.abs(op[5] - 0.01711266)).toBeLessThan(1e-6);
    expect(Math.abs(op[7] - 0.006452107)).toBeLessThan(1e-6);
  });

  it('r_num = 514; default window [2, 257]: s = 2.515, R² = 0.975; far window [16, 257]: s = 2.069, R² = 0.998', () => {
    expect(s.numericalRank).toBe(514);
    expect([s.decay.lo, s.decay.hi]).toEqual([2, 257]);
    expect(Math.abs(s.decay.exponent - 2.515)).toBeLessThan(0.01);
    expect(Math.abs(s.decay.r2 - 0.975)).toBeLessThan(0.01);
    const far = fitDecay(s.eigenvalues, 16, 257);
    expect(Math.abs(far.exponent - 2.069)).toBeLessThan(0.01);
    expect(Math.abs(far.r2 - 0.998)).toBeLessThan(0.01);
  });
});
