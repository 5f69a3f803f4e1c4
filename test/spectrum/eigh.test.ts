import { describe, expect, it } from 'vitest';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { mulberry32 } from '../../src/random.js';
import { frobenius, haarRows, pairErrors, prescribedGram, randomSymmetric, reluNtk } from './helpers.js';

const EPS = 2 ** -52;

/** Invariants of a computed decomposition. Backward stability of Householder + QL gives residuals and
 *  trace errors of order n·ε·‖A‖; 50·n·ε leaves room for the constant without hiding an O(1) bug. */
function expectDecomposition(a: Float64Array, n: number): void {
  const { values, vectors } = eighSymmetric(a, n, { vectors: true });
  const scale = Math.max(frobenius(a), Number.MIN_VALUE);
  const tolRel = 50 * Math.max(n, 1) * EPS;
  const { residual, orthogonality } = pairErrors(a, n, values, vectors!, n);
  expect(residual / scale).toBeLessThan(tolRel);
  expect(orthogonality).toBeLessThan(tolRel);
  let trace = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    trace += a[i * n + i];
    sum += values[i];
  }
  expect(Math.abs(trace - sum) / scale).toBeLessThan(tolRel);
  for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
}

describe('eighSymmetric invariants (seeded random symmetric matrices)', () => {
  for (const n of [1, 2, 3, 4, 7, 16, 65, 200]) {
    it(`K V = V Λ, VᵀV = I, Σλ = tr K for n = ${n}`, () => {
      expectDecomposition(randomSymmetric(mulberry32(1000 + n), n), n);
    });
  }

  it('eigenvalues-only path returns the same values as the vector path', () => {
    const n = 120;
    const a = randomSymmetric(mulberry32(7), n);
    const withVec = eighSymmetric(a, n, { vectors: true });
    const only = eighSymmetric(a, n);
    expect(only.vectors).toBeUndefined();
    // Same reduction; QL (values) vs divide and conquer (vectors): both backward stable, so O(n·ε)·‖A‖.
    for (let i = 0; i < n; i++) expect(Math.abs(only.values[i] - withVec.values[i])).toBeLessThan(1e-12 * Math.abs(withVec.values[0]));
  });

  it('does not modify its input and reads only the lower triangle', () => {
    const n = 30;
    const a = randomSymmetric(mulberry32(3), n);
    const copy = new Float64Array(a);
    const ref = eighSymmetric(a, n);
    expect(a).toEqual(copy);
    const garbageUpper = new Float64Array(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) garbageUpper[i * n + j] = 1e6;
    expect(eighSymmetric(garbageUpper, n).values).toEqual(ref.values);
  });
});

describe('eighSymmetric structured cases', () => {
  it('identity: all eigenvalues 1, vectors orthonormal', () => {
    const n = 50;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = 1;
    const { values, vectors } = eighSymmetric(a, n, { vectors: true });
    for (const v of values) expect(v).toBe(1);
    expect(pairErrors(a, n, values, vectors!, n).orthogonality).toBeLessThan(1e-14);
  });

  it('zero matrix gives zeros', () => {
    const n = 9;
    const { values, vectors } = eighSymmetric(new Float64Array(n * n), n, { vectors: true });
    expect(Array.from(values)).toEqual(new Array(n).fill(0));
    expect(pairErrors(new Float64Array(n * n), n, values, vectors!, n).orthogonality).toBeLessThan(1e-15);
  });

  it('diagonal input is sorted descending exactly', () => {
    const d = [3, -1, 7, 0, 2.5, 7, -4];
    const n = d.length;
    const a = new Float64Array(n * n);
    d.forEach((v, i) => (a[i * n + i] = v));
    expect(Array.from(eighSymmetric(a, n).values)).toEqual([...d].sort((x, y) => y - x));
  });

  it('rank-r projector: r ones and n − r zeros (to n·ε), highly degenerate', () => {
    const n = 80;
    const r = 13;
    const lam = new Float64Array(n);
    lam.fill(1, 0, r);
    const k = prescribedGram(haarRows(mulberry32(11), n), lam, n);
    const { values } = eighSymmetric(k, n);
    for (let i = 0; i < n; i++) expect(Math.abs(values[i] - lam[i])).toBeLessThan(100 * n * EPS);
    expectDecomposition(k, n);
  });

  it('extreme scales (1e±200) are handled by exact power-of-two scaling', () => {
    const n = 20;
    const base = randomSymmetric(mulberry32(5), n);
    const ref = eighSymmetric(base, n).values;
    for (const s of [1e200, 1e-200]) {
      const scaled = base.map((x) => x * s);
      const v = eighSymmetric(scaled, n).values;
      for (let i = 0; i < n; i++) expect(Math.abs(v[i] / s - ref[i])).toBeLessThan(1e-13 * Math.abs(ref[0]));
    }
  });

  it('tridiagonal and block-diagonal inputs (reflectors that are skipped) decompose correctly', () => {
    const n = 40;
    const t = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      t[i * n + i] = 2;
      if (i > 0) t[i * n + i - 1] = t[(i - 1) * n + i] = -1;
    }
    // Eigenvalues of the 1-D Laplacian: 2 − 2cos(πj/(n+1)).
    const { values } = eighSymmetric(t, n);
    const expected = Array.from({ length: n }, (_, j) => 2 - 2 * Math.cos((Math.PI * (j + 1)) / (n + 1))).sort((x, y) => y - x);
    for (let i = 0; i < n; i++) expect(Math.abs(values[i] - expected[i])).toBeLessThan(1e-13);
    expectDecomposition(t, n);
    const b = new Float64Array(n * n);
    const blk = randomSymmetric(mulberry32(2), 10);
    for (let o = 0; o < n; o += 10) for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) b[(o + i) * n + o + j] = blk[i * 10 + j];
    expectDecomposition(b, n);
  });
});

describe('eighSymmetric divide-and-conquer stress cases (deflation of every kind)', () => {
  it('Wilkinson W⁺ (n = 201): pairs of eigenvalues equal to many digits', () => {
    const n = 201;
    const m = (n - 1) / 2;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = Math.abs(i - m);
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = 1;
    }
    expectDecomposition(a, n);
  });

  it('clustered spectrum (n = 300): multiplicities 60/60/40 plus a decaying tail', () => {
    const n = 300;
    const lam = Float64Array.from({ length: n }, (_, i) => (i < 60 ? 1 : i < 120 ? 0.5 : i < 160 ? 1e-3 : (i + 1) ** -2));
    const k = prescribedGram(haarRows(mulberry32(31), n), lam, n);
    expectDecomposition(k, n);
    const { values } = eighSymmetric(k, n, { vectors: true });
    for (let i = 0; i < n; i++) expect(Math.abs(values[i] - [...lam].sort((x, y) => y - x)[i])).toBeLessThan(1e-13);
  });

  it('kernel with exact double degeneracy and numerically-zero half (circle NTK, n = 256)', () => {
    const n = 256;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = reluNtk(Math.cos((2 * Math.PI * (i - j)) / n));
    expectDecomposition(a, n);
  });

  it('steep power law λ_i = i⁻³ (n = 400): tiny rank-one components deflate', () => {
    const n = 400;
    const lam = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -3);
    expectDecomposition(prescribedGram(haarRows(mulberry32(32), n), lam, n), n);
  });
});

describe('eighSymmetric input errors', () => {
  it('rejects a size mismatch with the numbers', () => {
    expect(() => eighSymmetric(new Float64Array(10), 3)).toThrow(/10 entries, expected n\*n = 9/);
  });
  it('rejects non-finite entries with their position', () => {
    const a = new Float64Array(9);
    a[7] = NaN; // (2, 1): lower triangle
    expect(() => eighSymmetric(a, 3)).toThrow(/non-finite entry NaN at \(2, 1\)/);
  });
  it('handles n = 0', () => {
    expect(eighSymmetric(new Float64Array(0), 0).values.length).toBe(0);
  });
});
