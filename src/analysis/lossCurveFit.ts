/**
 * Observed-curve fallback of docs/science.md A14: when the kernel model is not valid, KESS is computed on a fit
 * L(s) = L_∞ + A·(s + offset)^{−b} of the observed (step, loss) points, with L_∞ ≥ 0, A ≥ 0, b > 0.
 * For fixed b the model is linear in (L_∞, A): a two-variable non-negative least squares solved exactly (interior
 * or one of the two edges); b is found by a log-grid scan then golden section on ln b.
 */
import { rSquared, scanGoldenMinimum } from './scanGoldenMinimum.js';
import type { LossCurve } from './kess.js';

export interface PowerLawLossFit {
  Linf: number;
  A: number;
  b: number;
  offset: number;
  /** R² of L (linear scale) over the points used. */
  r2: number;
  /** Points used (step + offset > 0, finite loss, not excluded). */
  points: number;
  /** L(s) and g(s) = A·b·(s + offset)^{−b−1}; +∞ loss for s + offset ≤ 0. */
  curve: LossCurve;
}

export interface PowerLawFitOptions {
  /** Shift of the step axis (default 0, the A14 form L_∞ + A s^{−b}; 1 gives A(s+1)^{−b}). */
  offset?: number;
  /** Search range of b (default [1e-3, 5]). */
  bRange?: readonly [number, number];
  /** true = excluded (spike-flagged), same order as the points. */
  exclude?: ArrayLike<boolean>;
}

/** Minimum points for the 3-parameter fit. */
export const POWER_FIT_MIN_POINTS = 4;
const B_SCAN = 60;
const LN_B_TOL = 1e-9;

interface LinearFit {
  Linf: number;
  A: number;
  sse: number;
}

/** min Σ(y − L − A x)² over L ≥ 0, A ≥ 0. */
function nonNegativeLine(x: Float64Array, y: Float64Array): LinearFit {
  const m = x.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < m; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / m;
  const my = sy / m;
  let sxx = 0;
  let sxy = 0;
  let sxxRaw = 0;
  let sxyRaw = 0;
  for (let i = 0; i < m; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    sxxRaw += x[i] * x[i];
    sxyRaw += x[i] * y[i];
  }
  const sse = (L: number, A: number): number => {
    let s = 0;
    for (let i = 0; i < m; i++) s += (y[i] - L - A * x[i]) ** 2;
    return s;
  };
  const candidates: Array<[number, number]> = [];
  if (sxx > 0) {
    const A = sxy / sxx;
    const L = my - A * mx;
    if (A >= 0 && L >= 0) candidates.push([L, A]);
  }
  candidates.push([0, sxxRaw > 0 ? Math.max(0, sxyRaw / sxxRaw) : 0]);
  candidates.push([Math.max(0, my), 0]);
  let best: LinearFit = { Linf: 0, A: 0, sse: Infinity };
  for (const [L, A] of candidates) {
    const v = sse(L, A);
    if (v < best.sse) best = { Linf: L, A, sse: v };
  }
  return best;
}

/**
 * Fits L_∞ + A·(s + offset)^{−b} to the points (docs/science.md A14). undefined with fewer than 4 usable points.
 */
export function fitPowerLawLoss(points: ReadonlyArray<{ step: number; loss: number }>, opts: PowerLawFitOptions = {}): PowerLawLossFit | undefined {
  const offset = opts.offset ?? 0;
  const [bLo, bHi] = opts.bRange ?? [1e-3, 5];
  if (!(bLo > 0) || !(bHi > bLo) || !Number.isFinite(bHi)) throw new RangeError(`fitPowerLawLoss: bad b range [${bLo}, ${bHi}]`);
  if (!Number.isFinite(offset)) throw new RangeError(`fitPowerLawLoss: offset must be finite, got ${offset}`);
  if (opts.exclude !== undefined && opts.exclude.length !== points.length) {
    throw new RangeError(`fitPowerLawLoss: exclude mask has ${opts.exclude.length} entries for ${points.length} points`);
  }
  const ts: number[] = [];
  const ls: number[] = [];
  for (let j = 0; j < points.length; j++) {
    const t = points[j].step + offset;
    const l = points[j].loss;
    if (!(t > 0) || !Number.isFinite(t) || !Number.isFinite(l) || opts.exclude?.[j] === true) continue;
    ts.push(t);
    ls.push(l);
  }
  const m = ts.length;
  if (m < POWER_FIT_MIN_POINTS) return undefined;
  const lnT = Float64Array.from(ts, Math.log);
  const y = Float64Array.from(ls);
  const x = new Float64Array(m);
  const solve = (lnB: number): LinearFit => {
    const b = Math.exp(lnB);
    for (let i = 0; i < m; i++) x[i] = Math.exp(-b * lnT[i]);
    return nonNegativeLine(x, y);
  };

  const lo = Math.log(bLo);
  const hi = Math.log(bHi);
  const lnB = scanGoldenMinimum((v) => solve(v).sse, lo, hi, B_SCAN, LN_B_TOL).x;
  const fit = solve(lnB);
  const bHat = Math.exp(lnB);
  const { Linf, A } = fit;
  return {
    Linf,
    A,
    b: bHat,
    offset,
    r2: rSquared(fit.sse, y),
    points: m,
    curve: {
      loss: (s: number) => (s + offset > 0 ? Linf + A * (s + offset) ** -bHat : Infinity),
      gain: (s: number) => (s + offset > 0 ? A * bHat * (s + offset) ** (-bHat - 1) : Infinity),
    },
  };
}

/** Smoothed current loss: the median of the last `count` losses by step (default 5); undefined when empty. */
export function smoothLoss(points: ReadonlyArray<{ step: number; loss: number }>, count = 5): number | undefined {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`smoothLoss: count must be a positive integer, got ${count}`);
  const last = [...points]
    .sort((p, q) => p.step - q.step)
    .slice(-count)
    .map((p) => p.loss)
    .filter((l) => Number.isFinite(l))
    .sort((p, q) => p - q);
  if (last.length === 0) return undefined;
  const h = last.length >> 1;
  return last.length % 2 === 1 ? last[h] : 0.5 * (last[h - 1] + last[h]);
}
