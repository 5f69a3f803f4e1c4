/**
 * Minimum of a 1-D function on [lo, hi] that may have several local minima: a uniform coarse scan picks the best
 * grid point, then golden-section search refines inside the bracket of its neighbours. Used for the log-scale
 * parameters of the loss-curve fit (A14 fallback) and the NTK-time fit (A11). NaN counts as +∞.
 */
export function scanGoldenMinimum(f: (x: number) => number, lo: number, hi: number, scanPoints: number, tol: number): { x: number; value: number } {
  const g = (x: number) => {
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  const step = (hi - lo) / (scanPoints - 1);
  let best = 0;
  let bestVal = Infinity;
  for (let i = 0; i < scanPoints; i++) {
    const v = g(lo + i * step);
    if (v < bestVal) {
      bestVal = v;
      best = i;
    }
  }
  let a = lo + Math.max(0, best - 1) * step;
  let b = lo + Math.min(scanPoints - 1, best + 1) * step;
  const invPhi = (Math.sqrt(5) - 1) / 2;
  let c = b - invPhi * (b - a);
  let d = a + invPhi * (b - a);
  let fc = g(c);
  let fd = g(d);
  while (b - a > tol) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - invPhi * (b - a);
      fc = g(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + invPhi * (b - a);
      fd = g(d);
    }
  }
  const mid = (a + b) / 2;
  const midVal = g(mid);
  // The refined point can lose to the scan when the bracket held a narrower dip: keep the better one.
  return bestVal < midVal ? { x: lo + best * step, value: bestVal } : { x: mid, value: midVal };
}

/**
 * R² = 1 − SS_res/SS_tot of a fit to `values`, with exact fits handled (issue 11; docs/science.md A11, A14):
 * sums below the rounding floor m·(1e-12·max(1, max|y|))² count as zero, so
 * - SS_res ≈ 0: R² = 1, also when SS_tot ≈ 0 (a flat series fitted exactly is a perfect fit, not 0/0);
 * - SS_tot ≈ 0 < SS_res: R² = 0 (flat data the model misses: it explains nothing);
 * - otherwise the usual ratio (negative when the fit is worse than the mean).
 */
export function rSquared(sse: number, values: ArrayLike<number>): number {
  const m = values.length;
  if (m === 0 || Number.isNaN(sse)) return NaN;
  let mean = 0;
  let scale = 1;
  for (let i = 0; i < m; i++) {
    mean += values[i];
    scale = Math.max(scale, Math.abs(values[i]));
  }
  mean /= m;
  let sst = 0;
  for (let i = 0; i < m; i++) sst += (values[i] - mean) ** 2;
  const floor = m * (1e-12 * scale) ** 2;
  if (sse <= floor) return 1;
  if (sst <= floor) return 0;
  return 1 - sse / sst;
}
