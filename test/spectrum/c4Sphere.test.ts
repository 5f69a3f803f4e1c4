/**
 * docs/science.md C4: two-layer ReLU NTK (½-free form; decay is scale-free) on n uniform points of S^{d−1}.
 * Theory: sorted λ_i ~ i^(−d/(d−1)), i.e. s = 2 (d = 2) and s = 1.5 (d = 3).
 *
 * The oracle used n = 3000 and a dense OLS on [20, 500]. For speed we use n = 1200 and the dense OLS
 * window [20, 400] = [20, n/3]; numpy on the same recipe (3 seeds) gives s = 2.05–2.07 (d = 2) and
 * 1.49–1.50 (d = 3), and so does this implementation with its own seeded points, leaving ≥ 0.03 of the
 * 0.1 tolerance for sampling noise. The A3 log grid on the same window is checked as well.
 */
import { describe, expect, it } from 'vitest';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { fitDecay } from '../../src/spectrum/powerLaw.js';
import { mulberry32, normalArray } from '../../src/random.js';
import { ntkGram } from './helpers.js';

function spherePoints(seed: number, n: number, d: number): Float64Array {
  const x = normalArray(mulberry32(seed), n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < d; t++) x[i * d + t] *= inv;
  }
  return x;
}

describe('C4 sphere Monte Carlo, n = 1200, window [20, 400]', () => {
  const n = 1200;
  for (const [d, theory] of [
    [2, 2],
    [3, 1.5],
  ]) {
    it(`d = ${d}: decay exponent within 0.1 of ${theory}`, () => {
      const { values } = eighSymmetric(ntkGram(spherePoints(d, n, d), n, d), n);
      const dense = fitDecay(values, 20, n / 3, { grid: 'dense' });
      expect(dense.points).toBe(381);
      expect(Math.abs(dense.exponent - theory)).toBeLessThan(0.1);
      expect(dense.r2).toBeGreaterThan(0.99);
      const grid = fitDecay(values, 20, n / 3);
      expect(Math.abs(grid.exponent - theory)).toBeLessThan(0.1);
    });
  }
});
