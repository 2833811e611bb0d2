// "Did you mean …?" for unknown field names: the closest known name by edit distance, after
// forgiving case and separators (`loginCode` → `login_code`).

function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** Damerau-style (adjacent transposition counts as one) Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/** The known name closest to `word`, or undefined when none is plausibly meant. */
export function closest(word: string, known: readonly string[]): string | undefined {
  const w = normalize(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const c = normalize(candidate);
    if (c === w) return candidate;
    const distance = editDistance(w, c);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Allow about one typo per three letters, at least one and at most three.
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  if (bestDistance <= limit) return best;
  // A shortened name (`abort` for `abort_on_fail`) is meant when exactly one field starts with it.
  const prefixed = w.length >= 3 ? known.filter((k) => normalize(k).startsWith(w)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
