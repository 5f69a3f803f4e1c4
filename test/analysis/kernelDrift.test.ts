import { describe, expect, it } from 'vitest';
import {
  driftDiagnostics,
  kernelDistance,
  relativeChange,
  sketchNoiseFloor,
  subspaceOverlap,
  traceOf,
} from '../../src/analysis/kernelDrift.js';
import type { KernelState } from '../../src/analysis/kernelDrift.js';
import { mulberry32, normalArray } from '../../src/random.js';
import type { Rng } from '../../src/random.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { participationRatio } from '../../src/spectrum/effectiveRank.js';
import { orthonormalColumns } from '../support/matrices.js';

/** K = J Jᵀ for J rows×cols row-major. */
function gram(j: Float64Array, rows: number, cols: number): Float64Array {
  const k = new Float64Array(rows * rows);
  for (let a = 0; a < rows; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let p = 0; p < cols; p++) s += j[a * cols + p] * j[b * cols + p];
      k[a * rows + b] = s;
      k[b * rows + a] = s;
    }
  }
  return k;
}

/** Random PSD n×n of rank r: G Gᵀ with G n×r Gaussian. */
function randomPsd(rng: Rng, n: number, r: number): Float64Array {
  return gram(normalArray(rng, n * r), n, r);
}

function identity(n: number): Float64Array {
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) k[i * n + i] = 1;
  return k;
}

function state(step: number, kernel: Float64Array, size: number, extra: Partial<KernelState> = {}): KernelState {
  const eig = eighSymmetric(kernel, size, { vectors: true });
  return {
    step,
    kernel,
    size,
    vectors: eig.vectors,
    pairs: size,
    trace: traceOf(kernel, size),
    participation: participationRatio(eig.values.map((v) => Math.max(v, 0))),
    source: 'jacobian',
    ...extra,
  };
}

describe('kernel distance (docs/science.md A6, C14)', () => {
  it('S(K, cK) = 0, S(K, K) = 0 exactly, and S(I_n, e₁e₁ᵀ) = 1 − 1/√n', () => {
    const rng = mulberry32(11);
    const k = randomPsd(rng, 20, 5);
    expect(kernelDistance(k, k)).toBe(0);
    for (const c of [1e-6, 0.3, 7, 1e8]) {
      // rounding of ⟨K,cK⟩ against ‖K‖‖cK‖: a few ulps of 1
      expect(Math.abs(kernelDistance(k, k.map((v) => c * v)))).toBeLessThan(1e-15);
    }
    for (const n of [1, 4, 100]) {
      const e = new Float64Array(n * n);
      e[0] = 1;
      expect(kernelDistance(identity(n), e)).toBeCloseTo(1 - 1 / Math.sqrt(n), 15);
    }
  });

  it('is symmetric and lies in [0, 1] for 60 seeded random PSD pairs (property test)', () => {
    const rng = mulberry32(12);
    for (let t = 0; t < 60; t++) {
      const n = 2 + Math.floor(rng() * 20);
      const a = randomPsd(rng, n, 1 + Math.floor(rng() * n));
      const b = randomPsd(rng, n, 1 + Math.floor(rng() * n));
      const s = kernelDistance(a, b);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      expect(Math.abs(s - kernelDistance(b, a))).toBeLessThan(1e-15);
    }
  });

  it('is invariant to a consistent permutation of samples and to scaling', () => {
    const rng = mulberry32(13);
    const n = 15;
    const a = randomPsd(rng, n, 6);
    const b = randomPsd(rng, n, 9);
    const perm = Array.from({ length: n }, (_, i) => i).sort(() => rng() - 0.5);
    const permute = (k: Float64Array): Float64Array => {
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = k[perm[i] * n + perm[j]];
      return out;
    };
    const s = kernelDistance(a, b);
    expect(s).toBeGreaterThan(0.01); // the pair is genuinely different, so the checks below can fail
    expect(Math.abs(kernelDistance(permute(a), permute(b)) - s)).toBeLessThan(1e-14);
    expect(Math.abs(kernelDistance(a.map((v) => 3 * v), b.map((v) => 0.01 * v)) - s)).toBeLessThan(1e-14);
  });

  it('is NaN for a zero kernel and rejects mismatched sizes', () => {
    expect(kernelDistance(new Float64Array(4), identity(2))).toBeNaN();
    expect(() => kernelDistance(identity(2), identity(3))).toThrow(/4 and 9/);
  });

  it('relative change and trace', () => {
    const k0 = identity(3);
    const k = k0.map((v) => 2 * v);
    expect(relativeChange(k, k0)).toBeCloseTo(1, 15);
    expect(relativeChange(k, new Float64Array(9))).toBeNaN();
    expect(traceOf(k, 3)).toBe(6);
  });
});

describe('subspace overlap (docs/science.md A6)', () => {
  it('is 1 for the same subspace (any rotation within it) and 0 for orthogonal subspaces', () => {
    const rng = mulberry32(21);
    const size = 30;
    const q = orthonormalColumns(size, 20, rng); // size×20
    const cols = (from: number, count: number): Float64Array => {
      const out = new Float64Array(size * count);
      for (let t = 0; t < size; t++) for (let j = 0; j < count; j++) out[t * count + j] = q[t * 20 + from + j];
      return out;
    };
    const a = cols(0, 10);
    // a rotation within span(a): mix columns 0 and 1
    const b = Float64Array.from(a);
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    for (let t = 0; t < size; t++) {
      b[t * 10] = c * a[t * 10] - s * a[t * 10 + 1];
      b[t * 10 + 1] = s * a[t * 10] + c * a[t * 10 + 1];
    }
    expect(subspaceOverlap(a, 10, b, 10, size)).toBeCloseTo(1, 13);
    expect(subspaceOverlap(a, 10, cols(10, 10), 10, size)).toBeLessThan(1e-28);
    // half shared: columns 5..14 against 0..9 → 5/10
    expect(subspaceOverlap(a, 10, cols(5, 10), 10, size)).toBeCloseTo(0.5, 13);
    // k clipped to the pairs available (3): identical 3-dim subspaces → 1
    expect(subspaceOverlap(cols(0, 3), 3, a, 10, size)).toBeCloseTo(1, 13);
  });
});

describe('drift diagnostics (docs/science.md A6, C5, E7)', () => {
  /** f_c(x) = act(w_cᵀx) for n inputs in R^d and C outputs; J[(i,c),(c',a)] = δ_cc' act'(w_cᵀx_i) x_ia. */
  function modelKernel(x: Float64Array, w: Float64Array, n: number, d: number, C: number, linear: boolean): Float64Array {
    const N = n * C;
    const P = C * d;
    const j = new Float64Array(N * P);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) {
      let pre = 0;
      for (let a = 0; a < d; a++) pre += w[c * d + a] * x[i * d + a];
      const slope = linear ? 1 : 1 - Math.tanh(pre) ** 2;
      for (let a = 0; a < d; a++) j[(i * C + c) * P + c * d + a] = slope * x[i * d + a];
    }
    return gram(j, N, P);
  }

  it('C5: a linear model has a constant kernel: distance exactly 0, velocity 0, overlap 1; a tanh model does not', () => {
    const rng = mulberry32(31);
    const n = 8;
    const d = 5;
    const C = 3;
    const N = n * C;
    const x = normalArray(rng, n * d);
    const w0 = normalArray(rng, C * d);
    const w1 = w0.map((v) => v + 0.5 * (rng() - 0.5)); // "after training": different parameters
    const k0 = modelKernel(x, w0, n, d, C, true);
    const k1 = modelKernel(x, w1, n, d, C, true);
    const init = state(0, k0, N);
    const cur = state(500, k1, N);
    const dd = driftDiagnostics(init, init, cur);
    expect(dd.comparable).toBe(true);
    expect(dd.distancePrev).toBe(0);
    expect(dd.distanceInit).toBe(0);
    expect(dd.velocityPerKstep).toBe(0);
    expect(dd.relativeChangeInit).toBe(0);
    expect(dd.traceRatio).toBe(1);
    expect(dd.subspaceOverlap).toBeCloseTo(1, 13);
    expect(dd.sketchFloor).toBeUndefined();

    const nl = driftDiagnostics(
      state(0, modelKernel(x, w0, n, d, C, false), N),
      undefined,
      state(500, modelKernel(x, w1, n, d, C, false), N),
    );
    expect(nl.distancePrev).toBeGreaterThan(1e-4);
    expect(nl.velocityPerKstep).toBeCloseTo((nl.distancePrev! / 500) * 1000, 15);
  });

  it('velocity is absent when Δs = 0; no references → comparable with no fields', () => {
    const k = randomPsd(mulberry32(32), 6, 6);
    const a = state(100, k, 6);
    const dd = driftDiagnostics(a, undefined, state(100, k, 6));
    expect(dd.distancePrev).toBe(0);
    expect(dd.velocityPerKstep).toBeUndefined();
    expect(driftDiagnostics(undefined, undefined, a)).toEqual({ comparable: true });
  });

  it('refuses to compare sketches with different seeds or dims, or a changed source or size (E7)', () => {
    const rng = mulberry32(33);
    const k = randomPsd(rng, 6, 6);
    const sk = (step: number, seed: number, dim: number): KernelState =>
      state(step, k, 6, { source: 'sketch', sketch: { dim, seed } });
    const same = driftDiagnostics(sk(0, 7, 256), sk(0, 7, 256), sk(10, 7, 256));
    expect(same.comparable).toBe(true);
    expect(same.sketchFloor).toBeCloseTo(sketchNoiseFloor(state(0, k, 6).participation, 256), 15);

    for (const other of [sk(0, 8, 256), sk(0, 7, 512), state(0, k, 6), state(0, k, 6, { source: 'sketch' })]) {
      const dd = driftDiagnostics(other, other, sk(10, 7, 256));
      expect(dd).toEqual({ comparable: false });
    }
    const k7 = randomPsd(rng, 7, 7);
    expect(driftDiagnostics(state(0, k7, 7), undefined, state(10, k, 6))).toEqual({ comparable: false });
    // prev comparable, init not (seed changed after init): velocity kept, init fields dropped
    const mixed = driftDiagnostics(sk(5, 7, 256), sk(0, 1, 256), sk(10, 7, 256));
    expect(mixed.comparable).toBe(true);
    expect(mixed.distancePrev).toBe(0);
    expect(mixed.distanceInit).toBeUndefined();
  });
});

describe('sketch noise floor (docs/science.md A0, A6, C12)', () => {
  // J = U diag(√λ) (P = N): any J with this spectrum gives the same sketch law, since VᵀΩ is again i.i.d.
  // Gaussian for orthonormal V. λ_i = 0.9^i gives PR ≈ 19 as in C12.
  const N = 64;
  const m = 1024;
  const lambda = Float64Array.from({ length: N }, (_, i) => 0.9 ** i);
  const pr = participationRatio(lambda);
  const u = orthonormalColumns(N, N, mulberry32(41));
  const j = new Float64Array(N * N);
  for (let a = 0; a < N; a++) for (let c = 0; c < N; c++) j[a * N + c] = u[a * N + c] * Math.sqrt(lambda[c]);
  const k = gram(j, N, N);

  /** K̂ = (JΩ)(JΩ)ᵀ, Ω ∈ R^{N×m} i.i.d. N(0, 1/m) drawn from `seed`. */
  function sketchKernel(seed: number): Float64Array {
    const omega = normalArray(mulberry32(seed), N * m);
    const scale = 1 / Math.sqrt(m);
    const z = new Float64Array(N * m);
    for (let a = 0; a < N; a++) {
      for (let p = 0; p < N; p++) {
        const jap = j[a * N + p] * scale;
        if (jap === 0) continue;
        for (let t = 0; t < m; t++) z[a * m + t] += jap * omega[p * m + t];
      }
    }
    return gram(z, N, m);
  }

  it('a shared Ω gives distance exactly 0; independent Ω gives ≈ (PR+1)/m; E[ZZᵀ] ≈ K', () => {
    expect(pr).toBeGreaterThan(18.5);
    expect(pr).toBeLessThan(19.5);
    expect(kernelDistance(sketchKernel(5), sketchKernel(5))).toBe(0);

    const draws = 24;
    let sum = 0;
    const mean = new Float64Array(N * N);
    for (let t = 0; t < draws; t++) {
      const a = sketchKernel(1000 + 2 * t);
      const b = sketchKernel(1001 + 2 * t);
      sum += kernelDistance(a, b);
      for (let e = 0; e < mean.length; e++) mean[e] += (a[e] + b[e]) / (2 * draws);
    }
    const floor = sketchNoiseFloor(pr, m);
    // C12 measured 0.0190 against 0.0195 at m = 1024; one draw's S has a relative spread of roughly
    // √(2/m)·(…) ≈ 15–25 %, so a mean over 24 draws sits within ~5 % — 15 % is a safe bound.
    expect(Math.abs(sum / draws - floor) / floor).toBeLessThan(0.15);
    // ‖mean − K‖_F/‖K‖_F ≈ √((PR+1)/(m·2·draws)) ≈ 0.02 (docs/science.md A0); 3× margin.
    expect(relativeChange(mean, k)).toBeLessThan(0.06);
  });
});
