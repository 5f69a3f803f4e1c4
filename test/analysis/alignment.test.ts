import { describe, expect, it } from 'vitest';
import {
  alignmentDiagnostics,
  oneHot,
  spectralAlignmentCurve,
  targetAlignment,
} from '../../src/analysis/alignment.js';
import { mulberry32, normalArray } from '../../src/random.js';
import type { Rng } from '../../src/random.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';

const n = 100;
const C = 10;
/** Balanced one-hot, docs/science.md C13: sample i has class i mod C. */
const y = oneHot(Array.from({ length: n }, (_, i) => i % C), C);

function identity(size: number): Float64Array {
  const k = new Float64Array(size * size);
  for (let i = 0; i < size; i++) k[i * size + i] = 1;
  return k;
}

/** YYᵀ, built here (the implementation never forms it). */
function targetKernel(t: Float64Array, size: number, cols: number): Float64Array {
  const k = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += t[i * cols + c] * t[j * cols + c];
    k[i * size + j] = s;
  }
  return k;
}

function randomPsd(rng: Rng, size: number, rank: number): Float64Array {
  const g = normalArray(rng, size * rank);
  const k = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
    let s = 0;
    for (let r = 0; r < rank; r++) s += g[i * rank + r] * g[j * rank + r];
    k[i * size + j] = s;
  }
  return k;
}

/** Brute-force A(K, T) = ⟨K,T⟩/(‖K‖‖T‖) with explicit centering matrices, as the reference. */
function bruteAlignment(k: Float64Array, t: Float64Array, size: number, centered: boolean): number {
  const center = (m: Float64Array): Float64Array => {
    if (!centered) return m;
    const h = identity(size).map((v) => v - 1 / size);
    const hm = new Float64Array(size * size);
    const out = new Float64Array(size * size);
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
      let s = 0;
      for (let l = 0; l < size; l++) s += h[i * size + l] * m[l * size + j];
      hm[i * size + j] = s;
    }
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
      let s = 0;
      for (let l = 0; l < size; l++) s += hm[i * size + l] * h[l * size + j];
      out[i * size + j] = s;
    }
    return out;
  };
  const a = center(k);
  const b = center(t);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('kernel–target alignment, docs/science.md C13 (n = 100, C = 10, balanced one-hot)', () => {
  it('A(I, YYᵀ) = √(C/n) and A_c(I, YYᵀ) = √((C−1)/(n−1))', () => {
    // closed forms; float64 sums of ~10⁴ terms → 1e-13
    expect(Math.abs(targetAlignment(identity(n), n, y, C) - Math.sqrt(C / n))).toBeLessThan(1e-13);
    expect(Math.abs(targetAlignment(identity(n), n, y, C, { centered: true }) - Math.sqrt((C - 1) / (n - 1)))).toBeLessThan(1e-13);
    expect(targetAlignment(identity(n), n, y, C)).toBeCloseTo(0.3162278, 7);
    expect(targetAlignment(identity(n), n, y, C, { centered: true })).toBeCloseTo(0.3015113, 7);
  });

  it('A_c(YYᵀ, YYᵀ) = 1 and A_c(YYᵀ + 5·11ᵀ, YYᵀ) = 1 while the uncentered value is 0.3713907', () => {
    // tr(YᵀKY) and ‖K‖‖YᵀY‖ are summed in different orders over 10⁴–10⁶ terms: agree to ~1e-13
    const t = targetKernel(y, n, C);
    expect(targetAlignment(t, n, y, C, { centered: true })).toBeCloseTo(1, 12);
    expect(targetAlignment(t, n, y, C)).toBeCloseTo(1, 12);
    const shifted = t.map((v) => v + 5);
    expect(targetAlignment(shifted, n, y, C, { centered: true })).toBeCloseTo(1, 12);
    expect(targetAlignment(shifted, n, y, C)).toBeCloseTo(0.3713907, 7);
  });

  it('matches the brute-force definition with explicit H on random PSD kernels and real-valued targets', () => {
    const rng = mulberry32(3);
    for (let t = 0; t < 5; t++) {
      const size = 12 + t;
      const cols = 1 + t;
      const k = randomPsd(rng, size, 3 + t);
      const yy = normalArray(rng, size * cols);
      const tk = targetKernel(yy, size, cols);
      for (const centered of [false, true]) {
        // same quantity, different summation order: 1e-12
        expect(Math.abs(targetAlignment(k, size, yy, cols, { centered }) - bruteAlignment(k, tk, size, centered))).toBeLessThan(1e-12);
      }
    }
  });

  it('is invariant to scaling K and Y', () => {
    const k = randomPsd(mulberry32(4), n, 20);
    for (const centered of [false, true]) {
      const a = targetAlignment(k, n, y, C, { centered });
      expect(a).toBeGreaterThan(0);
      expect(Math.abs(targetAlignment(k.map((v) => 1e4 * v), n, y.map((v) => 0.3 * v), C, { centered }) - a)).toBeLessThan(1e-14);
    }
  });

  it('is NaN when centered targets vanish (one class), and rejects bad shapes and labels', () => {
    const same = oneHot(new Array<number>(5).fill(2), 3);
    expect(targetAlignment(identity(5), 5, same, 3, { centered: true })).toBeNaN();
    expect(() => targetAlignment(identity(5), 5, same, 2)).toThrow(/targets hold 15/);
    expect(() => oneHot([0, 3], 3)).toThrow(/label 1 is 3/);
  });
});

describe('spectral alignment curve (docs/science.md A7)', () => {
  const k = randomPsd(mulberry32(5), n, 30);
  const eig = eighSymmetric(k, n, { vectors: true });
  const all = Array.from({ length: n }, (_, i) => i + 1);

  it('a_k is nondecreasing, in [0, 1], and a_N = 1 for a full basis', () => {
    const curve = spectralAlignmentCurve(eig.vectors!, n, n, y, C, all);
    expect(curve.map((p) => p.k)).toEqual(all);
    for (let i = 1; i < n; i++) expect(curve[i].value).toBeGreaterThanOrEqual(curve[i - 1].value - 1e-15);
    expect(curve[0].value).toBeGreaterThanOrEqual(0);
    expect(curve[n - 1].value).toBeCloseTo(1, 13);
  });

  it('for K = YYᵀ + 5·11ᵀ the top eigenvectors carry the class structure: a_C = 1', () => {
    const t = targetKernel(y, n, C).map((v) => v + 5);
    const e = eighSymmetric(t, n, { vectors: true });
    const [aC] = spectralAlignmentCurve(e.vectors!, n, n, y, C, [C]);
    // span of the top C eigenvectors = span of the class indicators (exact up to eigensolver rounding)
    expect(aC.value).toBeCloseTo(1, 12);
  });

  it('keeps only k ≤ pairs, deduplicated and sorted; diagnostics compute missing vectors', () => {
    const top = new Float64Array(n * 5);
    for (let t = 0; t < n; t++) for (let j = 0; j < 5; j++) top[t * 5 + j] = eig.vectors![t * n + j];
    const partial = spectralAlignmentCurve(top, 5, n, y, C, [10, 1, 5, 1]);
    const full = spectralAlignmentCurve(eig.vectors!, n, n, y, C, [1, 5]);
    expect(partial.map((p) => p.k)).toEqual([1, 5]);
    expect(partial[1].value).toBeCloseTo(full[1].value, 14);

    const diag = alignmentDiagnostics({ kernel: k, size: n, targets: y, cols: C });
    expect(diag.curve.map((p) => p.k)).toEqual([1, 10, 100]);
    expect(diag.uncentered).toBeCloseTo(targetAlignment(k, n, y, C), 15);
    expect(diag.centered).toBeCloseTo(targetAlignment(k, n, y, C, { centered: true }), 15);
    const given = alignmentDiagnostics({ kernel: k, size: n, targets: y, cols: C, vectors: eig.vectors, pairs: n });
    for (let i = 0; i < 3; i++) expect(Math.abs(given.curve[i].value - diag.curve[i].value)).toBeLessThan(1e-12);
  });

  it('computes the top pairs by Lanczos beyond the exact limit and agrees with the exact curve', () => {
    const size = 600;
    // unequal classes (60/120/180/240), so the class eigenvalues 50·|class| are distinct
    const yy = oneHot(Array.from({ length: size }, (_, i) => (i < 60 ? 0 : i < 180 ? 1 : i < 360 ? 2 : 3)), 4);
    const tk = targetKernel(yy, size, 4);
    const kk = randomPsd(mulberry32(6), size, 120).map((v, i) => v + 50 * tk[i]);
    const lanczos = alignmentDiagnostics({ kernel: kk, size, targets: yy, cols: 4 });
    const exact = alignmentDiagnostics({
      kernel: kk,
      size,
      targets: yy,
      cols: 4,
      vectors: eighSymmetric(kk, size, { vectors: true }).vectors,
      pairs: size,
    });
    expect(lanczos.curve.map((p) => p.k)).toEqual([1, 4, 10, 100]);
    // converged Ritz vectors (residual tol 1e-10) on well-separated clusters: observed agreement ~2e-15
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(lanczos.curve[i].value - exact.curve[i].value)).toBeLessThan(1e-8);
    }
  });
});
