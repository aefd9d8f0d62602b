/**
 * Spike-preserving decimation for plots. Reservoir sampling (TensorBoard keeps 1000 random points)
 * drops exactly the rare steps that matter; this keeps, for each of about `buckets` equal index
 * ranges, the first, last, smallest and largest finite value, plus every index in `keep` (flagged
 * steps). At most 4 points a bucket plus the kept ones; indices come back sorted and unique.
 */
export function decimate(
  values: ArrayLike<number>,
  buckets: number,
  options: {
    start?: number;
    end?: number;
    keep?: ArrayLike<number>;
    /** Also keep the first non-finite value of each bucket (NaN and ±Infinity are drawn as markers). Default false. */
    keepNonFinite?: boolean;
  } = {},
): Uint32Array {
  const start = Math.max(0, options.start ?? 0);
  const end = Math.min(values.length, options.end ?? values.length);
  const length = end - start;
  if (length <= 0) return new Uint32Array(0);
  const chosen: number[] = [];
  if (length <= buckets * 4) {
    for (let i = start; i < end; i++) chosen.push(i);
  } else {
    const size = length / buckets;
    for (let b = 0; b < buckets; b++) {
      const from = start + Math.floor(b * size);
      const to = b === buckets - 1 ? end : start + Math.floor((b + 1) * size);
      let minIndex = -1;
      let maxIndex = -1;
      let nonFiniteIndex = -1;
      for (let i = from; i < to; i++) {
        const v = values[i];
        if (!Number.isFinite(v)) {
          if (nonFiniteIndex < 0) nonFiniteIndex = i;
          continue;
        }
        if (minIndex < 0 || v < values[minIndex]) minIndex = i;
        if (maxIndex < 0 || v > values[maxIndex]) maxIndex = i;
      }
      chosen.push(from, to - 1);
      if (minIndex >= 0) chosen.push(minIndex, maxIndex);
      if (options.keepNonFinite && nonFiniteIndex >= 0) chosen.push(nonFiniteIndex);
    }
  }
  const keep = options.keep;
  if (keep) for (let i = 0; i < keep.length; i++) if (keep[i] >= start && keep[i] < end) chosen.push(keep[i]);
  const sorted = Uint32Array.from(chosen).sort();
  let unique = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[unique++] = sorted[i];
  return sorted.slice(0, unique);
}
