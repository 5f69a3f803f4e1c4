/**
 * Power-law summaries of an eigenvalue list (docs/science.md A3).
 *
 * Two conventions, both exported by the sidecar:
 * - rank-ordered decay λ_i ≈ A·i^(−s): OLS of ln λ_i on ln i over a log-spaced index grid;
 * - spectral density p(λ) ∝ λ^(−α) (WeightWatcher / powerlaw.Fit): Hill MLE with x_min chosen by the
 *   minimum Kolmogorov–Smirnov distance (Clauset–Shalizi–Newman).
 * For an exact power law α = 1 + 1/s. Indices are 1-based in every formula (λ_1 is values[0]).
 */

/** Default number of log-spaced grid points (docs/science.md A3: "≈ 32 integers"). */
export const DECAY_GRID_POINTS = 32;
/** Fewer distinct grid points than this and the decay fit is NaN (docs/science.md A3). */
export const DECAY_MIN_POINTS = 10;

export interface DecayFit {
  /** s = −slope of ln λ on ln i (NaN when the window has too few usable points). */
  exponent: number;
  /** ln A, the intercept. */
  intercept: number;
  /** R² of the OLS fit on the grid points. */
  r2: number;
  /** Largest |ln λ_i − fitted| over the grid. */
  maxAbsResidual: number;
  /** Window actually used (1-based, inclusive). */
  lo: number;
  hi: number;
  /** Number of grid points that entered the fit. */
  points: number;
  /** Robust Theil–Sen estimate of s on the same points (median of pairwise slopes), if requested. */
  theilSen?: number;
}

export interface DecayFitOptions {
  /** 'log' (default): ≈ `points` integers geometrically spaced in [lo, hi]; 'dense': every index. */
  grid?: 'log' | 'dense';
  /** Grid size for the log grid (default 32). */
  points?: number;
  /** Also compute the Theil–Sen slope (O(points²)). */
  theilSen?: boolean;
}

/**
 * The log-spaced index grid of docs/science.md A3: round(exp(linspace(ln lo, ln hi, points))), deduplicated,
 * ascending. Matches numpy's unique(round(geomspace(lo, hi, points))) (the C3 oracle was computed so).
 */
export function logIndexGrid(lo: number, hi: number, points: number = DECAY_GRID_POINTS): Int32Array {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) {
    throw new RangeError(`logIndexGrid: need integers 1 ≤ lo ≤ hi, got lo = ${lo}, hi = ${hi}`);
  }
  if (!Number.isInteger(points) || points < 2) throw new RangeError(`logIndexGrid: points must be an integer ≥ 2, got ${points}`);
  const out: number[] = [];
  const a = Math.log(lo);
  const b = Math.log(hi);
  for (let t = 0; t < points; t++) {
    // Endpoints exactly, as geomspace does.
    const x = t === 0 ? lo : t === points - 1 ? hi : Math.round(Math.exp(a + ((b - a) * t) / (points - 1)));
    if (out.length === 0 || x > out[out.length - 1]) out.push(x);
  }
  return Int32Array.from(out);
}

/**
 * Fits λ_i ≈ A·i^(−s) on the window [lo, hi] (1-based, inclusive) of `values` (descending).
 * Indices whose λ is not positive are skipped (ln undefined); fewer than 10 usable points → NaN fit.
 */
export function fitDecay(values: ArrayLike<number>, lo: number, hi: number, opts: DecayFitOptions = {}): DecayFit {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > values.length) {
    throw new RangeError(`fitDecay: window [${lo}, ${hi}] must be integers inside [1, ${values.length}]`);
  }
  const empty: DecayFit = { exponent: NaN, intercept: NaN, r2: NaN, maxAbsResidual: NaN, lo, hi, points: 0 };
  if (hi < lo) return empty;
  let idx: ArrayLike<number>;
  if (opts.grid === 'dense') {
    const all = new Int32Array(hi - lo + 1);
    for (let i = 0; i < all.length; i++) all[i] = lo + i;
    idx = all;
  } else {
    idx = logIndexGrid(lo, hi, opts.points ?? DECAY_GRID_POINTS);
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let t = 0; t < idx.length; t++) {
    const v = values[idx[t] - 1];
    if (v > 0 && Number.isFinite(v)) {
      xs.push(Math.log(idx[t]));
      ys.push(Math.log(v));
    }
  }
  const m = xs.length;
  if (m < DECAY_MIN_POINTS) return { ...empty, points: m };
  // Centred OLS (better conditioned than the normal equations in raw form).
  let mx = 0;
  let my = 0;
  for (let t = 0; t < m; t++) {
    mx += xs[t];
    my += ys[t];
  }
  mx /= m;
  my /= m;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let t = 0; t < m; t++) {
    const dx = xs[t] - mx;
    const dy = ys[t] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  let maxRes = 0;
  for (let t = 0; t < m; t++) {
    const r = ys[t] - (intercept + slope * xs[t]);
    sse += r * r;
    if (Math.abs(r) > maxRes) maxRes = Math.abs(r);
  }
  // Sums below the rounding floor count as 0 (issue 11): an exact fit, flat spectrum included, has R² = 1, not
  // 0/0 or the ratio of two rounding errors. OLS has SSE ≤ S_yy, so a flat series is always fitted exactly.
  let scale = 1;
  for (let t = 0; t < m; t++) scale = Math.max(scale, Math.abs(ys[t]));
  const floor = m * (1e-12 * scale) ** 2;
  const r2 = sse <= floor || syy <= floor ? 1 : 1 - sse / syy;
  const fit: DecayFit = { exponent: -slope, intercept, r2, maxAbsResidual: maxRes, lo, hi, points: m };
  if (opts.theilSen) fit.theilSen = -theilSenSlope(xs, ys);
  return fit;
}

/** Median of pairwise slopes (y_j − y_i)/(x_j − x_i) over pairs with distinct x. */
export function theilSenSlope(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = xs[j] - xs[i];
      if (dx !== 0) slopes.push((ys[j] - ys[i]) / dx);
    }
  }
  if (slopes.length === 0) return NaN;
  slopes.sort((a, b) => a - b);
  const h = slopes.length >> 1;
  return slopes.length % 2 === 1 ? slopes[h] : 0.5 * (slopes[h - 1] + slopes[h]);
}

/**
 * Default decay window of docs/science.md A3: i_lo = max(C + 1, 2),
 * i_hi = min(⌊r_num/2⌋, max{i : λ_i ≥ 100·tol}) — capped at the number of values available.
 */
export function defaultDecayWindow(
  values: ArrayLike<number>,
  outputs: number,
  numericalRank: number,
  tolerance: number,
): { lo: number; hi: number } {
  const lo = Math.max(outputs + 1, 2);
  let above = 0;
  for (let i = 0; i < values.length; i++) if (values[i] >= 100 * tolerance) above = i + 1;
  const hi = Math.min(Math.floor(numericalRank / 2), above, values.length);
  return { lo, hi };
}

export interface EsdFit {
  /** Density exponent α of p(λ) ∝ λ^(−α) (Hill MLE at the chosen x_min); NaN if no candidate. */
  alpha: number;
  /** KS distance between the tail's empirical CDF and the fitted power law. */
  ks: number;
  /** Chosen lower cut-off. */
  xmin: number;
  /** Number of values ≥ x_min used in the fit. */
  tail: number;
}

/**
 * Hill / continuous power-law MLE for a fixed x_min: α̂ = 1 + k / Σ_{λ_i ≥ x_min} ln(λ_i/x_min)
 * (docs/science.md A3). Non-positive values are ignored.
 */
export function hillAlpha(values: ArrayLike<number>, xmin: number): { alpha: number; tail: number } {
  if (!(xmin > 0)) throw new RangeError(`hillAlpha: x_min must be positive, got ${xmin}`);
  let k = 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= xmin) {
      k++;
      s += Math.log(v / xmin);
    }
  }
  return { alpha: s > 0 ? 1 + k / s : NaN, tail: k };
}

export interface EsdFitOptions {
  /** Smallest tail size considered for x_min (default 10): tiny tails give spuriously small KS distances. */
  minTail?: number;
}

/**
 * Clauset–Shalizi–Newman fit as WeightWatcher's `powerlaw.Fit` does it: every distinct positive value
 * (leaving at least `minTail` values in the tail) is a candidate x_min; α is the Hill MLE for that tail
 * and the KS distance D = sup |F_emp − F_fit| with F_fit(x) = 1 − (x/x_min)^(1−α). The candidate with the
 * smallest D wins. Unlike powerlaw.Fit(xmax = λ_max) we do not renormalise to a truncated law; with
 * xmax equal to the largest sample the MLE difference is O(1/k). Cost O(m²) for m positive values.
 */
export function fitEsdPowerLaw(values: ArrayLike<number>, opts: EsdFitOptions = {}): EsdFit {
  const minTail = Math.max(2, opts.minTail ?? 10);
  const pos: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > 0 && Number.isFinite(values[i])) pos.push(values[i]);
  pos.sort((a, b) => b - a); // descending: the tail for x_min = pos[k−1] is pos[0..k−1]
  const m = pos.length;
  const best: EsdFit = { alpha: NaN, ks: NaN, xmin: NaN, tail: 0 };
  if (m < minTail) return best;
  // Prefix sums of ln λ give Σ ln(λ_i/x_min) for every candidate in O(1); the model CDF is evaluated as
  // exp((1 − α)(ln x − ln x_min)) from the same logs (Math.pow is several times slower).
  const lx = new Float64Array(m);
  const logs = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    lx[i] = Math.log(pos[i]);
    logs[i + 1] = logs[i] + lx[i];
  }
  let bestD = Infinity;
  for (let k = minTail; k <= m; k++) {
    // Candidate x_min = pos[k−1]; take all ties with it so the tail is {λ ≥ x_min}.
    if (k < m && pos[k] === pos[k - 1]) continue;
    const lmin = lx[k - 1];
    const sumLog = logs[k] - k * lmin;
    if (!(sumLog > 0)) continue;
    const alpha = 1 + k / sumLog;
    const e1 = 1 - alpha;
    // Ascending order inside the tail is pos[k−1], pos[k−2], …, pos[0].
    let d = 0;
    for (let r = 0; r < k; r++) {
      const f = 1 - Math.exp(e1 * (lx[k - 1 - r] - lmin));
      const dd = Math.max(Math.abs(f - r / k), Math.abs((r + 1) / k - f));
      if (dd > d) {
        d = dd;
        if (d >= bestD) break; // cannot win any more
      }
    }
    if (d < bestD) {
      bestD = d;
      best.alpha = alpha;
      best.ks = d;
      best.xmin = pos[k - 1];
      best.tail = k;
    }
  }
  return best;
}
