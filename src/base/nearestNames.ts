/**
 * The known names nearest to an unknown one, for "did you mean" in option errors. Tried in order: the same name
 * in another case (`windowMS`), known names containing it (`timeoutMs` in `requestTimeoutMs`), then the least
 * edits (`concurency`); ties are all returned, in the order of `known`. `close` is false when even the nearest
 * needs more edits than half the name's length (`foo`): a guess, not a likely typo.
 */
export function nearestNames(name: string, known: readonly string[]): { names: string[]; close: boolean } {
  const lower = name.toLowerCase();
  const sameLetters = known.filter((k) => k.toLowerCase() === lower);
  if (sameLetters.length > 0) return { names: sameLetters, close: true };
  // A shorter name is contained in too many to say anything.
  if (lower.length >= 4) {
    const containing = known.filter((k) => k.toLowerCase().includes(lower));
    if (containing.length > 0) return { names: containing, close: true };
  }
  let best = Infinity;
  let nearest: string[] = [];
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < best) {
      best = d;
      nearest = [k];
    } else if (d === best) {
      nearest.push(k);
    }
  }
  return { names: nearest, close: best <= Math.max(2, name.length / 2) };
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** `a`, `a or b`, `a, b or c`. */
export function orList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** What an error says of an unknown option name: the nearest known names, or that none is close. */
export function unknownOption(name: string, known: readonly string[]): string {
  const { names, close } = nearestNames(name, known);
  return `unknown option ${name}; ${close ? `did you mean ${orList(names)}?` : `no option is close (the nearest is ${orList(names)})`}`;
}
