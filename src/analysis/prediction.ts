/**
 * Predicted loss trajectories under kernel gradient descent, anchored at one kernel snapshot (docs/science.md A9).
 *
 * MSE has closed forms in the eigenbasis of the full kernel K (raw, docs/science.md §0): with c_i = u_iᵀ r_a and
 * Δ = s − s_a network steps,
 *   continuous (gradient flow):  L(Δ) = c_L Σ c_i² e^{−4 c_L η λ_i Δ}
 *   discrete (full-batch GD):    L(Δ) = c_L Σ c_i² (1 − 2 c_L η λ_i)^{2Δ}
 * Modes with λ_i ≤ tol and the energy outside the known eigenpairs (`restEnergy`) are frozen (λ = 0), so both
 * forms tend to the null-space floor. Cross-entropy has no closed form: the function-space ODE is integrated
 * with RK4 (`solveCeTrajectory`).
 */
import { fitDecay } from '../spectrum/powerLaw.js';

/** Modal state of the residual at an anchor snapshot (docs/science.md A9). */
export interface ModalState {
  /** Eigenvalues λ_i of the raw kernel K (any order). */
  lambda: Float64Array;
  /** c_i² = (u_iᵀ r_a)², same order as `lambda`. */
  coeff2: Float64Array;
  /** Loss-scale constant c_L of docs/science.md §0 (> 0). */
  cL: number;
  /** Eigenvalues ≤ tol are null space: their modes are never learned. */
  tol: number;
  /** ‖r_a‖² − Σ c_i² when only the top-k pairs are known; treated as unlearned (λ = 0). Default 0. */
  restEnergy?: number;
}

export type PredictionMode = 'continuous' | 'discrete';

/**
 * A9: the two MSE forms agree while 2 c_L η λ_1 ≪ 1; above 0.1 per step the discrete form is used. Exported so
 * callers and tests share the threshold.
 */
export const DISCRETE_THRESHOLD = 0.1;

/** Relative slack for a slightly negative restEnergy (‖r‖² − Σc² loses digits when the top-k carry it all). */
const REST_ROUNDOFF = 1e-9;

function checkState(state: ModalState, where: string): number {
  const { lambda, coeff2, cL, tol } = state;
  if (lambda.length !== coeff2.length) {
    throw new RangeError(`${where}: lambda has ${lambda.length} entries but coeff2 has ${coeff2.length}`);
  }
  if (!(cL > 0) || !Number.isFinite(cL)) throw new RangeError(`${where}: loss scale c_L must be finite and > 0, got ${cL}`);
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new RangeError(`${where}: tol must be finite and ≥ 0, got ${tol}`);
  let energy = 0;
  for (let i = 0; i < lambda.length; i++) {
    if (!Number.isFinite(lambda[i])) throw new RangeError(`${where}: lambda[${i}] = ${lambda[i]} is not finite`);
    const c = coeff2[i];
    if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`${where}: coeff2[${i}] = ${c} must be finite and ≥ 0`);
    energy += c;
  }
  const rest = state.restEnergy ?? 0;
  if (!Number.isFinite(rest) || rest < -REST_ROUNDOFF * Math.max(energy, 1e-300)) {
    throw new RangeError(`${where}: restEnergy = ${rest} must be finite and ≥ 0 (Σc_i² = ${energy})`);
  }
  return rest > 0 ? rest : 0;
}

function checkStep(etaEff: number, delta: number, where: string): void {
  if (!(etaEff > 0) || !Number.isFinite(etaEff)) throw new RangeError(`${where}: η_eff must be finite and > 0, got ${etaEff}`);
  if (!(delta >= 0) || !Number.isFinite(delta)) throw new RangeError(`${where}: Δ must be finite and ≥ 0, got ${delta}`);
}

/** Largest eigenvalue of the state (0 for an empty state). */
function lambdaMaxOf(lambda: Float64Array): number {
  let m = 0;
  for (let i = 0; i < lambda.length; i++) if (lambda[i] > m) m = lambda[i];
  return m;
}

/**
 * Predicted MSE loss Δ network steps after the anchor (docs/science.md A9). η_eff per A11 (already including any
 * time scale â the caller wants: pass â·Δ as `delta` to rescale time). In discrete mode |1 − 2c_Lηλ|^{2Δ} is used,
 * which equals (1 − 2c_Lηλ)^{2Δ} at integer Δ and stays defined between steps.
 */
export function predictedLossMse(state: ModalState, etaEff: number, delta: number, mode: PredictionMode): number {
  const rest = checkState(state, 'predictedLossMse');
  checkStep(etaEff, delta, 'predictedLossMse');
  const { lambda, coeff2, cL, tol } = state;
  let sum = rest;
  for (let i = 0; i < lambda.length; i++) {
    const c = coeff2[i];
    if (c === 0) continue;
    if (lambda[i] <= tol) {
      sum += c;
    } else if (mode === 'continuous') {
      sum += c * Math.exp(-4 * cL * etaEff * lambda[i] * delta);
    } else {
      const q = Math.abs(1 - 2 * cL * etaEff * lambda[i]);
      // 0^0 = 1: a mode removed in exactly one step still counts at the anchor itself.
      sum += c * (delta === 0 ? 1 : q ** (2 * delta));
    }
  }
  return cL * sum;
}

/**
 * Predicted gain per network step g = −dL/dΔ (docs/science.md A10), analytic for both forms:
 *   continuous: 4 c_L² η Σ λ_i c_i² e^{−4 c_L η λ_i Δ};  discrete: −2 c_L Σ c_i² ln|1 − 2c_Lηλ_i| |1 − 2c_Lηλ_i|^{2Δ}.
 * A mode with 2c_Lηλ_i = 1 exactly (removed in one step) contributes 0 (its derivative is singular only at Δ = 0).
 */
export function predictedGainMse(state: ModalState, etaEff: number, delta: number, mode: PredictionMode): number {
  checkState(state, 'predictedGainMse');
  checkStep(etaEff, delta, 'predictedGainMse');
  const { lambda, coeff2, cL, tol } = state;
  let sum = 0;
  for (let i = 0; i < lambda.length; i++) {
    const c = coeff2[i];
    if (c === 0 || lambda[i] <= tol) continue;
    if (mode === 'continuous') {
      const k = 4 * cL * etaEff * lambda[i];
      sum += c * k * Math.exp(-k * delta);
    } else {
      const q = Math.abs(1 - 2 * cL * etaEff * lambda[i]);
      if (q === 0) continue;
      sum -= 2 * c * Math.log(q) * q ** (2 * delta);
    }
  }
  return cL * sum;
}

/** A modal state validated once, for repeated evaluation (fits and KESS searches call it thousands of times). */
export interface CompiledMse {
  /** Same values as predictedLossMse / predictedGainMse (to rounding). */
  loss(delta: number): number;
  gain(delta: number): number;
  /**
   * Loss at many Δ ≥ 0 into `out`. For ascending Δ with repeated spacings (logged every k steps) each point costs
   * one multiply per mode instead of one exp: e^{−rΔ_j} = e^{−rΔ_{j−1}}·e^{−r(Δ_j − Δ_{j−1})} (relative drift
   * ≈ j·1e-16 after j points).
   */
  lossMany(deltas: ArrayLike<number>, out: Float64Array): void;
  floor: number;
}

/**
 * Compiles the A9 MSE forms for one η_eff and mode. Both forms are sums of exponentials in Δ:
 * continuous rate r_i = 4c_Lηλ_i, discrete r_i = −2 ln|1 − 2c_Lηλ_i| (|1−x|^{2Δ} = e^{−rΔ}); a mode with
 * 2c_Lηλ_i = 1 has r = ∞ (present at Δ = 0 only).
 */
export function compileMse(state: ModalState, etaEff: number, mode: PredictionMode): CompiledMse {
  const rest = checkState(state, 'compileMse');
  checkStep(etaEff, 0, 'compileMse');
  const { lambda, coeff2, cL, tol } = state;
  let frozen = rest;
  const cs: number[] = [];
  const rs: number[] = [];
  let oneStep = 0; // energy of modes removed in exactly one discrete step
  for (let i = 0; i < lambda.length; i++) {
    const c = coeff2[i];
    if (c === 0) continue;
    if (lambda[i] <= tol) {
      frozen += c;
      continue;
    }
    if (mode === 'continuous') {
      cs.push(c);
      rs.push(4 * cL * etaEff * lambda[i]);
    } else {
      const q = Math.abs(1 - 2 * cL * etaEff * lambda[i]);
      if (q === 0) oneStep += c;
      else {
        cs.push(c);
        rs.push(-2 * Math.log(q));
      }
    }
  }
  const c = Float64Array.from(cs);
  const r = Float64Array.from(rs);
  const m = c.length;
  const check = (delta: number): void => {
    if (!(delta >= 0) || !Number.isFinite(delta)) throw new RangeError(`compileMse: Δ must be finite and ≥ 0, got ${delta}`);
  };
  const term = new Float64Array(m);
  const factor = new Float64Array(m);
  return {
    floor: cL * frozen,
    loss(delta: number): number {
      check(delta);
      let s = frozen + (delta === 0 ? oneStep : 0);
      for (let i = 0; i < m; i++) s += c[i] * Math.exp(-r[i] * delta);
      return cL * s;
    },
    gain(delta: number): number {
      check(delta);
      let s = 0;
      for (let i = 0; i < m; i++) s += c[i] * r[i] * Math.exp(-r[i] * delta);
      return cL * s;
    },
    lossMany(deltas: ArrayLike<number>, out: Float64Array): void {
      if (out.length < deltas.length) throw new RangeError(`compileMse.lossMany: out has ${out.length} entries for ${deltas.length} points`);
      let prev = NaN;
      let step = NaN;
      for (let j = 0; j < deltas.length; j++) {
        const d = deltas[j];
        check(d);
        if (!(d >= prev)) {
          for (let i = 0; i < m; i++) term[i] = Math.exp(-r[i] * d);
          step = NaN;
        } else if (!(Math.abs(d - prev - step) <= 1e-12 * step)) {
          // A new spacing (equal spacings up to rounding reuse the factors: the drift is ≤ 1e-12·rΔ per point).
          step = d - prev;
          for (let i = 0; i < m; i++) {
            factor[i] = Math.exp(-r[i] * step);
            term[i] *= factor[i];
          }
        } else {
          for (let i = 0; i < m; i++) term[i] *= factor[i];
        }
        prev = d;
        let s = frozen + (d === 0 ? oneStep : 0);
        for (let i = 0; i < m; i++) s += c[i] * term[i];
        out[j] = cL * s;
      }
    },
  };
}

/** Null-space floor L_∞ = c_L (Σ_{λ_i ≤ tol} c_i² + restEnergy) (docs/science.md A9). */
export function nullSpaceFloor(state: ModalState): number {
  const rest = checkState(state, 'nullSpaceFloor');
  let sum = rest;
  for (let i = 0; i < state.lambda.length; i++) if (state.lambda[i] <= state.tol) sum += state.coeff2[i];
  return state.cL * sum;
}

/** docs/science.md A9: discrete when 2 c_L η_eff λ_1 > 0.1, else continuous. */
export function choosePredictionMode(state: ModalState, etaEff: number): PredictionMode {
  checkState(state, 'choosePredictionMode');
  if (!(etaEff > 0) || !Number.isFinite(etaEff)) throw new RangeError(`choosePredictionMode: η_eff must be finite and > 0, got ${etaEff}`);
  return 2 * state.cL * etaEff * lambdaMaxOf(state.lambda) > DISCRETE_THRESHOLD ? 'discrete' : 'continuous';
}

/**
 * True when discrete GD diverges on this state: |1 − 2 c_L η λ_1| > 1, i.e. 2 c_L η λ_1 > 2 (R_EoS > 1, A9).
 */
export function discreteDiverges(state: ModalState, etaEff: number): boolean {
  return 2 * state.cL * etaEff * lambdaMaxOf(state.lambda) > 2;
}

export interface LossExponent {
  /** a of λ_i ∝ i^{−a} (A3 fit on the log grid). */
  lambdaExponent: number;
  /** b of c_i² ∝ i^{−b} (OLS on every index of the window: c_i² is noisy, so use all of them). */
  energyExponent: number;
  /** Late-time L(s) ∝ s^{−(b−1)/a}; NaN unless b > 1 and a > 0. */
  exponent: number;
  lambdaR2: number;
  energyR2: number;
}

/**
 * Loss-exponent link of docs/science.md A9: fit λ_i ∝ i^{−a} and c_i² ∝ i^{−b} over the 1-based window [lo, hi] of the
 * modes sorted by λ descending (default: every mode above tol) and report (b − 1)/a.
 */
export function lossExponent(state: ModalState, opts: { lo?: number; hi?: number } = {}): LossExponent {
  checkState(state, 'lossExponent');
  const order = Array.from(state.lambda.keys()).sort((i, j) => state.lambda[j] - state.lambda[i]);
  const lam = Float64Array.from(order, (i) => state.lambda[i]);
  const c2 = Float64Array.from(order, (i) => state.coeff2[i]);
  let learnable = 0;
  while (learnable < lam.length && lam[learnable] > state.tol) learnable++;
  const lo = opts.lo ?? 1;
  const hi = opts.hi ?? learnable;
  if (hi > learnable) throw new RangeError(`lossExponent: window hi = ${hi} exceeds the ${learnable} modes above tol = ${state.tol}`);
  const fa = fitDecay(lam, lo, hi);
  const fb = fitDecay(c2, lo, hi, { grid: 'dense' });
  const a = fa.exponent;
  const b = fb.exponent;
  return {
    lambdaExponent: a,
    energyExponent: b,
    exponent: a > 0 && b > 1 ? (b - 1) / a : NaN,
    lambdaR2: fa.r2,
    energyR2: fb.r2,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-entropy: RK4 on df/ds = −η_eff K (1/n) vec(softmax(f) − Y) (docs/science.md A9).

/** A cross-entropy anchor: full kernel (N×N, N = n·C, sample-major, raw), logits and targets (length N). */
export interface CeProblem {
  kernel: Float64Array;
  logits: Float64Array;
  targets: Float64Array;
  samples: number;
  outputs: number;
}

export interface CeSolveOptions {
  /** λ_1 of K; computed by power iteration when absent. */
  lambdaMax?: number;
  /** Refuse (RangeError) when more RK4 steps than this would be needed. Default 100 000. */
  maxSteps?: number;
  /**
   * Extra cap on the RK4 step (default none). The A9 rule h = min(1/σ, H/100) gives ≈ 1e-5 relative accuracy on
   * the loss when σh ≈ 1 (measured on the closed-form binary case); RK4 error falls as h⁴ below that.
   */
  maxStep?: number;
}

/** Trajectory values at the requested steps (same order as requested). */
export interface CeTrajectory {
  steps: Float64Array;
  /** Mean CE loss (1/n) Σ_i ℓ_CE(z_i, y_i). */
  loss: Float64Array;
  /** −dL/ds = (η_eff/n²) gᵀ K g with g = vec(softmax(f) − Y), exact at each step (chain rule through the ODE). */
  gain: Float64Array;
}

function checkCe(p: CeProblem, where: string): number {
  const { samples: n, outputs: C } = p;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(C) || C < 1) {
    throw new RangeError(`${where}: samples and outputs must be positive integers, got n = ${n}, C = ${C}`);
  }
  const N = n * C;
  if (p.kernel.length !== N * N) throw new RangeError(`${where}: kernel has ${p.kernel.length} entries, expected N² = ${N * N} (N = n·C = ${N})`);
  if (p.logits.length !== N) throw new RangeError(`${where}: logits have ${p.logits.length} entries, expected N = ${N}`);
  if (p.targets.length !== N) throw new RangeError(`${where}: targets have ${p.targets.length} entries, expected N = ${N}`);
  return N;
}

/** Softmax per sample minus targets (into g) and the mean CE loss. */
function ceResidual(f: Float64Array, y: Float64Array, n: number, C: number, g: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (f[o + c] > m) m = f[o + c];
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(f[o + c] - m);
    const lse = m + Math.log(z);
    let ysum = 0;
    let yf = 0;
    for (let c = 0; c < C; c++) {
      g[o + c] = Math.exp(f[o + c] - lse) - y[o + c];
      ysum += y[o + c];
      yf += y[o + c] * f[o + c];
    }
    // −Σ_c y_c log p_c = lse·Σy − y·f (one-hot: lse − f_y).
    loss += lse * ysum - yf;
  }
  return loss / n;
}

function matVec(k: Float64Array, N: number, x: Float64Array, out: Float64Array): void {
  for (let i = 0; i < N; i++) {
    const r = i * N;
    let s = 0;
    for (let j = 0; j < N; j++) s += k[r + j] * x[j];
    out[i] = s;
  }
}

/**
 * λ_1 of a symmetric PSD matrix by power iteration from a fixed start (no randomness needed here: only a step
 * bound comes from it, and RK4 stays stable up to σh ≈ 2.8, so a few % under-estimate is harmless).
 */
export function powerLambdaMax(k: Float64Array, N: number, iterations = 60): number {
  let x = new Float64Array(N);
  for (let i = 0; i < N; i++) x[i] = 1 + (i % 7) / 7;
  let y = new Float64Array(N);
  let lam = 0;
  for (let it = 0; it < iterations; it++) {
    let nx = 0;
    for (let i = 0; i < N; i++) nx += x[i] * x[i];
    nx = Math.sqrt(nx);
    if (nx === 0) return 0;
    for (let i = 0; i < N; i++) x[i] /= nx;
    matVec(k, N, x, y);
    let r = 0;
    for (let i = 0; i < N; i++) r += x[i] * y[i];
    lam = r;
    [x, y] = [y, x];
  }
  return lam;
}

/**
 * Integrates the CE function-space ODE from the anchor (Δ = 0) and returns loss and gain at each requested
 * Δ ≥ 0. Step h = min(1/σ, H/100) with σ = η_eff λ_1/(2n) and H = max(steps) (docs/science.md A9), shortened so every
 * requested step is hit exactly. Cost ≈ 4 N² per RK4 step.
 */
export function solveCeTrajectory(problem: CeProblem, etaEff: number, steps: ArrayLike<number>, opts: CeSolveOptions = {}): CeTrajectory {
  const N = checkCe(problem, 'solveCeTrajectory');
  if (!(etaEff > 0) || !Number.isFinite(etaEff)) throw new RangeError(`solveCeTrajectory: η_eff must be finite and > 0, got ${etaEff}`);
  const n = problem.samples;
  const C = problem.outputs;
  const order = Array.from({ length: steps.length }, (_, i) => i).sort((i, j) => steps[i] - steps[j]);
  let H = 0;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`solveCeTrajectory: steps must be finite and ≥ 0, got steps[${i}] = ${s}`);
    if (s > H) H = s;
  }
  const lambdaMax = opts.lambdaMax ?? powerLambdaMax(problem.kernel, N);
  if (!(lambdaMax >= 0) || !Number.isFinite(lambdaMax)) throw new RangeError(`solveCeTrajectory: λ_1 must be finite and ≥ 0, got ${lambdaMax}`);
  const sigma = (etaEff * lambdaMax) / (2 * n);
  const hMax = Math.min(sigma > 0 ? 1 / sigma : Infinity, H > 0 ? H / 100 : Infinity, opts.maxStep ?? Infinity);
  if (!(hMax > 0)) throw new RangeError(`solveCeTrajectory: RK4 step cap must be > 0, got maxStep = ${opts.maxStep}`);
  const maxSteps = opts.maxSteps ?? 100_000;
  if (H > 0 && H / hMax > maxSteps + 1) {
    throw new RangeError(`solveCeTrajectory: horizon ${H} needs ${Math.ceil(H / hMax)} RK4 steps (σ = ${sigma}), more than maxSteps = ${maxSteps}`);
  }

  const k = problem.kernel;
  const y = problem.targets;
  const scale = -etaEff / n;
  const f = Float64Array.from(problem.logits);
  const g = new Float64Array(N);
  const tmp = new Float64Array(N);
  const k1 = new Float64Array(N);
  const k2 = new Float64Array(N);
  const k3 = new Float64Array(N);
  const k4 = new Float64Array(N);
  const rhs = (x: Float64Array, out: Float64Array): void => {
    ceResidual(x, y, n, C, g);
    matVec(k, N, g, out);
    for (let i = 0; i < N; i++) out[i] *= scale;
  };
  const measure = (): [number, number] => {
    const loss = ceResidual(f, y, n, C, g);
    matVec(k, N, g, tmp);
    let q = 0;
    for (let i = 0; i < N; i++) q += g[i] * tmp[i];
    return [loss, (etaEff * q) / (n * n)];
  };

  const out: CeTrajectory = { steps: Float64Array.from(steps), loss: new Float64Array(steps.length), gain: new Float64Array(steps.length) };
  let t = 0;
  for (const idx of order) {
    const target = steps[idx];
    const span = target - t;
    if (span > 0) {
      const m = Math.ceil(span / hMax - 1e-12);
      const h = span / m;
      for (let s = 0; s < m; s++) {
        rhs(f, k1);
        for (let i = 0; i < N; i++) tmp[i] = f[i] + 0.5 * h * k1[i];
        rhs(tmp, k2);
        for (let i = 0; i < N; i++) tmp[i] = f[i] + 0.5 * h * k2[i];
        rhs(tmp, k3);
        for (let i = 0; i < N; i++) tmp[i] = f[i] + h * k3[i];
        rhs(tmp, k4);
        for (let i = 0; i < N; i++) f[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
      }
      t = target;
    }
    const [loss, gain] = measure();
    out.loss[idx] = loss;
    out.gain[idx] = gain;
  }
  return out;
}

/**
 * docs/science.md A9 (CE): mean CE loss at each requested step Δ ≥ 0 after the anchor, by RK4 on
 * df/ds = −η_eff K (1/n) vec(softmax(f) − Y). `targetsOneHot`, `logits0` are length n·C, sample-major; `k` is the
 * raw full kernel. λ_1 is computed by power iteration when not given.
 */
export function predictCeLoss(
  k: Float64Array,
  logits0: Float64Array,
  targetsOneHot: Float64Array,
  n: number,
  C: number,
  etaEff: number,
  steps: number[],
  lambdaMax?: number,
): Float64Array {
  const opts: CeSolveOptions = lambdaMax === undefined ? {} : { lambdaMax };
  return solveCeTrajectory({ kernel: k, logits: logits0, targets: targetsOneHot, samples: n, outputs: C }, etaEff, steps, opts).loss;
}
