import { describe, expect, it } from 'vitest';
import {
  kernelGdForm,
  learnedModes,
  linearizationGap,
  modalCoefficients,
  predictResidual,
  residualCe,
  residualDiagnostics,
  residualMse,
} from '../../src/analysis/residual.js';
import { oneHot } from '../../src/analysis/alignment.js';
import { mulberry32, normalArray } from '../../src/random.js';
import type { Rng } from '../../src/random.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';

/** K = J Jᵀ with J N×P Gaussian (rank min(N, P)). */
function randomKernel(rng: Rng, size: number, rank: number): Float64Array {
  const j = normalArray(rng, size * rank);
  const k = new Float64Array(size * size);
  for (let a = 0; a < size; a++) for (let b = 0; b <= a; b++) {
    let s = 0;
    for (let p = 0; p < rank; p++) s += j[a * rank + p] * j[b * rank + p];
    k[a * size + b] = s;
    k[b * size + a] = s;
  }
  return k;
}

/** f ← f − 2c_L η K (f − y), Δs times: exact full-batch GD of a model linear in θ (docs/science.md C5). */
function gdSteps(k: Float64Array, size: number, f: Float64Array, y: Float64Array, cL: number, eta: number, steps: number): Float64Array {
  const out = Float64Array.from(f);
  const r = new Float64Array(size);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < size; i++) r[i] = out[i] - y[i];
    for (let i = 0; i < size; i++) {
      let g = 0;
      for (let j = 0; j < size; j++) g += k[i * size + j] * r[j];
      out[i] -= 2 * cL * eta * g;
    }
  }
  return out;
}

function topColumns(vectors: Float64Array, size: number, pairs: number): Float64Array {
  const out = new Float64Array(size * pairs);
  for (let t = 0; t < size; t++) for (let j = 0; j < pairs; j++) out[t * pairs + j] = vectors[t * size + j];
  return out;
}

describe('residuals (docs/science.md A8)', () => {
  it('MSE residual is f − y; CE residual rows sum to 0 and are stable for huge logits', () => {
    expect(Array.from(residualMse(new Float64Array([3, 1]), new Float64Array([1, 1])))).toEqual([2, 0]);
    const rng = mulberry32(1);
    const n = 20;
    const C = 7;
    const z = normalArray(rng, n * C).map((v) => 300 * v); // exp(±900) would overflow without the max shift
    const y = oneHot(Array.from({ length: n }, () => Math.floor(rng() * C)), C);
    const r = residualCe(z, y, n, C);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) {
        const v = r[i * C + c];
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(-1);
        expect(v).toBeLessThanOrEqual(1);
        s += v;
      }
      expect(Math.abs(s)).toBeLessThan(1e-15 * C); // Σp = 1 up to C roundings
    }
    // uniform logits: p = 1/C
    const u = residualCe(new Float64Array(C), oneHot([2], C), 1, C);
    expect(u[2]).toBeCloseTo(1 / C - 1, 15);
    expect(u[0]).toBeCloseTo(1 / C, 15);
    expect(() => residualCe(z, y, n, C + 1)).toThrow(/expected n·C/);
  });
});

describe('residual projection (docs/science.md A8)', () => {
  const size = 40;
  const k = randomKernel(mulberry32(2), size, 25); // rank 25: 15 zero modes
  const eig = eighSymmetric(k, size, { vectors: true });
  const r = normalArray(mulberry32(3), size);

  it('E_k sums to 1 at k = N, the Rayleigh quotient lies in [λ_min, λ_max] and equals rᵀKr/‖r‖²', () => {
    const all = Array.from({ length: size }, (_, i) => i + 1);
    const d = residualDiagnostics({ lambda: eig.values, vectors: eig.vectors!, pairs: size, size, r, outputs: 4, ks: all });
    expect(d.topk[size - 1].fraction).toBeCloseTo(1, 13);
    for (let i = 1; i < size; i++) expect(d.topk[i].fraction).toBeGreaterThanOrEqual(d.topk[i - 1].fraction);
    expect(d.rayleigh).toBeGreaterThanOrEqual(eig.values[size - 1] - 1e-10);
    expect(d.rayleigh).toBeLessThanOrEqual(eig.values[0]);
    const withKernel = residualDiagnostics({ lambda: eig.values, vectors: eig.vectors!, pairs: size, size, r, outputs: 4, kernel: k });
    // Σ e_i λ_i vs direct rᵀKr: eigensolver rounding ~1e-14 relative
    expect(Math.abs(withKernel.rayleigh - d.rayleigh) / d.rayleigh).toBeLessThan(1e-12);
    let rr = 0;
    for (const v of r) rr += v * v;
    expect(d.residualNorm).toBeCloseTo(Math.sqrt(rr), 14);
  });

  it('default k points {1, 5, C, ⌈0.1N⌉} deduplicated and capped at the computed pairs', () => {
    const d = residualDiagnostics({ lambda: eig.values, vectors: eig.vectors!, pairs: size, size, r, outputs: 4 });
    expect(d.topk.map((p) => p.k)).toEqual([1, 4, 5]); // C = 4 = ⌈0.1·40⌉ counted once
    const d5 = residualDiagnostics({ lambda: eig.values, vectors: eig.vectors!, pairs: size, size, r, outputs: 5 });
    expect(d5.topk.map((p) => p.k)).toEqual([1, 4, 5]); // ⌈0.1·40⌉ = 4; C = 5 duplicates 5
    const top = topColumns(eig.vectors!, size, 4);
    const partial = residualDiagnostics({ lambda: eig.values.subarray(0, 4), vectors: top, pairs: 4, size, r, outputs: 4 });
    expect(partial.topk.map((p) => p.k)).toEqual([1, 4]);
    expect(partial.topk[1].fraction).toBeCloseTo(d.topk[1].fraction, 14);
    // partial pairs: κ_r needs the kernel
    expect(partial.rayleigh).toBeNaN();
    const pk = residualDiagnostics({ lambda: eig.values.subarray(0, 4), vectors: top, pairs: 4, size, r, outputs: 4, kernel: k });
    expect(pk.rayleigh).toBeCloseTo(d.rayleigh, 10);
  });

  it('modal coefficients reconstruct r in a full basis; a residual along u_3 is all in mode 3', () => {
    const c = modalCoefficients(eig.vectors!, size, size, r);
    for (let t = 0; t < size; t++) {
      let s = 0;
      for (let j = 0; j < size; j++) s += eig.vectors![t * size + j] * c[j];
      expect(s).toBeCloseTo(r[t], 12);
    }
    const u3 = Float64Array.from({ length: size }, (_, t) => eig.vectors![t * size + 2]);
    const d = residualDiagnostics({ lambda: eig.values, vectors: eig.vectors!, pairs: size, size, r: u3, outputs: 1, ks: [2, 3] });
    expect(d.topk[0].fraction).toBeLessThan(1e-26);
    expect(d.topk[1].fraction).toBeCloseTo(1, 13);
    expect(d.rayleigh).toBeCloseTo(eig.values[2], 9);
  });

  it('learned modes count 2c_Lηλ_i·Δs ≥ 1', () => {
    const lambda = [100, 10, 0.1];
    const cL = 1 / 6;
    expect(learnedModes(lambda, cL, 0.015, 1)).toBe(0); // 2c_Lηλ = 0.5, 0.05, 0.0005
    expect(learnedModes(lambda, cL, 0.015, 3)).toBe(1);
    expect(learnedModes(lambda, cL, 0.015, 30)).toBe(2);
    expect(learnedModes(lambda, cL, 0.015, 3000)).toBe(3);
    expect(() => learnedModes(lambda, 0, 0.015, 1)).toThrow(/c_L/);
  });
});

describe('linearization gap (docs/science.md A8, C5)', () => {
  const N = 30;
  const cL = 1 / (2 * N);
  const rng = mulberry32(4);
  const k = randomKernel(rng, N, 12); // rank 12
  const eig = eighSymmetric(k, N, { vectors: true });
  const y = normalArray(rng, N);
  const f0 = normalArray(rng, N);
  // η such that 2c_Lηλ_1 = 0.8: discrete form (> 0.1), stable (< 2)
  const eta = 0.8 / (2 * cL * eig.values[0]);

  it('C5: a linear model under full-batch GD on MSE has g_lin = 0 (discrete form) to 1e-10', () => {
    const steps = 25;
    const f1 = gdSteps(k, N, f0, y, cL, eta, steps);
    const rPrev = residualMse(f0, y);
    const rObs = residualMse(f1, y);
    const full = linearizationGap({ lambda: eig.values, vectors: eig.vectors!, pairs: N, size: N, rPrev, rObs, cL, etaEff: eta, steps });
    expect(full.form).toBe('discrete');
    expect(full.gap).toBeLessThan(1e-10);
    // top-12 pairs only: the 18 null modes do not move, so the gap is still 0
    const top = topColumns(eig.vectors!, N, 12);
    const part = linearizationGap({ lambda: eig.values.subarray(0, 12), vectors: top, pairs: 12, size: N, rPrev, rObs, cL, etaEff: eta, steps });
    expect(part.gap).toBeLessThan(1e-10);
    // the continuous form is a different model of the same steps: 8e-3 off here, far above the 1e-10
    const cont = linearizationGap({ lambda: eig.values, vectors: eig.vectors!, pairs: N, size: N, rPrev, rObs, cL, etaEff: eta, steps, form: 'continuous' });
    expect(cont.gap).toBeGreaterThan(1e-3);
  });

  it('small steps use the continuous form; a kernel that changes during the interval gives a gap > 0', () => {
    expect(kernelGdForm(eig.values[0], cL, 0.05 / (2 * cL * eig.values[0]))).toBe('continuous');
    expect(kernelGdForm(eig.values[0], cL, eta)).toBe('discrete');
    // train with 1.5·K (features moved) but predict with K
    const moved = k.map((v) => 1.5 * v);
    const f1 = gdSteps(moved, N, f0, y, cL, eta / 2, 10);
    const g = linearizationGap({
      lambda: eig.values,
      vectors: eig.vectors!,
      pairs: N,
      size: N,
      rPrev: residualMse(f0, y),
      rObs: residualMse(f1, y),
      cL,
      etaEff: eta / 2,
      steps: 10,
    });
    expect(g.gap).toBeGreaterThan(0.05);
  });

  it('prediction leaves the residual alone at Δs = 0 and rejects a fractional step gap', () => {
    const rPrev = residualMse(f0, y);
    const p = predictResidual({ lambda: eig.values, vectors: eig.vectors!, pairs: N, size: N, rPrev, cL, etaEff: eta, steps: 0 });
    for (let i = 0; i < N; i++) expect(p.predicted[i]).toBeCloseTo(rPrev[i], 13);
    expect(() => predictResidual({ lambda: eig.values, vectors: eig.vectors!, pairs: N, size: N, rPrev, cL, etaEff: eta, steps: 1.5 })).toThrow(
      /non-negative integer/,
    );
  });
});
