// "Did you mean": the names a user most likely meant when one they typed is not there.

import { columnSpelling } from './columns';

/** Edit distance (insertions, deletions, substitutions), giving up past `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, current[j]);
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidates `typed` most likely meant, closest first: the same name in another case or with
 * other separators ('-', '_' and '/' alike: `train-loss` for `train_loss`), one that contains it
 * (`loss` for `train/loss`), or one a typo or two away (a third of its length at most).
 */
export function likelyMeant(typed: string, candidates: readonly string[], most = 3): string[] {
  const lower = columnSpelling(typed);
  const limit = Math.min(2, Math.floor(typed.length / 3));
  const scored: [string, number][] = [];
  for (const candidate of new Set(candidates)) {
    const other = columnSpelling(candidate);
    if (other === lower) scored.push([candidate, 0]);
    else if (other.includes(lower)) scored.push([candidate, 1]);
    else {
      const distance = editDistance(lower, other, limit);
      if (distance <= limit) scored.push([candidate, 1 + distance]);
    }
  }
  return scored
    .sort((a, b) => a[1] - b[1])
    .slice(0, most)
    .map(([candidate]) => candidate);
}
