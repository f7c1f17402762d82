import type { Embedder } from './embedder.js';

/** Options of the built-in lexical embedder. */
export interface LexicalEmbedderOptions {
  /** Length of each vector. More dimensions mean fewer hash collisions (false similarity). Default 1024. */
  dimensions?: number;
  /** Length of the character n-grams. Default 3. */
  ngram?: number;
  /** Share of the vector's weight given to whole words, in [0, 1]; the rest goes to character n-grams. Default 0.5. */
  wordWeight?: number;
}

const DEFAULT_LEXICAL_DIMENSIONS = 1024;

/**
 * Creates the built-in embedder: hashed character n-grams plus word unigrams, L2-normalised `Float32Array`s.
 *
 * It needs no model, no network and no Node API, and it is deterministic across runs and platforms (a 32-bit
 * FNV-1a hash over UTF-16 code units and IEEE arithmetic in a fixed order). It sees spelling, not meaning:
 * "How do I reset my password?" and "how do i reset my password" are near 1, true paraphrases with other
 * words are not. It answers synchronously, so a pipeline using it deduplicates in the frame a batch arrives.
 *
 * @param options `dimensions` (1024), `ngram` (3), `wordWeight` (0.5).
 * @return An `Embedder` that returns one vector per text, in order.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? DEFAULT_LEXICAL_DIMENSIONS;
  const ngram = options.ngram ?? 3;
  const wordWeight = options.wordWeight ?? 0.5;
  if (!Number.isInteger(dimensions) || dimensions < 8) {
    throw new RangeError(`createLexicalEmbedder: dimensions must be an integer >= 8, got ${String(dimensions)}`);
  }
  if (!Number.isInteger(ngram) || ngram < 1) {
    throw new RangeError(`createLexicalEmbedder: ngram must be an integer >= 1, got ${String(ngram)}`);
  }
  if (!(wordWeight >= 0 && wordWeight <= 1)) {
    throw new RangeError(`createLexicalEmbedder: wordWeight must be within [0, 1], got ${String(wordWeight)}`);
  }
  return (texts) => texts.map((text) => embedLexical(text, dimensions, ngram, wordWeight));
}

/**
 * Lower case, compatibility forms folded, every run of non-letters and non-digits one space, except in code-like
 * tokens (see `codeToken`), whose runs of symbols stay, each its own word: "What does a?.b do?" becomes
 * "what does a ?. b do", so `==` and `===`, `&&` and `||`, `x++` and `++x` no longer read as the same text.
 */
export function normalizeText(text: string): string {
  const words: string[] = [];
  for (const chunk of text.normalize('NFKC').toLowerCase().split(/\s+/)) {
    const code = codeToken(chunk);
    words.push(code === undefined ? chunk.replace(/[^\p{L}\p{N}]+/gu, ' ') : code.replace(/[^\p{L}\p{M}\p{N}]+/gu, ' $& '));
  }
  return words.join(' ').replace(/ {2,}/g, ' ').trim();
}

// Brackets and quotes that open or close prose around a word, and sentence punctuation after one.
const OPENERS = '([{"\'`\u2018\u201c\u00ab';
const CLOSERS = ')]}"\'`\u2019\u201d\u00bb.,;:!?\u2026';
const PAIRS: Record<string, string> = { '(': ')', '[': ']', '{': '}', ')': '(', ']': '[', '}': '{' };
/**
 * A chunk of nothing but sentence punctuation, dashes, a lone "&" (prose's "and"), "/" or "_", or an emoticon, is
 * prose ("?", "...", "!!", " - ", "Tom & Jerry", "alien / extraterrestrial", ":(")...
 */
const PROSE_ONLY = /^(?:[,;:&_/]|[.\u2026]+|[!?]+|\p{Pd}+|[:;]-?[()dp/|])$/u;
/** ...except these operators, made of sentence punctuation alone. */
const PUNCTUATION_OPERATORS = new Set(['??', '?.', '?:', '::']);
/**
 * Characters that are prose even inside a token: joiners between letters or digits ("e-mail", "don't", "e.g",
 * "1,000", "3.5", "snake_case", "q&a", "10:30"), a slash after a word ("movies/shows", "km/h", "1/2", "how/ when"),
 * a hyphen ending a word ("self- improvement"), asterisks inside a word ("sh*t"), brackets but empty pairs
 * ("founder(s)", "engineering(ece)"; "f()" keeps its pair), currency before a number, percent after one, "#"
 * before one, and pictographs (emoji, "°", "©").
 */
const PROSE_INSIDE = [
  /(?<=[\p{L}\p{M}\p{N}])[.'\u2019,\-\u2010_&](?=[\p{L}\p{M}\p{N}])/gu,
  /(?<=[\p{L}\p{M}\p{N}])\/(?!\/)/gu,
  /(?<=\p{N}):(?=\p{N})/gu,
  /(?<=\p{L})-$/u,
  /(?<=\p{L})\*+(?=\p{L})/gu,
  /[([{](?![)\]}])|(?<![([{])[)\]}]/gu,
  /[\p{Sc}#](?=\p{N})/gu,
  /(?<=\p{N})[%\u2030]/gu,
  /\p{So}/gu,
];
// Sentence punctuation before a word (",what") is prose too.
const LEADING_PROSE = ',;';

/**
 * The code-like token a whitespace-separated chunk of lower-case text holds, or undefined when it is a plain word
 * with prose punctuation. Sentence punctuation after it, quotes around it and unbalanced brackets are prose and
 * trimmed first; what is left is code when it still holds a symbol that is not a joiner between letters or
 * digits: operators (`==`, `&&`, `->`, `+=`, `??`), sigils and paths (`$home`, `~`, `.js`, `a?.b`, `std::vector`,
 * `-rf`, `c++`, `c#`, `f()`), signs (`-5`). Shared by the lexical embedder and the merge guard.
 *
 * @param chunk A chunk of NFKC, lower-case text without whitespace.
 * @return The trimmed chunk when it is code-like.
 */
export function codeToken(chunk: string): string | undefined {
  if (PUNCTUATION_OPERATORS.has(chunk)) return chunk;
  if (!/[^\p{L}\p{M}\p{N}]/u.test(chunk)) return undefined;
  const core = trimProse(chunk);
  // An empty core ends up undefined below as well (nothing is left to be a symbol).
  if (PROSE_ONLY.test(core)) return undefined;
  let rest = core;
  for (const prose of PROSE_INSIDE) rest = rest.replace(prose, '');
  return /[^\p{L}\p{M}\p{N}]/u.test(rest) ? core : undefined;
}

/** Strips quotes and unbalanced brackets around a chunk, and sentence punctuation after it, until none is left. */
function trimProse(chunk: string): string {
  let start = 0;
  let end = chunk.length;
  // Brackets left in chunk[start, end), kept up to date as characters are stripped: one pass, so a chunk of any
  // length (a request's text is anyone's input) is trimmed in linear time.
  const brackets = new Map<string, number>();
  // Every character is counted (only the brackets' counts are read): a check per character would be one more test.
  for (const ch of chunk) brackets.set(ch, (brackets.get(ch) ?? 0) + 1);
  const count = (ch: string) => brackets.get(ch) ?? 0;
  const drop = (ch: string) => brackets.set(ch, count(ch) - 1);
  // A bracket is prose when its partner is not in the chunk, or when the two wrap it: "(in" and "Linux)?" lose
  // theirs, "f()" keeps both.
  const strippable = (ch: string) => !(ch in PAIRS) || count(PAIRS[ch]!) < count(ch);
  for (let moved = true; moved && start < end; ) {
    moved = false;
    if (chunk.startsWith('..', start) || chunk[start] === '\u2026') {
      while (start < end && (chunk[start] === '.' || chunk[start] === '\u2026')) start++;
      moved = true;
    }
    if (end - start >= 2 && '([{'.includes(chunk[start]!) && chunk[end - 1] === PAIRS[chunk[start]!]) {
      drop(chunk[start]!); // brackets around the whole chunk: "(a&&b)"
      drop(chunk[end - 1]!);
      start++;
      end--;
      moved = true;
    }
    if (start < end && (LEADING_PROSE.includes(chunk[start]!) || (OPENERS.includes(chunk[start]!) && strippable(chunk[start]!)))) {
      drop(chunk[start]!);
      start++;
      moved = true;
    }
    if (start < end && CLOSERS.includes(chunk[end - 1]!) && strippable(chunk[end - 1]!)) {
      drop(chunk[end - 1]!);
      end--;
      moved = true;
    }
  }
  return chunk.slice(start, end);
}

function embedLexical(text: string, dimensions: number, ngram: number, wordWeight: number): Float32Array {
  const normalized = normalizeText(text);
  const chars = new Float64Array(dimensions);
  const words = new Float64Array(dimensions);
  // Boundary spaces let the n-grams see where words start and end.
  const padded = ` ${normalized} `;
  for (let i = 0; i + ngram <= padded.length; i++) addFeature(chars, fnv1a(padded, i, i + ngram, CHAR_SEED));
  if (normalized.length > 0) {
    const tokens = normalized.split(' ');
    for (const word of tokens) addFeature(words, fnv1a(word, 0, word.length, WORD_SEED));
    // Word pairs make the vector see order: "a British ship ... a French trader" and its swap share every word
    // and, across word boundaries, every character n-gram; only the pairs tell them apart.
    for (let i = 1; i < tokens.length; i++) {
      const pair = `${tokens[i - 1]} ${tokens[i]}`;
      addFeature(words, fnv1a(pair, 0, pair.length, PAIR_SEED));
    }
  }
  // Each family is normalised on its own, so long texts do not let n-grams drown the words (or the reverse).
  // A family with no feature (norm 0) contributes nothing.
  const finiteOrZero = (x: number) => (Number.isFinite(x) ? x : 0);
  const charScale = finiteOrZero(Math.sqrt(1 - wordWeight) / norm(chars));
  const wordScale = finiteOrZero(Math.sqrt(wordWeight) / norm(words));
  const out = new Float64Array(dimensions);
  for (let d = 0; d < dimensions; d++) out[d] = chars[d]! * charScale + words[d]! * wordScale;
  const total = norm(out);
  const vector = new Float32Array(dimensions);
  if (total > 0) for (let d = 0; d < dimensions; d++) vector[d] = out[d]! / total;
  return vector;
}

const CHAR_SEED = 0x811c9dc5;
// A different offset basis keeps the word "the" and the n-gram "the" apart.
const WORD_SEED = 0x050c5d1f;
const PAIR_SEED = 0x2f1e3d4b;

/** @internal 32-bit FNV-1a over UTF-16 code units `[start, end)` of `text`. */
export function fnv1a(text: string, start: number, end: number, seed: number): number {
  let hash = seed;
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Signed feature hashing: a collision between two features cancels out half the time instead of always adding. */
function addFeature(vector: Float64Array, hash: number): void {
  const index = (hash & 0x7fffffff) % vector.length;
  vector[index]! += hash & 0x80000000 ? -1 : 1;
}

function norm(vector: Float64Array): number {
  let sum = 0;
  for (let d = 0; d < vector.length; d++) sum += vector[d]! * vector[d]!;
  return Math.sqrt(sum);
}
