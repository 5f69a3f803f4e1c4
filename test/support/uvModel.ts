/**
 * The uv-model of Lewkowycz et al. (docs/science.md C10): f = m^{−1/2} vᵀu with x = 1, y = 0, L = f²/2 and the scalar
 * NTK λ = (‖u‖² + ‖v‖²)/m. Full-batch GD on (u, v) closes exactly on (f, λ):
 *   f_{t+1} = f_t (1 − ηλ_t + η² f_t²/m)
 *   λ_{t+1} = λ_t + (η f_t²/m)(ηλ_t − 4)
 * Lazy for ηλ₀ < 2, catapult (loss spike, then λ falls below 2/η and the run converges) for 2 < ηλ₀ < 4,
 * divergence above 4. Used as a deterministic catapult source for detector and policy tests.
 */
import { mulberry32, normalArray } from '../../src/random.js';

export interface UvState {
  f: number;
  lambda: number;
}

/** Initial (f, λ) from u, v ~ N(0, I_m) drawn with the seeded generator (src/random.ts). */
export function uvInit(m: number, seed: number): UvState {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`uv-model width m must be a positive integer, got ${m}`);
  const rng = mulberry32(seed);
  const u = normalArray(rng, m);
  const v = normalArray(rng, m);
  let uv = 0;
  let norms = 0;
  for (let i = 0; i < m; i++) {
    uv += u[i] * v[i];
    norms += u[i] * u[i] + v[i] * v[i];
  }
  return { f: uv / Math.sqrt(m), lambda: norms / m };
}

/** One exact GD step of the (f, λ) recursion (docs/science.md C10). */
export function uvStep(s: UvState, eta: number, m: number): UvState {
  const f2m = (s.f * s.f) / m;
  return {
    f: s.f * (1 - eta * s.lambda + eta * eta * f2m),
    lambda: s.lambda + eta * f2m * (eta * s.lambda - 4),
  };
}

export interface UvTrajectory {
  m: number;
  /** η = etaLambda0/λ₀. */
  eta: number;
  /** Per step t = 0..steps: f_t, λ_t and L_t = f_t²/2. Once f overflows the values are ±Infinity/NaN. */
  f: Float64Array;
  lambda: Float64Array;
  loss: Float64Array;
}

/** Runs `steps` GD steps from `init` with the learning rate chosen so that ηλ₀ = etaLambda0. */
export function simulateUv(init: UvState, m: number, etaLambda0: number, steps: number): UvTrajectory {
  if (!(init.lambda > 0)) throw new RangeError(`uv-model λ₀ must be positive, got ${init.lambda}`);
  if (!(etaLambda0 > 0)) throw new RangeError(`ηλ₀ must be positive, got ${etaLambda0}`);
  const eta = etaLambda0 / init.lambda;
  const f = new Float64Array(steps + 1);
  const lambda = new Float64Array(steps + 1);
  const loss = new Float64Array(steps + 1);
  let s = init;
  for (let t = 0; t <= steps; t++) {
    f[t] = s.f;
    lambda[t] = s.lambda;
    loss[t] = (s.f * s.f) / 2;
    s = uvStep(s, eta, m);
  }
  return { m, eta, f, lambda, loss };
}
