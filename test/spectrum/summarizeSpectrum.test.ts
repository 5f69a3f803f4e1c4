import { describe, expect, it } from 'vitest';
import { summarizeSpectrum } from '../../src/spectrum/summarizeSpectrum.js';
import { SidecarError, Code } from '../../src/errors.js';
import { mulberry32 } from '../../src/random.js';
import { haarRows, pairErrors, prescribedGram } from './helpers.js';

const EPS = 2 ** -52;
const n = 300;
const q = haarRows(mulberry32(77), n);

describe('summarizeSpectrum, exact path', () => {
  const lam = Float64Array.from({ length: n }, (_, i) => 50 * (i + 1) ** -1.2);
  const k = prescribedGram(q, lam, n);
  const s = summarizeSpectrum(k, n, { samples: 100, outputs: 3, vectors: true });

  it('matrix invariants and normalisations (A1/A2)', () => {
    const tr = lam.reduce((a, b) => a + b, 0);
    const fro = Math.sqrt(lam.reduce((a, b) => a + b * b, 0));
    expect(s.solver).toBe('exact');
    expect(s.computedPairs).toBe(n);
    // Forming K rounds at the ε·‖K‖ level; 1e-12 relative leaves a wide margin.
    expect(Math.abs(s.trace - tr) / tr).toBeLessThan(1e-12);
    expect(Math.abs(s.frobenius - fro) / fro).toBeLessThan(1e-12);
    expect(s.tracePerOutput).toBeCloseTo(s.trace / n, 12);
    expect(Math.abs(s.lambdaMax - 50)).toBeLessThan(1e-12 * 50);
    expect(s.operatorEigenvalues[0]).toBeCloseTo(s.eigenvalues[0] / 100, 14);
  });

  it('tolerance = λ_1·N·2⁻⁵² for float64; κ₊ = λ_1/λ_N; κ_δ with δ = 1e-6·tr/N', () => {
    expect(s.tolerance).toBeCloseTo(s.lambdaMax * n * EPS, 25);
    expect(s.numericalRank).toBe(n);
    expect(s.rankDeficiency).toBe(0);
    expect(s.conditionPos).toBeCloseTo(n ** 1.2, 6);
    const delta = (1e-6 * s.trace) / n;
    expect(s.conditionReg).toBeCloseTo((s.eigenvalues[0] + delta) / (s.eigenvalues[n - 1] + delta), 9);
  });

  it('decay window starts at C + 1 and recovers s = 1.2; ESD and ranks are finite', () => {
    expect(s.decay.lo).toBe(4);
    expect(s.decay.hi).toBe(n / 2);
    expect(Math.abs(s.decay.exponent - 1.2)).toBeLessThan(1e-10);
    expect(s.decay.r2).toBeGreaterThan(1 - 1e-12);
    expect(s.decay.points).toBeGreaterThanOrEqual(10);
    // ESD of i^(−1.2): α ≈ 1 + 1/1.2 ≈ 1.83 (finite-size bias allowed: 0.15).
    expect(Math.abs(s.esd.alpha - (1 + 1 / 1.2))).toBeLessThan(0.15);
    expect(s.esd.ks).toBeGreaterThan(0);
    expect(s.effectiveRank.stable).toBeLessThanOrEqual(s.effectiveRank.participation);
    expect(s.effectiveRank.participation).toBeLessThanOrEqual(s.effectiveRank.entropy);
  });

  it('vectors are n×n, orthonormal, and the residual guard is at rounding level', () => {
    expect(s.vectors!.length).toBe(n * n);
    const check = pairErrors(k, n, s.eigenvalues, s.vectors!, n);
    expect(check.residual).toBeLessThan(1e-12 * s.lambdaMax);
    expect(check.orthogonality).toBeLessThan(1e-12);
    expect(s.maxResidual).toBeGreaterThan(0);
    expect(s.maxResidual).toBeLessThan(1e-13);
  });

  it('no vectors requested: none returned, maxResidual 0 (not computed)', () => {
    const t = summarizeSpectrum(k, n, { samples: 100, outputs: 1 });
    expect(t.vectors).toBeUndefined();
    expect(t.maxResidual).toBe(0);
    // Values-only uses QL, the vector path divide and conquer: both backward stable, so they agree to
    // O(n·ε)·λ_1.
    for (let i = 0; i < n; i++) expect(Math.abs(t.eigenvalues[i] - s.eigenvalues[i])).toBeLessThan(1e-12 * s.lambdaMax);
  });
});

describe('summarizeSpectrum, source precision and clipping (A0)', () => {
  it('ε_src = 1e-6 (float32 Gram) clips values below 1e-6·λ_1 that float64 keeps', () => {
    // 20 values from 1 down to 1e-3, then 30 at 1e-8 (above the float64 tol, below the float32 one).
    const lam = new Float64Array(n);
    for (let i = 0; i < 20; i++) lam[i] = 10 ** ((-3 * i) / 19);
    lam.fill(1e-8, 20, 50);
    const k = prescribedGram(q, lam, n);
    const f64 = summarizeSpectrum(k, n, { samples: n, outputs: 1 });
    const f32 = summarizeSpectrum(k, n, { samples: n, outputs: 1, epsSrc: 1e-6 });
    expect(f64.numericalRank).toBe(50);
    expect(f32.numericalRank).toBe(20);
    expect(f32.tolerance).toBeCloseTo(1e-6, 15);
    expect(f32.rankDeficiency).toBe(n - 20);
    for (let i = 20; i < n; i++) expect(f32.eigenvalues[i]).toBe(0);
    // κ₊ uses λ_{r_num}: 1/1e-3 for float32, 1/1e-8 for float64.
    expect(f32.conditionPos).toBeCloseTo(1e3, 6);
    // λ_50 = 1e-8 carries an absolute error ~ε·λ_1, i.e. ~1e-9 relative.
    expect(f64.conditionPos / 1e8).toBeCloseTo(1, 6);
  });

  it('an all-zero kernel gives zeros and NaN ranks instead of throwing', () => {
    const s = summarizeSpectrum(new Float64Array(16), 4, { samples: 4, outputs: 1 });
    expect(s.lambdaMax).toBe(0);
    expect(s.numericalRank).toBe(0);
    expect(s.rankDeficiency).toBe(4);
    expect(s.conditionPos).toBeNaN();
    expect(s.effectiveRank.entropy).toBeNaN();
    expect(s.decay.exponent).toBeNaN();
  });
});

describe('summarizeSpectrum, Lanczos path (size > exactMax)', () => {
  const lam = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -1);
  const k = prescribedGram(q, lam, n);
  const exact = summarizeSpectrum(k, n, { samples: n, outputs: 1 });
  const lz = summarizeSpectrum(k, n, { samples: n, outputs: 1, exactMax: 100, topK: 32, vectors: true, rng: mulberry32(4) });

  it('exact matrix quantities agree with the exact path', () => {
    expect(lz.solver).toBe('lanczos');
    expect(lz.computedPairs).toBe(32);
    expect(lz.trace).toBe(exact.trace);
    expect(lz.frobenius).toBe(exact.frobenius);
    expect(lz.effectiveRank.participation).toBe(exact.effectiveRank.participation);
    expect(lz.effectiveRank.stable).toBeCloseTo(exact.effectiveRank.stable, 10);
    expect(lz.lambdaMax).toBeCloseTo(exact.lambdaMax, 12);
  });

  it('top-k values match, residuals are reported small, vectors are n×k', () => {
    for (let j = 0; j < 32; j++) expect(Math.abs(lz.eigenvalues[j] - exact.eigenvalues[j])).toBeLessThan(1e-12);
    expect(lz.lanczos!.converged).toBe(true);
    expect(lz.maxResidual).toBeLessThan(1e-9);
    expect(lz.vectors!.length).toBe(n * 32);
    expect(pairErrors(k, n, lz.eigenvalues, lz.vectors!, 32).orthogonality).toBeLessThan(1e-12);
  });

  it('rank and conditioning are unknown (NaN) when every computed value is above tol; decay window capped at k', () => {
    expect(lz.numericalRank).toBeNaN();
    expect(lz.rankDeficiency).toBeNaN();
    expect(lz.conditionPos).toBeNaN();
    expect(lz.conditionReg).toBeNaN();
    expect([lz.decay.lo, lz.decay.hi]).toEqual([2, 32]);
    expect(Math.abs(lz.decay.exponent - 1)).toBeLessThan(1e-9);
  });

  it('rank is determined when it falls inside the computed pairs', () => {
    const low = new Float64Array(n);
    for (let i = 0; i < 12; i++) low[i] = 12 - i;
    const s = summarizeSpectrum(prescribedGram(q, low, n), n, { samples: n, outputs: 1, exactMax: 100, topK: 20 });
    expect(s.numericalRank).toBe(12);
    expect(s.rankDeficiency).toBe(n - 12);
    expect(s.conditionPos).toBeCloseTo(12, 9);
    const delta = (1e-6 * s.trace) / n;
    expect(s.conditionReg).toBeCloseTo((12 + delta) / delta, 3);
  });
});

describe('summarizeSpectrum, Lanczos on a C-output kernel K̄ ⊗ I_C (near C-fold clusters)', () => {
  it('C = 5: the top 20 values (4 clusters of 5) match the exact solver', () => {
    const nb = 60;
    const c = 5;
    const size = nb * c;
    const kbar = prescribedGram(haarRows(mulberry32(90), nb), Float64Array.from({ length: nb }, (_, i) => 1 / (i + 1)), nb);
    const noise = prescribedGram(haarRows(mulberry32(91), size), Float64Array.from({ length: size }, (_, i) => 1e-6 * Math.sin(i + 1)), size);
    // Sample-major rows (i*C + c): K[(i,c),(j,c')] = K̄[i][j]·δ_cc' + a 1e-6 symmetric perturbation.
    const k = new Float64Array(size * size);
    for (let i = 0; i < nb; i++) for (let j = 0; j < nb; j++) for (let o = 0; o < c; o++) k[(i * c + o) * size + j * c + o] = kbar[i * nb + j];
    for (let t = 0; t < k.length; t++) k[t] += noise[t];
    const exact = summarizeSpectrum(k, size, { samples: nb, outputs: c });
    const lz = summarizeSpectrum(k, size, { samples: nb, outputs: c, exactMax: 100, topK: 20 });
    expect(lz.lanczos!.converged).toBe(true);
    // Clusters are split by ~1e-6; the converged Ritz values are accurate to (residual)²/gap ≪ 1e-10.
    for (let j = 0; j < 20; j++) expect(Math.abs(lz.eigenvalues[j] - exact.eigenvalues[j])).toBeLessThan(1e-10);
    expect(lz.maxResidual).toBeLessThan(1e-9);
  });
});

describe('summarizeSpectrum input errors', () => {
  const expectInvalid = (f: () => unknown, msg: RegExp) => {
    try {
      f();
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(SidecarError);
      expect((e as SidecarError).code).toBe(Code.INVALID_ARGUMENT);
      expect((e as SidecarError).scope).toBe('snapshot');
      expect((e as Error).message).toMatch(msg);
    }
  };
  it('size mismatch, bad options and non-finite entries carry the numbers', () => {
    expectInvalid(() => summarizeSpectrum(new Float64Array(8), 3, { samples: 3, outputs: 1 }), /8 entries, expected size² = 9/);
    expectInvalid(() => summarizeSpectrum(new Float64Array(9), 3, { samples: 0, outputs: 1 }), /samples must be a positive integer, got 0/);
    expectInvalid(() => summarizeSpectrum(new Float64Array(9), 3, { samples: 3, outputs: 1, epsSrc: -1 }), /epsSrc must be in \[0, 1\), got -1/);
    const bad = new Float64Array(9);
    bad[5] = Infinity;
    expectInvalid(() => summarizeSpectrum(bad, 3, { samples: 3, outputs: 1 }), /entry \(1, 2\) is Infinity/);
  });
});
