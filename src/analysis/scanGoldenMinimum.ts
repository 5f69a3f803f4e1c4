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
