/**
 * The name the user probably meant: the same letters in another case, or a typo or two (one per
 * three letters, so that short names are not "corrected" into unrelated ones).
 */
function suggestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const tolerance = Math.min(2, Math.floor(name.length / 3));
  return (
    candidates.find((candidate) => candidate.toLowerCase() === lower) ??
    candidates.find((candidate) => editDistance(candidate.toLowerCase(), lower) <= tolerance)
  );
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const suggestion = suggestName(name, candidates);
  return suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
}
