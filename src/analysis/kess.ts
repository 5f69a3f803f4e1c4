/**
 * KESS, the Kernel Economical Sweet Spot (docs/science.md A12), on any loss curve L(s) with gain g(s) = −dL/ds:
 * K2 (default, marginal < ρ × average), K1 (fraction of achievable gain), K3 (price), K4 (Kneedle, report only).
 * First crossings are found robustly: a geometric scan of s − start (so a crossing at 1e-6 and one at 1e9 are both
 * resolved), then bisection of the first bracket to relative precision ~1e-13.
 */

/** A loss curve in network steps (or any time unit): L(s) and g(s) = −dL/ds. */
export interface LossCurve {
  loss(s: number): number;
  gain(s: number): number;
}

/** Scan density (points per decade of s − start). */
const PER_DECADE = 32;
/** Smallest offset scanned: min(1e-6, 1e-9·span); below it roundoff in L(s0) − L(s) dominates. */
const MIN_DELTA_ABS = 1e-6;
const MIN_DELTA_REL = 1e-9;
const BISECT_REL = 1e-13;

function checkRange(where: string, start: number, sMax: number): void {
  if (!Number.isFinite(start) || !Number.isFinite(sMax) || !(sMax > start)) {
    throw new RangeError(`${where}: need finite start < sMax, got start = ${start}, sMax = ${sMax}`);
  }
}

/**
 * Smallest s in (start, sMax] (or [start, sMax] with includeStart) where cond(s) = h(s) ≤ 0, to bisection
 * precision; undefined when the scan finds none. NaN values of h count as "not yet".
 */
export function firstCrossing(h: (s: number) => number, start: number, sMax: number, includeStart: boolean): number | undefined {
  checkRange('firstCrossing', start, sMax);
  if (includeStart && h(start) <= 0) return start;
  const span = sMax - start;
  const d0 = Math.min(MIN_DELTA_ABS, MIN_DELTA_REL * span);
  const decades = Math.log10(span / d0);
  const count = Math.max(2, Math.ceil(decades * PER_DECADE) + 1);
  let prev = start;
  for (let i = 0; i < count; i++) {
    const s = i === count - 1 ? sMax : start + d0 * 10 ** ((decades * i) / (count - 1));
    if (h(s) <= 0) {
      let a = prev;
      let b = s;
      for (let it = 0; it < 200 && b - a > BISECT_REL * Math.max(1, Math.abs(b)); it++) {
        const m = 0.5 * (a + b);
        if (h(m) <= 0) b = m;
        else a = m;
      }
      return b;
    }
    prev = s;
  }
  return undefined;
}

export interface KessK2Options {
  /** ρ (default 0.1, docs/science.md A12). */
  rho?: number;
  /** s_0, start of training (default 0). */
  s0?: number;
  /** L(s_0); default curve.loss(s0). Set it when the curve does not cover s_0 (stitched or power-law curves). */
  L0?: number;
  /** Search starts here (default s0); when from > s0 the condition already holding at `from` returns `from`. */
  from?: number;
  sMax: number;
}

/**
 * K2 (default): s* = min{s > s0 : g(s)(s − s0) ≤ ρ (L(s0) − L(s))} (docs/science.md A12). undefined when it does not
 * happen by sMax.
 */
export function kessK2(curve: LossCurve, opts: KessK2Options): number | undefined {
  const rho = opts.rho ?? 0.1;
  if (!(rho > 0) || !Number.isFinite(rho)) throw new RangeError(`kessK2: ρ must be finite and > 0, got ${rho}`);
  const s0 = opts.s0 ?? 0;
  const from = opts.from ?? s0;
  if (!(from >= s0)) throw new RangeError(`kessK2: search start ${from} is before s0 = ${s0}`);
  const L0 = opts.L0 ?? curve.loss(s0);
  return firstCrossing((s) => curve.gain(s) * (s - s0) - rho * (L0 - curve.loss(s)), from, opts.sMax, from > s0);
}

export interface KessK1Options {
  /** ε (default 0.05). */
  eps?: number;
  /** L_∞: the null-space floor (A9) or L(s0 + H_max) under a budget horizon. */
  Linf: number;
  s0?: number;
  L0?: number;
  sMax: number;
}

/**
 * K1: s* = min{s ≥ s0 : (L(s) − L_∞)/(L(s0) − L_∞) ≤ ε} (docs/science.md A12). undefined when L(s0) ≤ L_∞ (nothing to
 * gain) or not reached by sMax.
 */
export function kessK1(curve: LossCurve, opts: KessK1Options): number | undefined {
  const eps = opts.eps ?? 0.05;
  if (!(eps > 0 && eps < 1)) throw new RangeError(`kessK1: ε must be in (0, 1), got ${eps}`);
  if (!Number.isFinite(opts.Linf)) throw new RangeError(`kessK1: L_∞ must be finite, got ${opts.Linf}`);
  const s0 = opts.s0 ?? 0;
  const L0 = opts.L0 ?? curve.loss(s0);
  if (!(L0 > opts.Linf)) return undefined;
  const target = opts.Linf + eps * (L0 - opts.Linf);
  return firstCrossing((s) => curve.loss(s) - target, s0, opts.sMax, true);
}

export interface KessK3Options {
  /** p, loss units per step. */
  price: number;
  s0?: number;
  sMax: number;
}

/** K3: s* = min{s ≥ s0 : g(s) ≤ p} (docs/science.md A12). */
export function kessK3(curve: LossCurve, opts: KessK3Options): number | undefined {
  if (!(opts.price >= 0) || !Number.isFinite(opts.price)) throw new RangeError(`kessK3: price must be finite and ≥ 0, got ${opts.price}`);
  return firstCrossing((s) => curve.gain(s) - opts.price, opts.s0 ?? 0, opts.sMax, true);
}

export interface KessK4Options {
  /** Range [sMin, sMax] of the knee search, sMin > 0 (log scale). */
  sMin: number;
  sMax: number;
  /** Grid points, log-spaced (default 1001). */
  points?: number;
}

/**
 * K4 (report only): Kneedle knee of the normalized (log10 s, L) curve on a log-spaced grid (docs/science.md A12):
 * both axes min–max normalized, knee = grid point of largest (chord − curve), the "convex decreasing" Kneedle
 * difference. undefined when the curve is flat or nowhere below its chord.
 */
export function kessK4(curve: LossCurve | ((s: number) => number), opts: KessK4Options): number | undefined {
  const points = opts.points ?? 1001;
  if (!(opts.sMin > 0) || !(opts.sMax > opts.sMin) || !Number.isFinite(opts.sMax)) {
    throw new RangeError(`kessK4: need 0 < sMin < sMax, got sMin = ${opts.sMin}, sMax = ${opts.sMax}`);
  }
  if (!Number.isInteger(points) || points < 3) throw new RangeError(`kessK4: points must be an integer ≥ 3, got ${points}`);
  const L = typeof curve === 'function' ? curve : (s: number) => curve.loss(s);
  const x0 = Math.log10(opts.sMin);
  const x1 = Math.log10(opts.sMax);
  const ys = new Float64Array(points);
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < points; j++) {
    const y = L(10 ** (x0 + ((x1 - x0) * j) / (points - 1)));
    // A diverging prediction (discrete GD past the stability edge) has no knee: K4 is report-only, so say nothing.
    if (!Number.isFinite(y)) return undefined;
    ys[j] = y;
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  if (!(hi > lo)) return undefined;
  const first = (ys[0] - lo) / (hi - lo);
  const last = (ys[points - 1] - lo) / (hi - lo);
  let best = -1;
  let bestD = 0;
  for (let j = 0; j < points; j++) {
    const xn = j / (points - 1);
    const d = first + (last - first) * xn - (ys[j] - lo) / (hi - lo);
    if (d > bestD) {
      bestD = d;
      best = j;
    }
  }
  return best < 0 ? undefined : 10 ** (x0 + ((x1 - x0) * best) / (points - 1));
}

/**
 * A curve tabulated at increasing xs with exact slopes: cubic Hermite interpolation of L using −gain as dL/ds
 * (the RK4 trajectories of A9 give both). Queries outside [xs[0], xs[last]] throw.
 */
export function tabulatedCurve(xs: Float64Array, loss: Float64Array, gain: Float64Array): LossCurve {
  const m = xs.length;
  if (m < 2 || loss.length !== m || gain.length !== m) {
    throw new RangeError(`tabulatedCurve: need ≥ 2 nodes and equal lengths, got xs ${m}, loss ${loss.length}, gain ${gain.length}`);
  }
  for (let i = 1; i < m; i++) {
    if (!(xs[i] > xs[i - 1])) throw new RangeError(`tabulatedCurve: xs must increase, xs[${i - 1}] = ${xs[i - 1]}, xs[${i}] = ${xs[i]}`);
  }
  const locate = (s: number): number => {
    if (!(s >= xs[0] && s <= xs[m - 1])) throw new RangeError(`tabulatedCurve: s = ${s} outside [${xs[0]}, ${xs[m - 1]}]`);
    let a = 0;
    let b = m - 1;
    while (b - a > 1) {
      const c = (a + b) >> 1;
      if (xs[c] <= s) a = c;
      else b = c;
    }
    return a;
  };
  return {
    loss(s: number): number {
      const i = locate(s);
      const h = xs[i + 1] - xs[i];
      const t = (s - xs[i]) / h;
      const t2 = t * t;
      const t3 = t2 * t;
      return (2 * t3 - 3 * t2 + 1) * loss[i] + (t3 - 2 * t2 + t) * h * -gain[i] + (-2 * t3 + 3 * t2) * loss[i + 1] + (t3 - t2) * h * -gain[i + 1];
    },
    gain(s: number): number {
      const i = locate(s);
      const h = xs[i + 1] - xs[i];
      const t = (s - xs[i]) / h;
      const t2 = t * t;
      const dL = ((6 * t2 - 6 * t) * loss[i] + (-6 * t2 + 6 * t) * loss[i + 1]) / h + (3 * t2 - 4 * t + 1) * -gain[i] + (3 * t2 - 2 * t) * -gain[i + 1];
      return -dL;
    },
  };
}
