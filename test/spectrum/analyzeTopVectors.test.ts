/**
 * analyzeKernelSnapshot asks the exact solver for the top-k eigenvectors only, unless the residual and
 * generalisation blocks need every pair (logits, targets and a loss). The diagnostics that read vectors (drift's
 * O_10, the alignment curve) must match the full-vector computation, and the drift references keep O_10's
 * columns only.
 */
import { describe, expect, it } from 'vitest';
import { analyzeKernelSnapshot, type AnalysisContext, type KernelSnapshotInput } from '../../src/analysis/analyzeKernelSnapshot.js';
import type { AnalysisHistory } from '../../src/analysis/analyzeSnapshot.js';
import { alignmentDiagnostics } from '../../src/analysis/alignment.js';
import { OVERLAP_K, subspaceOverlap } from '../../src/analysis/kernelDrift.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { mulberry32, normalArray } from '../../src/random.js';

const N = 240;

/** K = X D Xᵀ with a decaying diagonal D (NTK-like spectrum, full rank), X N×300 Gaussian; `shift` perturbs X. */
function kernel(seed: number, shift: number): Float64Array {
  const m = 300;
  const x = normalArray(mulberry32(7), N * m);
  const dx = normalArray(mulberry32(seed), N * m);
  for (let i = 0; i < x.length; i++) x[i] += shift * dx[i];
  const k = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += x[i * m + t] * x[j * m + t] * 0.97 ** t;
      k[i * N + j] = s;
      k[j * N + i] = s;
    }
  }
  return k;
}

function context(step: number, targets?: Float64Array): AnalysisContext {
  return {
    setup: { samples: N, outputs: 1, loss: undefined, lossScale: 0, optimizer: { kind: 'sgd', momentum: 0, beta1: 0, weightDecay: 0 }, trainSetSize: 0, labelNoiseSigma: 0, evalHeldOut: false },
    snapshotId: step,
    step,
    trainLoss: 1,
    learningRate: 0.1,
    targets,
    observed: [],
    preconditioned: false,
    kess: { rho: 0.01, eps: 0.01, horizonFraction: 0.2 },
  };
}

function input(k: Float64Array, ctx: AnalysisContext | undefined): KernelSnapshotInput {
  return { kernel: k, size: N, samples: N, outputs: 1, reduction: 'full', source: 'jacobian', epsSrc: 0, exactMax: 2048, topK: 64, context: ctx };
}

describe('analyzeKernelSnapshot with top-k eigenvectors', () => {
  const k0 = kernel(1, 0);
  const k1 = kernel(2, 0.05);

  it('drift O_10 matches the full decomposition; references keep OVERLAP_K columns', () => {
    let h: AnalysisHistory = {};
    const a = analyzeKernelSnapshot(input(k0, context(10)), h);
    h = a.history;
    expect(a.spectra[0].vectorPairs).toBe(64);
    expect(a.spectra[0].computedPairs).toBe(N);
    expect(a.spectra[0].eigenvalues.length).toBe(N);
    expect(h.init!.pairs).toBe(OVERLAP_K);
    expect(h.init!.vectors!.length).toBe(N * OVERLAP_K);
    expect(h.prev).toBe(h.init);
    const b = analyzeKernelSnapshot(input(k1, context(20)), h);
    expect(b.history.prev!.pairs).toBe(OVERLAP_K);
    expect(b.history.init).toBe(h.init);

    const e0 = eighSymmetric(k0, N, { vectors: true });
    const e1 = eighSymmetric(k1, N, { vectors: true });
    const ref = subspaceOverlap(e0.vectors!, N, e1.vectors!, N, N, OVERLAP_K);
    expect(b.diagnostics!.drift!.subspaceOverlap).toBeCloseTo(ref, 10);
    expect(b.diagnostics!.drift!.subspaceOverlap).toBeLessThan(1);
    const tol = b.spectra[0].tolerance;
    for (let j = 0; j < N; j++) {
      const want = e1.values[j] < tol ? 0 : e1.values[j];
      expect(Math.abs(b.spectra[0].eigenvalues[j] - want)).toBeLessThan(1e-10 * e1.values[0]);
    }
  });

  it('with targets (no logits): 100 vectors for the alignment curve, same a_k as with every vector', () => {
    const y = normalArray(mulberry32(3), N);
    const r = analyzeKernelSnapshot(input(k1, context(10, y)), {});
    expect(r.spectra[0].vectorPairs).toBe(100);
    const full = alignmentDiagnostics({ kernel: k1, size: N, targets: y, cols: 1, vectors: eighSymmetric(k1, N, { vectors: true }).vectors!, pairs: N });
    const got = r.diagnostics!.alignment!;
    expect(got.curve.map((p) => p.k)).toEqual(full.curve.map((p) => p.k));
    for (let i = 0; i < got.curve.length; i++) expect(got.curve[i].value).toBeCloseTo(full.curve[i].value, 10);
  });

  it('logits, targets and a loss: every eigenvector (residual and generalisation read the whole spectrum)', () => {
    const y = normalArray(mulberry32(3), N);
    const ctx = context(10, y);
    ctx.setup.loss = 'mse';
    ctx.setup.lossScale = 0.5;
    const r = analyzeKernelSnapshot({ ...input(k1, ctx), logits: normalArray(mulberry32(4), N) }, {});
    expect(r.spectra[0].vectorPairs).toBe(N);
    expect(r.diagnostics!.residual).toBeDefined();
    expect(r.history.prevResidual!.pairs).toBe(N);
    expect(r.history.init!.pairs).toBe(OVERLAP_K);
  });

  it('without a context: no vectors at all', () => {
    const r = analyzeKernelSnapshot(input(k0, undefined), {});
    expect(r.spectra[0].vectors).toBeUndefined();
  });
});
