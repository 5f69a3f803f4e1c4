import { describe, expect, it } from 'vitest';
import { IntervalSet } from '../../src/ingest/intervalSet.js';
import { mulberry32 } from '../../src/random.js';

/** Seeded Fisher–Yates shuffle. */
function shuffled<T>(items: T[], seed: number): T[] {
  const rng = mulberry32(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('IntervalSet', () => {
  it('coalesces touching intervals from either side and across a hole', () => {
    const s = new IntervalSet();
    expect(s.add(10, 20)).toBeNull();
    expect(s.add(30, 40)).toBeNull();
    expect(s.intervals()).toEqual([[10, 20], [30, 40]]);
    expect(s.add(0, 10)).toBeNull(); // joins right
    expect(s.add(40, 45)).toBeNull(); // joins left
    expect(s.intervals()).toEqual([[0, 20], [30, 45]]);
    expect(s.add(20, 30)).toBeNull(); // joins both: one interval remains
    expect(s.intervals()).toEqual([[0, 45]]);
    expect(s.covered).toBe(45);
    expect(s.coversAll(45)).toBe(true);
    expect(s.coversAll(46)).toBe(false);
  });

  it('reports the overlapping part and leaves the set unchanged', () => {
    const s = new IntervalSet();
    s.add(100, 200);
    s.add(300, 400);
    expect(s.add(150, 250)).toEqual([150, 200]);
    expect(s.add(50, 101)).toEqual([100, 101]);
    expect(s.add(250, 350)).toEqual([300, 350]);
    expect(s.add(0, 1000)).toEqual([100, 200]); // first overlap
    expect(s.add(100, 200)).toEqual([100, 200]); // exact duplicate
    expect(s.add(399, 400)).toEqual([399, 400]);
    expect(s.intervals()).toEqual([[100, 200], [300, 400]]);
    expect(s.covered).toBe(200);
    // Touching is not overlapping.
    expect(s.add(200, 300)).toBeNull();
    expect(s.intervals()).toEqual([[100, 400]]);
  });

  it('lists the first gaps with their count and total', () => {
    const s = new IntervalSet();
    for (const [a, b] of [[5, 10], [20, 30], [40, 50], [60, 70]]) s.add(a, b);
    expect(s.missing(80, 2)).toEqual({ ranges: [[0, 5], [10, 20]], gapCount: 5, missingCount: 45 });
    expect(s.missing(80).ranges).toEqual([[0, 5], [10, 20], [30, 40], [50, 60], [70, 80]]);
    expect(s.missing(45)).toEqual({ ranges: [[0, 5], [10, 20], [30, 40]], gapCount: 3, missingCount: 25 });
    expect(new IntervalSet().missing(7)).toEqual({ ranges: [[0, 7]], gapCount: 1, missingCount: 7 });
  });

  it('random-order chunks complete the cover and match a brute-force bitmap at every step', () => {
    const total = 997;
    const bounds = [0];
    const rng = mulberry32(21);
    while (bounds[bounds.length - 1] < total) bounds.push(Math.min(total, bounds[bounds.length - 1] + 1 + Math.floor(rng() * 9)));
    const chunks = bounds.slice(1).map((b, i): [number, number] => [bounds[i], b]);
    const s = new IntervalSet();
    const seen = new Uint8Array(total);
    for (const [a, b] of shuffled(chunks, 22)) {
      expect(s.add(a, b)).toBeNull();
      seen.fill(1, a, b);
      const m = s.missing(total, Infinity);
      let missing = 0;
      for (let i = 0; i < total; i++) missing += 1 - seen[i];
      expect(m.missingCount).toBe(missing);
      expect(s.covered).toBe(total - missing);
      let listedButSeen = 0;
      for (const [x, y] of m.ranges) for (let i = x; i < y; i++) listedButSeen += seen[i];
      expect(listedButSeen).toBe(0);
    }
    expect(s.intervals()).toEqual([[0, total]]);
    expect(s.size).toBe(1);
  });

  it('re-adding any chunk after completion is an overlap', () => {
    const s = new IntervalSet();
    const chunks = Array.from({ length: 50 }, (_, i): [number, number] => [i * 10, i * 10 + 10]);
    for (const [a, b] of shuffled(chunks, 5)) s.add(a, b);
    for (const [a, b] of chunks) expect(s.add(a, b)).toEqual([a, b]);
  });

  it('handles 10^5 chunks in random order quickly', () => {
    // Peak bookkeeping is about k/4 intervals; the bound below is generous for a shared 2-core machine
    // (measured well under 1 s).
    const k = 100_000;
    const order = shuffled(Array.from({ length: k }, (_, i) => i), 77);
    const s = new IntervalSet();
    let peak = 0;
    const t0 = performance.now();
    for (const i of order) {
      s.add(i * 1000, i * 1000 + 1000);
      if (s.size > peak) peak = s.size;
    }
    const ms = performance.now() - t0;
    expect(s.coversAll(k * 1000)).toBe(true);
    expect(peak).toBeLessThan(k / 3);
    expect(ms).toBeLessThan(5000);
  });

  it('rejects empty, reversed and non-integer intervals', () => {
    const s = new IntervalSet();
    expect(() => s.add(5, 5)).toThrow(RangeError);
    expect(() => s.add(6, 5)).toThrow(RangeError);
    expect(() => s.add(0.5, 5)).toThrow(RangeError);
    expect(() => s.add(-1, 5)).toThrow(RangeError);
  });
});
