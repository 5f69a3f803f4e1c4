/** Seeded test matrices with a prescribed spectrum, so expected eigenvalues are known exactly. */
import { normalArray, type Rng } from '../../src/random.js';

/**
 * rows×cols (rows ≥ cols) with orthonormal columns: modified Gram–Schmidt of a Gaussian matrix, twice for
 * stability. Row-major.
 */
export function orthonormalColumns(rows: number, cols: number, rng: Rng): Float64Array {
  const a = normalArray(rng, rows * cols);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += a[i * cols + j] * a[i * cols + k];
        for (let i = 0; i < rows; i++) a[i * cols + j] -= dot * a[i * cols + k];
      }
      let norm = 0;
      for (let i = 0; i < rows; i++) norm += a[i * cols + j] ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < rows; i++) a[i * cols + j] /= norm;
    }
  }
  return a;
}

/** K = Q diag(λ) Qᵀ with Q Haar-like orthogonal (size = λ.length). */
export function gramWithSpectrum(lambda: ArrayLike<number>, rng: Rng): Float64Array {
  const n = lambda.length;
  const q = orthonormalColumns(n, n, rng);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let m = 0; m < n; m++) s += q[i * n + m] * lambda[m] * q[j * n + m];
      k[i * n + j] = s;
      k[j * n + i] = s;
    }
  }
  return k;
}

/** J = U diag(√λ) Vᵀ (N×P, P ≥ N), so J Jᵀ = U diag(λ) Uᵀ has eigenvalues λ. */
export function jacobianWithSpectrum(lambda: ArrayLike<number>, params: number, rng: Rng): Float64Array {
  const n = lambda.length;
  const u = orthonormalColumns(n, n, rng);
  const v = orthonormalColumns(params, n, rng); // P×N
  const j = new Float64Array(n * params);
  for (let r = 0; r < n; r++) {
    for (let m = 0; m < n; m++) {
      const w = u[r * n + m] * Math.sqrt(lambda[m]);
      if (w === 0) continue;
      for (let p = 0; p < params; p++) j[r * params + p] += w * v[p * n + m];
    }
  }
  return j;
}

/** K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)] (docs/science.md §0), computed directly from J for the test's own reference. */
export function tracedGramOf(j: Float64Array, samples: number, outputs: number, params: number): Float64Array {
  const k = new Float64Array(samples * samples);
  for (let a = 0; a < samples; a++) {
    for (let b = 0; b < samples; b++) {
      let s = 0;
      for (let c = 0; c < outputs; c++) {
        const ra = (a * outputs + c) * params;
        const rb = (b * outputs + c) * params;
        for (let p = 0; p < params; p++) s += j[ra + p] * j[rb + p];
      }
      k[a * samples + b] = s / outputs;
    }
  }
  return k;
}

export function powerLawSpectrum(size: number, alpha: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => (i + 1) ** -alpha);
}
