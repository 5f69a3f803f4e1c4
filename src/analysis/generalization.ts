/**
 * Validation-free generalisation estimates from one snapshot (docs/generalization.md G1–G4): kernel leave-one-out
 * (exact along the kernel-GD path, and extended to the M-sample training set), GCV, gradient coherence, the
 * discrepancy principle, evaluation-probe accuracy/margin/prediction changes and the Label Wave step.
 *
 * Layout: the kernel is given by eigenpairs (values λ_j, vectors V size×pairs row-major, vector j in column j, as
 * src/spectrum's eighSymmetric returns them when pairs = size). It is either the traced kernel K̄ (size = n, one
 * block per sample, the filter acts on each of the C output columns) or the full kernel K (size = N = n·C,
 * sample-major, a C×C block per sample acting on vec(Y)). Eigenpairs not given count as λ = 0 (G1).
 */
import { scanGoldenMinimum } from './scanGoldenMinimum.js';

/** Eigenpairs of the traced (n×n) or full (N×N) probe kernel. */
export interface KernelEigenpairs {
  /** Eigenvalues λ_j (any order, length ≥ pairs); negatives are clipped to 0 (docs/science.md A0). */
  values: Float64Array;
  /** size×pairs row-major, eigenvector j in column j. */
  vectors: Float64Array;
  /** Columns of `vectors` (default: size, i.e. a full decomposition). */
  pairs?: number;
  /** 'traced': size = n; 'full': size = N = n·C. */
  kind: 'traced' | 'full';
}

export type GeneralizationTask = 'classification' | 'regression';

/** Evaluation probe of one snapshot (G4). */
export interface EvalProbeInput {
  /** Forward-only logits, n_eval×C sample-major. */
  logits: Float64Array;
  /** Integer class labels, n_eval of them (classification only). */
  labels: ArrayLike<number>;
  /** argmax predictions of the previous snapshot (evalPredictions of its estimate), for evalChanged. */
  previousPredictions?: Int32Array;
  /** evalChanged of the earlier snapshots, oldest first, for the Label Wave step (G4). */
  changedHistory?: ReadonlyArray<{ step: number; changed: number }>;
  /** The probe is held out (never trained on). */
  heldOut?: boolean;
}

export interface GeneralizationInput {
  kernel: KernelEigenpairs;
  samples: number; // n
  outputs: number; // C
  /** Y, n×C sample-major (one-hot for classification). */
  targets: Float64Array;
  /** f, the current probe logits, n×C sample-major. */
  logits: Float64Array;
  task: GeneralizationTask;
  /** Optimizer step of this snapshot (for the Label Wave step). */
  step: number;
  /** f₀, the logits at initialisation (default 0). */
  initialLogits?: Float64Array;
  /** NTK time τ of the filter; default: fitted to the observed residual (G1). */
  tau?: number;
  /**
   * Fit a target scale κ with τ (targets κY; G1). Use it for cross-entropy, whose logits outgrow one-hot targets.
   * Default false (κ = 1).
   */
  fitTargetScale?: boolean;
  /** M, the training-set size; > n switches LOO and GCV to the training-set extension (G1). */
  trainSetSize?: number;
  /** Declared per-output label-noise σ (> 0 enables the discrepancy principle, G3). */
  labelNoiseSigma?: number;
  /** ρ for the coherence (G2): default f − Y (MSE); pass vec(softmax(f) − Y) for cross-entropy. */
  residual?: Float64Array;
  eval?: EvalProbeInput;
  /** Gate on residualFitError for LOO/GCV (default MAX_RESIDUAL_FIT_ERROR). */
  maxResidualFitError?: number;
}

/**
 * The numeric estimates, declared once: GetRun's GeneralizationReport fields are their snake_case names and the
 * `ntk_sidecar_generalization_estimate{estimate=…}` series carry the same names.
 */
export const GENERALIZATION_FIELDS = ['looAccuracy', 'looError', 'gcvError', 'coherence', 'discrepancy', 'evalAccuracy', 'evalMargin', 'evalChanged', 'labelWaveStep'] as const;

/** 'looAccuracy' → 'loo_accuracy' (the proto field and metric label of a GENERALIZATION_FIELDS entry). */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** docs/generalization.md G1–G4; camelCase of proto GeneralizationReport. Absent = not computable. */
export interface GeneralizationReportFields {
  looAccuracy?: number;
  looError?: number;
  gcvError?: number;
  coherence?: number;
  discrepancy?: number;
  evalAccuracy?: number;
  evalMargin?: number;
  evalChanged?: number;
  labelWaveStep?: number;
  heldOut: boolean;
}

export interface GeneralizationEstimate {
  report: GeneralizationReportFields;
  /** The τ used and where it came from. */
  tau?: number;
  tauSource?: 'given' | 'fitted';
  /** κ (1 unless fitTargetScale). */
  targetScale: number;
  /** ‖ρ_obs − ρ_model‖/‖ρ_obs‖ of the filter at τ (G1); LOO/GCV are withheld above `MAX_RESIDUAL_FIT_ERROR`. */
  residualFitError?: number;
  /** Which LOO was computed (G1). */
  looMethod?: 'probe-exact' | 'train-set';
  /** tr H_τ, the filter's degrees of freedom. */
  effectiveDof?: number;
  /** n/(n+1): the EB-criterion level of T (G2); coherence ≤ this = memorisation has started. */
  coherenceFloor?: number;
  /** argmax of the eval logits, to pass back as previousPredictions next snapshot. */
  evalPredictions?: Int32Array;
}

/** G1: the fitted filter must reproduce at least 75 % of the residual energy (error ≤ 0.5) for LOO/GCV. */
export const MAX_RESIDUAL_FIT_ERROR = 0.5;

/**
 * G1: the training-set extension needs the probe to resolve the model's degrees of freedom. Above tr H_τ = 0.5·n
 * (per output) the n-sample probe cannot represent the M-sample leverages and the extension is withheld.
 */
export const MAX_TRAIN_SET_DOF_FRACTION = 0.5;

/** Nodes of the rational approximation of e^x on (−∞, 0] (G1; 2·16 conjugate nodes, max error 8e-15). */
const TALBOT_NODES = 32;

interface Complex {
  re: number;
  im: number;
}

/**
 * Parabolic-contour trapezoid rule of Trefethen, Weideman & Schmelzer (BIT 2006): e^x ≈ Σ_k c_k/(z_k − x) for
 * x ≤ 0 with z(θ) = N(0.1309 − 0.1194θ² + 0.25iθ), c_k = e^{z_k} z'(θ_k)/(iN). Only the upper half (θ > 0) is
 * returned; the lower half is its conjugate.
 */
function talbotNodes(): Array<{ z: Complex; c: Complex }> {
  const N = TALBOT_NODES;
  const h = (2 * Math.PI) / N;
  const out: Array<{ z: Complex; c: Complex }> = [];
  for (let k = N / 2; k < N; k++) {
    const th = -Math.PI + (k + 0.5) * h;
    const zr = N * (0.1309 - 0.1194 * th * th);
    const zi = N * 0.25 * th;
    const dr = N * (-2 * 0.1194 * th);
    const di = N * 0.25;
    const ez = Math.exp(zr);
    const er = ez * Math.cos(zi);
    const ei = ez * Math.sin(zi);
    const pr = er * dr - ei * di;
    const pi = er * di + ei * dr;
    out.push({ z: { re: zr, im: zi }, c: { re: pi / N, im: -pr / N } });
  }
  return out;
}
const NODES = talbotNodes();

/**
 * The GD filter φ_τ(λ) = (1 − e^{−λτ})/λ as a sum of resolvents: φ_τ(λ) ≈ 2·Re Σ_k w_k/(λ + μ_k) with μ_k = z_k/τ,
 * w_k = c_k/z_k (G1). Exported for its test.
 */
export function gdFilterResolvents(tau: number): Array<{ mu: Complex; w: Complex }> {
  return NODES.map(({ z, c }) => {
    const d = z.re * z.re + z.im * z.im;
    return { mu: { re: z.re / tau, im: z.im / tau }, w: { re: (c.re * z.re + c.im * z.im) / d, im: (c.im * z.re - c.re * z.im) / d } };
  });
}

/** How a kernel's rows and the target columns map to samples (G1). */
export interface LooLayout {
  n: number; // samples
  size: number; // kernel rows: n·block
  pairs: number;
  block: number; // rows per sample in the kernel: 1 (traced) or C (full)
  cols: number; // columns of the target matrix: C (traced) or 1 (full)
  lambda: Float64Array; // eigenvalues ≥ 0, length pairs
  V: Float64Array; // size×pairs row-major, vector j in column j
}
type Layout = LooLayout & { C: number };

function layoutOf(input: GeneralizationInput): Layout {
  const { kernel, samples: n, outputs: C } = input;
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(C) || C < 1) throw new RangeError(`generalization: need n ≥ 2 samples and C ≥ 1 outputs, got n = ${n}, C = ${C}`);
  const size = kernel.kind === 'traced' ? n : n * C;
  const pairs = kernel.pairs ?? size;
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > size) throw new RangeError(`generalization: pairs = ${pairs} must be in [1, ${size}]`);
  if (kernel.vectors.length !== size * pairs) throw new RangeError(`generalization: vectors hold ${kernel.vectors.length} values, expected ${size}·${pairs}`);
  if (kernel.values.length < pairs) throw new RangeError(`generalization: ${kernel.values.length} eigenvalues for ${pairs} pairs`);
  for (const [name, a] of [
    ['targets', input.targets],
    ['logits', input.logits],
    ['initialLogits', input.initialLogits],
    ['residual', input.residual],
  ] as const) {
    if (a !== undefined && a.length !== n * C) throw new RangeError(`generalization: ${name} holds ${a.length} values, expected n·C = ${n * C}`);
  }
  const lambda = new Float64Array(pairs);
  for (let j = 0; j < pairs; j++) {
    const v = kernel.values[j];
    if (!Number.isFinite(v)) throw new RangeError(`generalization: eigenvalue ${j} is ${v}`);
    lambda[j] = v > 0 ? v : 0;
  }
  return { n, C, size, pairs, block: kernel.kind === 'traced' ? 1 : C, cols: kernel.kind === 'traced' ? C : 1, lambda, V: kernel.vectors };
}

/** Vᵀ X for X size×cols (both row-major): pairs×cols. */
function project(L: Layout, X: Float64Array): Float64Array {
  const { size, pairs, cols, V } = L;
  const out = new Float64Array(pairs * cols);
  for (let t = 0; t < size; t++) {
    const vr = t * pairs;
    const xr = t * cols;
    for (let c = 0; c < cols; c++) {
      const x = X[xr + c];
      if (x === 0) continue;
      for (let j = 0; j < pairs; j++) out[j * cols + c] += V[vr + j] * x;
    }
  }
  return out;
}

/** V A for A pairs×cols: size×cols. */
function expand(L: Layout, A: Float64Array): Float64Array {
  const { size, pairs, cols, V } = L;
  const out = new Float64Array(size * cols);
  for (let t = 0; t < size; t++) {
    const vr = t * pairs;
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let j = 0; j < pairs; j++) s += V[vr + j] * A[j * cols + c];
      out[t * cols + c] = s;
    }
  }
  return out;
}

/**
 * G1 τ fit: minimise ‖(f − f₀) − H_τ(κy − f₀)‖² over ln τ (scan + golden section); κ = 1, or at each τ its
 * closed-form least-squares value (≥ 0). In the eigenbasis: ay = Vᵀy, a0 = Vᵀf₀, bp = Vᵀ(f − f₀), h_j = 1 − e^{−λ_jτ};
 * the residual is (bp + h·a0) − κ h·ay. Returns τ, κ and the in-span squared error.
 */
function fitTau(L: Layout, ay: Float64Array, a0: Float64Array, bp: Float64Array, fitScale: boolean, tauGiven: number | undefined): { tau: number; kappa: number; sse: number } {
  const { pairs, cols, lambda } = L;
  const obj = (tau: number): { sse: number; kappa: number } => {
    let uu = 0;
    let uv = 0;
    let vv = 0;
    for (let j = 0; j < pairs; j++) {
      const h = -Math.expm1(-lambda[j] * tau);
      for (let c = 0; c < cols; c++) {
        const u = h * ay[j * cols + c];
        const v = bp[j * cols + c] + h * a0[j * cols + c];
        uu += u * u;
        uv += u * v;
        vv += v * v;
      }
    }
    const kappa = fitScale ? (uu > 0 ? Math.max(0, uv / uu) : 1) : 1;
    return { sse: Math.max(0, kappa * kappa * uu - 2 * kappa * uv + vv), kappa };
  };
  let tau: number;
  if (tauGiven !== undefined) {
    tau = tauGiven;
  } else {
    let lmax = 0;
    for (let j = 0; j < pairs; j++) if (lambda[j] > lmax) lmax = lambda[j];
    if (!(lmax > 0)) return { tau: 0, kappa: 1, sse: NaN };
    let lmin = lmax;
    for (let j = 0; j < pairs; j++) if (lambda[j] > lmax * 1e-12 && lambda[j] < lmin) lmin = lambda[j];
    // From "nothing learned" (λ₁τ = 1e-3) to "every mode above 1e-12·λ₁ learned" (λ_min τ = 1e3).
    tau = Math.exp(scanGoldenMinimum((u) => obj(Math.exp(u)).sse, Math.log(1e-3 / lmax), Math.log(1e3 / lmin), 200, 1e-10).x);
  }
  const { sse, kappa } = obj(tau);
  return { tau, kappa, sse };
}

/** Solves the complex b×b system S x = r in place (Gaussian elimination with partial pivoting); S, r interleaved re/im. */
function complexSolve(S: Float64Array, r: Float64Array, b: number, cols: number): void {
  for (let k = 0; k < b; k++) {
    let p = k;
    let best = -1;
    for (let i = k; i < b; i++) {
      const m = Math.hypot(S[2 * (i * b + k)], S[2 * (i * b + k) + 1]);
      if (m > best) {
        best = m;
        p = i;
      }
    }
    if (p !== k) {
      for (let j = 0; j < 2 * b; j++) [S[2 * k * b + j], S[2 * p * b + j]] = [S[2 * p * b + j], S[2 * k * b + j]];
      for (let j = 0; j < 2 * cols; j++) [r[2 * k * cols + j], r[2 * p * cols + j]] = [r[2 * p * cols + j], r[2 * k * cols + j]];
    }
    const pr = S[2 * (k * b + k)];
    const pi = S[2 * (k * b + k) + 1];
    const pd = pr * pr + pi * pi;
    for (let i = k + 1; i < b; i++) {
      const ar = S[2 * (i * b + k)];
      const ai = S[2 * (i * b + k) + 1];
      const fr = (ar * pr + ai * pi) / pd;
      const fi = (ai * pr - ar * pi) / pd;
      for (let j = k; j < b; j++) {
        const sr = S[2 * (k * b + j)];
        const si = S[2 * (k * b + j) + 1];
        S[2 * (i * b + j)] -= fr * sr - fi * si;
        S[2 * (i * b + j) + 1] -= fr * si + fi * sr;
      }
      for (let j = 0; j < cols; j++) {
        const sr = r[2 * (k * cols + j)];
        const si = r[2 * (k * cols + j) + 1];
        r[2 * (i * cols + j)] -= fr * sr - fi * si;
        r[2 * (i * cols + j) + 1] -= fr * si + fi * sr;
      }
    }
  }
  for (let k = b - 1; k >= 0; k--) {
    const pr = S[2 * (k * b + k)];
    const pi = S[2 * (k * b + k) + 1];
    const pd = pr * pr + pi * pi;
    for (let j = 0; j < cols; j++) {
      let xr = r[2 * (k * cols + j)];
      let xi = r[2 * (k * cols + j) + 1];
      for (let m = k + 1; m < b; m++) {
        const sr = S[2 * (k * b + m)];
        const si = S[2 * (k * b + m) + 1];
        const yr = r[2 * (m * cols + j)];
        const yi = r[2 * (m * cols + j) + 1];
        xr -= sr * yr - si * yi;
        xi -= sr * yi + si * yr;
      }
      r[2 * (k * cols + j)] = (xr * pr + xi * pi) / pd;
      r[2 * (k * cols + j) + 1] = (xi * pr - xr * pi) / pd;
    }
  }
}

/**
 * Exact leave-one-out predictions of kernel GD run for NTK time τ from f₀ = 0 on targets d (size×cols): for each
 * sample I (its `block` rows), f_{−I}(x_I) = K_{I,−I} φ_τ(K_{−I,−I}) d_{−I} (G1). With φ_τ ≈ 2 Re Σ w_k (K + μ_k)^{−1}
 * each term is a complex-ridge LOO, exact by the block-inverse identity
 * K_{I,−I}(K_{−I,−I} + μ)^{−1} d_{−I} = d_I − (G_II)^{−1}(G d)_I, G = (K + μ)^{−1} = I/μ + V diag(1/(λ+μ) − 1/μ) Vᵀ.
 * Cost O(16·(n·block²·pairs + size·pairs·cols)). Returns size×cols.
 */
export function kernelGdLooPredictions(L: LooLayout, d: Float64Array, tau: number): Float64Array {
  const { n, size, pairs, block: b, cols, lambda, V } = L;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new RangeError(`kernelGdLooPredictions: τ must be finite and > 0, got ${tau}`);
  const poles = gdFilterResolvents(tau);
  const P = poles.length;
  const a = new Float64Array(pairs * cols);
  for (let t = 0; t < size; t++) {
    for (let c = 0; c < cols; c++) {
      const x = d[t * cols + c];
      if (x === 0) continue;
      for (let j = 0; j < pairs; j++) a[j * cols + c] += V[t * pairs + j] * x;
    }
  }
  // e_kj = 1/(λ_j + μ_k) − 1/μ_k, interleaved re/im.
  const e = new Float64Array(2 * P * pairs);
  const inv = (re: number, im: number): [number, number] => {
    const q = re * re + im * im;
    return [re / q, -im / q];
  };
  const invMu: Array<[number, number]> = poles.map(({ mu }) => inv(mu.re, mu.im));
  for (let k = 0; k < P; k++) {
    const { mu } = poles[k];
    for (let j = 0; j < pairs; j++) {
      const [r1, i1] = inv(lambda[j] + mu.re, mu.im);
      e[2 * (k * pairs + j)] = r1 - invMu[k][0];
      e[2 * (k * pairs + j) + 1] = i1 - invMu[k][1];
    }
  }
  const out = new Float64Array(size * cols);
  const S = new Float64Array(2 * b * b);
  const r = new Float64Array(2 * b * cols);
  const acc = new Float64Array(2 * P * b * b); // G_II per pole
  const gd = new Float64Array(2 * P * b * cols); // (G d)_I per pole
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    gd.fill(0);
    for (let p = 0; p < b; p++) {
      const rowP = (i * b + p) * pairs;
      for (let q = 0; q <= p; q++) {
        const rowQ = (i * b + q) * pairs;
        for (let j = 0; j < pairs; j++) {
          const vv = V[rowP + j] * V[rowQ + j];
          if (vv === 0) continue;
          for (let k = 0; k < P; k++) {
            const o = 2 * (k * b * b + p * b + q);
            acc[o] += vv * e[2 * (k * pairs + j)];
            acc[o + 1] += vv * e[2 * (k * pairs + j) + 1];
          }
        }
      }
      for (let j = 0; j < pairs; j++) {
        const v = V[rowP + j];
        if (v === 0) continue;
        for (let c = 0; c < cols; c++) {
          const va = v * a[j * cols + c];
          for (let k = 0; k < P; k++) {
            const o = 2 * (k * b * cols + p * cols + c);
            gd[o] += va * e[2 * (k * pairs + j)];
            gd[o + 1] += va * e[2 * (k * pairs + j) + 1];
          }
        }
      }
    }
    for (let k = 0; k < P; k++) {
      const [mr, mi] = invMu[k];
      for (let p = 0; p < b; p++) {
        for (let q = 0; q < b; q++) {
          const o = 2 * (k * b * b + Math.max(p, q) * b + Math.min(p, q));
          S[2 * (p * b + q)] = acc[o] + (p === q ? mr : 0);
          S[2 * (p * b + q) + 1] = acc[o + 1] + (p === q ? mi : 0);
        }
        for (let c = 0; c < cols; c++) {
          const o = 2 * (k * b * cols + p * cols + c);
          const dv = d[(i * b + p) * cols + c];
          r[2 * (p * cols + c)] = gd[o] + mr * dv;
          r[2 * (p * cols + c) + 1] = gd[o + 1] + mi * dv;
        }
      }
      complexSolve(S, r, b, cols);
      // g = d_I − S⁻¹(Gd)_I; accumulate 2·Re(w·g).
      const { w } = poles[k];
      for (let p = 0; p < b; p++) {
        for (let c = 0; c < cols; c++) {
          const gr = d[(i * b + p) * cols + c] - r[2 * (p * cols + c)];
          const gi = -r[2 * (p * cols + c) + 1];
          out[(i * b + p) * cols + c] += 2 * (w.re * gr - w.im * gi);
        }
      }
    }
  }
  return out;
}

/** argmax of each row of an n×C matrix. */
function argmaxRows(x: ArrayLike<number>, n: number, C: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (x[i * C + c] > x[i * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * Label Wave (G4): the first local minimum of the prediction-change curve smoothed by a centred moving average of
 * 2·halfWidth + 1 points (shorter at the start). Point j ≥ 1 is a minimum when s_j < s_{j−1} and s_{j+1} > s_j, with
 * s_{j+1} itself fully smoothed (so the answer needs halfWidth + 1 points after j). Returns the step of j, or undefined.
 */
export function labelWaveStep(series: ReadonlyArray<{ step: number; changed: number }>, halfWidth = 1): number | undefined {
  if (!Number.isInteger(halfWidth) || halfWidth < 0) throw new RangeError(`labelWaveStep: halfWidth must be an integer ≥ 0, got ${halfWidth}`);
  const m = series.length;
  const last = m - 1 - halfWidth; // last index whose centred window is complete
  const s = new Float64Array(Math.max(0, last + 1));
  for (let j = 0; j <= last; j++) {
    const lo = Math.max(0, j - halfWidth);
    let sum = 0;
    for (let t = lo; t <= j + halfWidth; t++) sum += series[t].changed;
    s[j] = sum / (j + halfWidth - lo + 1);
  }
  for (let j = 1; j < last; j++) {
    if (s[j] < s[j - 1] && s[j + 1] > s[j]) return series[j].step;
  }
  return undefined;
}

/** G2: T = ρᵀKρ / ρᵀDρ from the eigenpairs (D = the kernel's per-sample blocks). */
function coherenceOf(L: Layout, rho: Float64Array): number | undefined {
  // rho is size×cols in the layout.
  const { n, pairs, block: b, cols, lambda, V } = L;
  const c = project(L, rho);
  let num = 0;
  for (let j = 0; j < pairs; j++) for (let k = 0; k < cols; k++) num += lambda[j] * c[j * cols + k] ** 2;
  let den = 0;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < b; p++) {
      const rowP = (i * b + p) * pairs;
      for (let q = 0; q < b; q++) {
        const rowQ = (i * b + q) * pairs;
        let kpq = 0;
        for (let j = 0; j < pairs; j++) kpq += lambda[j] * V[rowP + j] * V[rowQ + j];
        for (let k = 0; k < cols; k++) den += rho[(i * b + p) * cols + k] * kpq * rho[(i * b + q) * cols + k];
      }
    }
  }
  return den > 0 ? num / den : undefined;
}

/**
 * Leverage blocks H_II of H_τ = V diag(1 − e^{−λτ}) Vᵀ (b×b per sample, row-major, n·b² values) and tr H_τ.
 */
function leverages(L: Layout, tau: number): { blocks: Float64Array; trace: number } {
  const { n, pairs, block: b, lambda, V } = L;
  const h = new Float64Array(pairs);
  let trace = 0;
  for (let j = 0; j < pairs; j++) {
    h[j] = -Math.expm1(-lambda[j] * tau);
    trace += h[j];
  }
  const blocks = new Float64Array(n * b * b);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < b; p++) {
      for (let q = 0; q < b; q++) {
        let s = 0;
        for (let j = 0; j < pairs; j++) s += h[j] * V[(i * b + p) * pairs + j] * V[(i * b + q) * pairs + j];
        blocks[i * b * b + p * b + q] = s;
      }
    }
  }
  return { blocks, trace };
}

/**
 * All of G1–G4 for one snapshot. Pure: same input, same output. Fields that cannot be computed are absent
 * (docs/generalization.md lists when).
 */
export function estimateGeneralization(input: GeneralizationInput): GeneralizationEstimate {
  const L = layoutOf(input);
  const { n, C, size, cols, block: b } = L;
  const { targets: Y, logits: F } = input;
  const F0 = input.initialLogits;
  const report: GeneralizationReportFields = { heldOut: input.eval?.heldOut === true };
  const out: GeneralizationEstimate = { report, targetScale: 1 };

  // Sample-major n×C is already size×cols in both layouts (traced: n×C; full: N×1).
  const g = new Float64Array(n * C); // f − f₀
  let rho2 = 0;
  for (let t = 0; t < n * C; t++) {
    const f0 = F0 === undefined ? 0 : F0[t];
    g[t] = F[t] - f0;
    rho2 += (F[t] - Y[t]) ** 2;
  }

  // G2 coherence on ρ (MSE default).
  const rho = input.residual ?? Float64Array.from(F, (f, t) => f - Y[t]);
  const T = coherenceOf(L, rho);
  if (T !== undefined) {
    report.coherence = T;
    out.coherenceFloor = n / (n + 1);
  }

  // G3 discrepancy principle: ‖ρ‖²/(n·C·σ²).
  const sigma = input.labelNoiseSigma ?? 0;
  if (sigma > 0 && Number.isFinite(sigma)) report.discrepancy = rho2 / (n * C * sigma * sigma);

  // G1: τ, then LOO and GCV.
  if (input.tau !== undefined && !(input.tau > 0 && Number.isFinite(input.tau))) throw new RangeError(`generalization: τ must be finite and > 0, got ${input.tau}`);
  if (rho2 > 0) {
    const ay = project(L, Y);
    const a0 = F0 === undefined ? new Float64Array(ay.length) : project(L, F0);
    const bp = project(L, g);
    // The part of f − f₀ outside span(V) cannot come from the filter: it adds to the fit error.
    const inSpan = expand(L, bp);
    let offSpan = 0;
    for (let t = 0; t < n * C; t++) offSpan += (g[t] - inSpan[t]) ** 2;
    const fit = fitTau(L, ay, a0, bp, input.fitTargetScale === true, input.tau);
    const error = Math.sqrt((fit.sse + offSpan) / rho2);
    if (fit.tau > 0) {
      out.tau = fit.tau;
      out.tauSource = input.tau === undefined ? 'fitted' : 'given';
      out.targetScale = fit.kappa;
      out.residualFitError = error;
    }
    const M = input.trainSetSize ?? 0;
    const lev = fit.tau > 0 ? leverages(L, fit.tau) : undefined;
    if (lev !== undefined) out.effectiveDof = lev.trace;
    // Withheld: the filter does not reproduce the residual, or (train-set extension) the probe is saturated.
    const usable = lev !== undefined && error <= (input.maxResidualFitError ?? MAX_RESIDUAL_FIT_ERROR) && !(M > n && lev.trace > MAX_TRAIN_SET_DOF_FRACTION * size);
    if (usable) {
      const kappa = fit.kappa;
      const looPred = new Float64Array(n * C); // LOO logits κy_I − r_I
      let sseFit = 0;
      let gcvDen: number;
      if (M > n) {
        // Training-set extension: leverages × n/M on the observed in-sample residual (G1).
        out.looMethod = 'train-set';
        const scale = n / M;
        const S = new Float64Array(2 * b * b);
        const r = new Float64Array(2 * b * cols);
        for (let i = 0; i < n; i++) {
          S.fill(0);
          r.fill(0);
          for (let p = 0; p < b; p++) {
            for (let q = 0; q < b; q++) S[2 * (p * b + q)] = (p === q ? 1 : 0) - scale * lev.blocks[i * b * b + p * b + q];
            for (let c = 0; c < cols; c++) r[2 * (p * cols + c)] = kappa * Y[(i * b + p) * cols + c] - F[(i * b + p) * cols + c];
          }
          complexSolve(S, r, b, cols);
          for (let t = 0; t < b * cols; t++) looPred[i * b * cols + t] = kappa * Y[i * b * cols + t] - r[2 * t];
        }
        for (let t = 0; t < n * C; t++) sseFit += (kappa * Y[t] - F[t]) ** 2;
        gcvDen = 1 - lev.trace / ((size * M) / n);
      } else {
        out.looMethod = 'probe-exact';
        const dk = Float64Array.from(Y, (y, t) => kappa * y - (F0 === undefined ? 0 : F0[t]));
        const loo = kernelGdLooPredictions(L, dk, fit.tau);
        const fitted = expand(L, Float64Array.from(project(L, dk), (v, idx) => v * -Math.expm1(-L.lambda[Math.floor(idx / cols)] * fit.tau)));
        for (let t = 0; t < n * C; t++) {
          const f0 = F0 === undefined ? 0 : F0[t];
          looPred[t] = loo[t] + f0;
          sseFit += (kappa * Y[t] - fitted[t] - f0) ** 2;
        }
        gcvDen = 1 - lev.trace / size;
      }
      let sse = 0;
      for (let t = 0; t < n * C; t++) sse += (kappa * Y[t] - looPred[t]) ** 2;
      report.looError = sse / n;
      if (gcvDen > 0) report.gcvError = sseFit / n / (gcvDen * gcvDen);
      if (input.task === 'classification' && C > 1) {
        const want = argmaxRows(Y, n, C);
        const got = argmaxRows(looPred, n, C);
        let hit = 0;
        for (let i = 0; i < n; i++) if (want[i] === got[i]) hit++;
        report.looAccuracy = hit / n;
      }
    }
  }

  // G4 evaluation probe (classification).
  if (input.eval !== undefined && input.task === 'classification') {
    const probe = evalProbeEstimates(input.eval, C, input.step);
    Object.assign(report, probe.report);
    out.evalPredictions = probe.predictions;
  }
  return out;
}

/**
 * G4 on the evaluation probe alone (it needs no kernel: a logits-only snapshot has it too): accuracy, mean margin,
 * the fraction of predictions changed since the previous snapshot and the Label Wave step.
 */
export function evalProbeEstimates(ev: EvalProbeInput, C: number, step: number): { report: Partial<GeneralizationReportFields>; predictions?: Int32Array } {
  const report: Partial<GeneralizationReportFields> = { heldOut: ev.heldOut === true };
  const ne = ev.labels.length;
  if (ev.logits.length !== ne * C) throw new RangeError(`generalization: eval logits hold ${ev.logits.length} values, expected n_eval·C = ${ne}·${C}`);
  if (ne === 0) return { report };
  const pred = argmaxRows(ev.logits, ne, C);
  let hit = 0;
  let margin = 0;
  for (let i = 0; i < ne; i++) {
    const y = ev.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new RangeError(`generalization: eval label ${i} = ${y} is not a class in [0, ${C})`);
    if (pred[i] === y) hit++;
    let other = -Infinity;
    for (let c = 0; c < C; c++) if (c !== y && ev.logits[i * C + c] > other) other = ev.logits[i * C + c];
    margin += C > 1 ? ev.logits[i * C + y] - other : 0;
  }
  report.evalAccuracy = hit / ne;
  if (C > 1) report.evalMargin = margin / ne;
  const prev = ev.previousPredictions;
  if (prev !== undefined && prev.length === ne) {
    let changed = 0;
    for (let i = 0; i < ne; i++) if (prev[i] !== pred[i]) changed++;
    report.evalChanged = changed / ne;
    const wave = labelWaveStep([...(ev.changedHistory ?? []), { step, changed: report.evalChanged }]);
    if (wave !== undefined) report.labelWaveStep = wave;
  }
  return { report, predictions: pred };
}
