/**
 * Disjoint half-open integer intervals [a, b), kept sorted and coalesced (touching intervals merge), for
 * chunk coverage. Memory is proportional to the number of separate runs received so far — not to the extent
 * covered — so a 10^8-column Jacobian sent in order costs one interval.
 *
 * Layout: two parallel Float64Arrays (exact for offsets up to 2^53) with binary search, O(log k) per lookup.
 * An insertion that merges with nothing shifts the tail (a memmove of at most k entries): in-order arrival,
 * the common case, appends or extends the last interval in O(1); fully random arrival of 10^5 chunks peaks
 * near k = 2.5·10^4 and costs microseconds per insert, far below the CRC of the same chunk.
 */
export interface MissingRanges {
  /** The first gaps, ascending, as half-open [start, end) pairs (at most `limit`). */
  ranges: Array<[number, number]>;
  /** Number of gaps in [0, total). */
  gapCount: number;
  /** Units (columns or rows) missing in [0, total). */
  missingCount: number;
}

export class IntervalSet {
  private starts = new Float64Array(8);
  private ends = new Float64Array(8);
  private count = 0;
  private total = 0;

  /** Number of disjoint intervals held (the bookkeeping size). */
  get size(): number {
    return this.count;
  }

  /** Units covered: the summed length of all intervals. */
  get covered(): number {
    return this.total;
  }

  /**
   * Adds [a, b). Returns null when it overlapped nothing; otherwise the set is left unchanged and the first
   * overlapping part [max(a, s), min(b, e)) with an existing interval [s, e) is returned.
   */
  add(a: number, b: number): [number, number] | null {
    if (!(a < b) || !Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0) {
      throw new RangeError(`IntervalSet.add needs integers 0 <= a < b <= 2^53; got [${a}, ${b})`);
    }
    const { starts, ends } = this;
    const k = this.count;
    // Fast path: at or after the end of the last interval (in-order arrival).
    let i: number;
    if (k === 0 || a >= ends[k - 1]) {
      i = k;
    } else {
      i = this.firstEndAbove(a);
      if (starts[i] < b) return [Math.max(a, starts[i]), Math.min(b, ends[i])];
    }
    // No overlap: [a, b) lies between interval i-1 (ends <= a) and interval i (starts >= b).
    const joinLeft = i > 0 && ends[i - 1] === a;
    const joinRight = i < k && starts[i] === b;
    if (joinLeft && joinRight) {
      ends[i - 1] = ends[i];
      starts.copyWithin(i, i + 1, k);
      ends.copyWithin(i, i + 1, k);
      this.count = k - 1;
    } else if (joinLeft) {
      ends[i - 1] = b;
    } else if (joinRight) {
      starts[i] = a;
    } else {
      this.reserve(k + 1);
      const s = this.starts;
      const e = this.ends;
      if (i < k) {
        s.copyWithin(i + 1, i, k);
        e.copyWithin(i + 1, i, k);
      }
      s[i] = a;
      e[i] = b;
      this.count = k + 1;
    }
    this.total += b - a;
    return null;
  }

  /** True when [0, total) is covered entirely. */
  coversAll(total: number): boolean {
    if (total <= 0) return true;
    return this.count > 0 && this.starts[0] <= 0 && this.ends[0] >= total;
  }

  /** The gaps of [0, total): the first `limit` ranges, how many gaps there are and how many units they hold. */
  missing(total: number, limit = 8): MissingRanges {
    const ranges: Array<[number, number]> = [];
    let gapCount = 0;
    let missingCount = 0;
    let cursor = 0;
    const note = (from: number, to: number): void => {
      if (to <= from) return;
      gapCount++;
      missingCount += to - from;
      if (ranges.length < limit) ranges.push([from, to]);
    };
    for (let j = 0; j < this.count && cursor < total; j++) {
      note(cursor, Math.min(this.starts[j], total));
      cursor = Math.max(cursor, this.ends[j]);
    }
    note(cursor, total);
    return { ranges, gapCount, missingCount };
  }

  /** The intervals as [start, end) pairs, ascending (for tests and diagnostics; O(k)). */
  intervals(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let j = 0; j < this.count; j++) out.push([this.starts[j], this.ends[j]]);
    return out;
  }

  /** Index of the first interval whose end is > a (ends are sorted because intervals are disjoint). */
  private firstEndAbove(a: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid] > a) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.starts.length) return;
    const next = Math.max(capacity, this.starts.length * 2);
    const s = new Float64Array(next);
    const e = new Float64Array(next);
    s.set(this.starts.subarray(0, this.count));
    e.set(this.ends.subarray(0, this.count));
    this.starts = s;
    this.ends = e;
  }
}
