/**
 * Learning-curve extrapolation with an uncertainty (docs/generalization.md G5), after Domhan, Springenberg & Hutter
 * (IJCAI 2015): a few saturating families are fitted to (step, value) points by least squares, weighted by AICc,
 * and the spread of a prediction combines the between-family spread with a residual bootstrap (seeded RNG passed in).
 *
 * Families (each linear in (c, a) for a fixed shape parameter θ, which is found by scan + golden section on ln θ):
 *   pow3   y = c − a·s^{−θ}          θ ∈ [1e-2, 3]
 *   exp3   y = c − a·e^{−θ s}        θ·s_max ∈ [1e-2, 1e2]
 *   ilog2  y = c − a/ln(s + e)       (no θ)
 * a may take either sign, so a curve that has turned down (overfitting) is fitted as such.
 */
import type { Rng } from '../random.js';
import { scanGoldenMinimum } from './scanGoldenMinimum.js';

export type CurveFamily = 'pow3' | 'exp3' | 'ilog2';
export const CURVE_FAMILIES: readonly CurveFamily[] = ['pow3', 'exp3', 'ilog2'];

export interface CurvePoint {
  step: number;
  value: number;
}

export interface FamilyFit {
  family: CurveFamily;
  c: number;
  a: number;
  /** Shape parameter θ (NaN for ilog2). */
  theta: number;
  sse: number;
  /** Parameters counted in AICc (θ included). */
  params: number;
  aicc: number;
  /** AICc weight, Σ = 1 over the families fitted. */
  weight: number;
}

export interface CurveForecast {
  step: number;
  /** AICc-weighted prediction ŷ(step). */
  value: number;
  /** √(bootstrap variance + between-family variance) of ŷ(step). */
  spread: number;
  /** ŷ(step) − ŷ(reference), the predicted gain, and its spread (same two sources, on the difference). */
  gain: number;
  gainSpread: number;
}

export interface LearningCurveOptions {
  /** Residual-bootstrap replicates (default 64; 0 = family spread only). Needs `rng` when > 0. */
  bootstrap?: number;
  rng?: Rng;
  /** Step the gains are measured from (default: the last point's step). */
  reference?: number;
}

export interface LearningCurveExtrapolation {
  fits: FamilyFit[];
  reference: number;
  referenceValue: number;
  forecasts: CurveForecast[];
  points: number;
  /** Residual standard deviation of the combined fit. */
  residualSd: number;
}

/** Fewest usable points (3 parameters and ≥ 2 degrees of freedom for the AICc correction). */
export const LEARNING_CURVE_MIN_POINTS = 6;
const DEFAULT_BOOTSTRAP = 64;
const SCAN = 48;
const LN_TOL = 1e-8;

function basis(family: CurveFamily, theta: number, s: number): number {
  if (family === 'pow3') return s ** -theta;
  if (family === 'exp3') return Math.exp(-theta * s);
  return 1 / Math.log(s + Math.E);
}

/** min Σ(y − c + a x)² over (c, a): the line y = c − a·x. */
function line(x: Float64Array, y: Float64Array): { c: number; a: number; sse: number } {
  const m = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < m; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= m;
  my /= m;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const c = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < m; i++) sse += (y[i] - c - slope * x[i]) ** 2;
  return { c, a: -slope, sse };
}

function fitFamily(family: CurveFamily, s: Float64Array, y: Float64Array): Omit<FamilyFit, 'aicc' | 'weight'> {
  const m = s.length;
  const x = new Float64Array(m);
  const at = (theta: number) => {
    for (let i = 0; i < m; i++) x[i] = basis(family, theta, s[i]);
    return line(x, y);
  };
  if (family === 'ilog2') return { family, theta: NaN, params: 2, ...at(NaN) };
  let lo: number;
  let hi: number;
  if (family === 'pow3') {
    lo = Math.log(1e-2);
    hi = Math.log(3);
  } else {
    const smax = s[m - 1];
    lo = Math.log(1e-2 / smax);
    hi = Math.log(1e2 / smax);
  }
  const u = scanGoldenMinimum((v) => at(Math.exp(v)).sse, lo, hi, SCAN, LN_TOL).x;
  const theta = Math.exp(u);
  return { family, theta, params: 3, ...at(theta) };
}

/** ŷ(s) of one family fit. */
export function familyValue(fit: Pick<FamilyFit, 'family' | 'c' | 'a' | 'theta'>, s: number): number {
  return fit.c - fit.a * basis(fit.family, fit.theta, s);
}

function sortedPoints(points: readonly CurvePoint[]): { s: Float64Array; y: Float64Array } {
  const ok = points.filter((p) => p.step > 0 && Number.isFinite(p.step) && Number.isFinite(p.value)).sort((a, b) => a.step - b.step);
  return { s: Float64Array.from(ok, (p) => p.step), y: Float64Array.from(ok, (p) => p.value) };
}

function fitAll(s: Float64Array, y: Float64Array): FamilyFit[] {
  const m = s.length;
  let scale = 0;
  for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(y[i]));
  // An exact fit has SSE 0 and AICc −∞: floor it at rounding level so weights stay finite.
  const floor = m * (1e-12 * (1 + scale)) ** 2;
  const fits = CURVE_FAMILIES.map((f) => fitFamily(f, s, y)).map((f) => {
    const k = f.params;
    const aicc = m * Math.log(Math.max(f.sse, floor) / m) + 2 * k + (2 * k * (k + 1)) / (m - k - 1);
    return { ...f, aicc, weight: 0 };
  });
  const best = Math.min(...fits.map((f) => f.aicc));
  let total = 0;
  for (const f of fits) total += f.weight = Math.exp(-(f.aicc - best) / 2);
  for (const f of fits) f.weight /= total;
  return fits;
}

function combined(fits: readonly FamilyFit[], s: number): number {
  let v = 0;
  for (const f of fits) v += f.weight * familyValue(f, s);
  return v;
}

/** The AICc-weighted families fitted to the points (undefined with fewer than LEARNING_CURVE_MIN_POINTS). */
export function fitLearningCurve(points: readonly CurvePoint[]): FamilyFit[] | undefined {
  const { s, y } = sortedPoints(points);
  return s.length < LEARNING_CURVE_MIN_POINTS ? undefined : fitAll(s, y);
}

/**
 * Predicted values at `at` and gains from `reference`, each with a spread (docs/generalization.md G5). Pure: the
 * bootstrap draws come from `rng`. Undefined with fewer than LEARNING_CURVE_MIN_POINTS usable points (step > 0).
 */
export function extrapolateLearningCurve(points: readonly CurvePoint[], at: readonly number[], opts: LearningCurveOptions = {}): LearningCurveExtrapolation | undefined {
  const { s, y } = sortedPoints(points);
  const m = s.length;
  if (m < LEARNING_CURVE_MIN_POINTS) return undefined;
  const B = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  if (!Number.isInteger(B) || B < 0) throw new RangeError(`extrapolateLearningCurve: bootstrap must be an integer ≥ 0, got ${B}`);
  if (B > 0 && opts.rng === undefined) throw new RangeError('extrapolateLearningCurve: a bootstrap needs an rng');
  const ref = opts.reference ?? s[m - 1];
  const fits = fitAll(s, y);
  const refValue = combined(fits, ref);

  // Residuals of the combined fit, centred, for the bootstrap.
  const fitted = Float64Array.from(s, (x) => combined(fits, x));
  const res = Float64Array.from(y, (v, i) => v - fitted[i]);
  let mean = 0;
  for (const r of res) mean += r / m;
  let rss = 0;
  for (let i = 0; i < m; i++) {
    res[i] -= mean;
    rss += res[i] ** 2;
  }
  // Residuals are inflated by √(m/(m − 3)) so the bootstrap is not over-confident on few points.
  const inflate = Math.sqrt(m / (m - 3));

  const T = at.length;
  const bootV = new Float64Array(T);
  const bootG = new Float64Array(T);
  const sumV = new Float64Array(T);
  const sumG = new Float64Array(T);
  const yb = new Float64Array(m);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < m; i++) yb[i] = fitted[i] + inflate * res[Math.min(m - 1, Math.floor((opts.rng as Rng)() * m))];
    const fb = fitAll(s, yb);
    const r0 = combined(fb, ref);
    for (let t = 0; t < T; t++) {
      const v = combined(fb, at[t]);
      sumV[t] += v;
      bootV[t] += v * v;
      sumG[t] += v - r0;
      bootG[t] += (v - r0) ** 2;
    }
  }
  const forecasts: CurveForecast[] = at.map((step, t) => {
    const value = combined(fits, step);
    const gain = value - refValue;
    let famV = 0;
    let famG = 0;
    for (const f of fits) {
      famV += f.weight * (familyValue(f, step) - value) ** 2;
      famG += f.weight * (familyValue(f, step) - familyValue(f, ref) - gain) ** 2;
    }
    const varV = B > 1 ? (bootV[t] - (sumV[t] * sumV[t]) / B) / (B - 1) : 0;
    const varG = B > 1 ? (bootG[t] - (sumG[t] * sumG[t]) / B) / (B - 1) : 0;
    return { step, value, spread: Math.sqrt(Math.max(0, varV) + famV), gain, gainSpread: Math.sqrt(Math.max(0, varG) + famG) };
  });
  return { fits, reference: ref, referenceValue: refValue, forecasts, points: m, residualSd: Math.sqrt(rss / Math.max(1, m - 3)) };
}
