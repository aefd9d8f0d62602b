/**
 * Median and median absolute deviation of the last `capacity` values, in O(capacity) per update
 * and fixed memory: a ring buffer for arrival order beside a sorted copy for the order statistics.
 */
export class RollingRobust {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private size = 0;
  private head = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.capacity) {
      this.replaceSorted(this.ring[this.head], value);
      this.ring[this.head] = value;
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
      return;
    } else {
      this.ring[(this.head + this.size) % this.capacity] = value;
      this.size += 1;
    }
    this.insertSorted(value);
  }

  /** Median of the held values, or of those from the `from`-th smallest on. */
  median(from = 0): number {
    const n = this.size - from;
    if (n <= 0) return NaN;
    const mid = from + (n >> 1);
    return n % 2 ? this.sorted[mid] : (this.sorted[mid - 1] + this.sorted[mid]) / 2;
  }

  /**
   * Where the held values split into two groups: the index (in sorted order) of the first value
   * above the widest gap between neighbours, if that gap is at least `gap` and at least `minUpper`
   * values lie above it; otherwise -1.
   */
  upperGroupStart(gap: number, minUpper: number): number {
    let start = -1;
    let widest = gap;
    for (let i = 1; i <= this.size - minUpper; i++) {
      const width = this.sorted[i] - this.sorted[i - 1];
      if (width >= widest) {
        widest = width;
        start = i;
      }
    }
    return start;
  }

  /** The k-th largest value (k = 1 is the largest); NaN when fewer than k values are held. */
  largest(k: number): number {
    return k >= 1 && k <= this.size ? this.sorted[this.size - k] : NaN;
  }

  /**
   * Median of |x − center| over the values from the `from`-th smallest on: the deviations left and
   * right of the center are each sorted, so merge them.
   */
  medianAbsoluteDeviation(center = this.median(), from = 0): number {
    const n = this.size;
    if (n - from <= 0) return NaN;
    let right = Math.max(from, lowerBound(this.sorted, n, center));
    let left = right - 1;
    const count = n - from;
    const want = count >> 1;
    let previous = 0;
    for (let taken = 0; taken <= want; taken++) {
      const leftDeviation = left >= from ? center - this.sorted[left] : Infinity;
      const rightDeviation = right < n ? this.sorted[right] - center : Infinity;
      let current: number;
      if (leftDeviation <= rightDeviation) {
        current = leftDeviation;
        left--;
      } else {
        current = rightDeviation;
        right++;
      }
      if (taken === want) return count % 2 ? current : (previous + current) / 2;
      previous = current;
    }
    return previous;
  }

  private insertSorted(value: number): void {
    const n = this.size - 1; // the count before this value
    const i = lowerBound(this.sorted, n, value);
    this.sorted.copyWithin(i + 1, i, n);
    this.sorted[i] = value;
  }

  /**
   * The oldest value leaves and the new one comes in, in one pass: only the values between the two
   * positions move, by one place (a full window is updated this way on every row).
   */
  private replaceSorted(old: number, value: number): void {
    const sorted = this.sorted;
    const n = this.size;
    let i = lowerBound(sorted, n, old);
    if (value >= old) {
      // Shift left the values in (i, j) where j is the first index with sorted[j] > value.
      while (i + 1 < n && sorted[i + 1] < value) {
        sorted[i] = sorted[i + 1];
        i++;
      }
    } else {
      while (i > 0 && sorted[i - 1] > value) {
        sorted[i] = sorted[i - 1];
        i--;
      }
    }
    sorted[i] = value;
  }
}

function lowerBound(values: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
