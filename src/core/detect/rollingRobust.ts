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
      this.removeSorted(this.ring[this.head]);
      this.ring[this.head] = value;
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.ring[(this.head + this.size) % this.capacity] = value;
      this.size += 1;
    }
    this.insertSorted(value);
  }

  median(): number {
    const n = this.size;
    if (n === 0) return NaN;
    const mid = n >> 1;
    return n % 2 ? this.sorted[mid] : (this.sorted[mid - 1] + this.sorted[mid]) / 2;
  }

  /** Median of |x − median|: the deviations left and right of the median are each sorted, so merge them. */
  medianAbsoluteDeviation(center = this.median()): number {
    const n = this.size;
    if (n === 0) return NaN;
    let right = lowerBound(this.sorted, n, center);
    let left = right - 1;
    const want = n >> 1;
    let previous = 0;
    for (let taken = 0; taken <= want; taken++) {
      const leftDeviation = left >= 0 ? center - this.sorted[left] : Infinity;
      const rightDeviation = right < n ? this.sorted[right] - center : Infinity;
      let current: number;
      if (leftDeviation <= rightDeviation) {
        current = leftDeviation;
        left--;
      } else {
        current = rightDeviation;
        right++;
      }
      if (taken === want) return n % 2 ? current : (previous + current) / 2;
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

  private removeSorted(value: number): void {
    const n = this.size;
    const i = lowerBound(this.sorted, n, value);
    this.sorted.copyWithin(i, i + 1, n);
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
