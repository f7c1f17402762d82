import { codeToken } from './lexicalEmbedder.js';

/**
 * The merge guard: two texts whose numbers, negations, polar words or code differ are never merged by similarity.
 *
 * Embeddings, lexical or neural, rate "enable 2FA" / "disable 2FA" or "refund order 1234" / "refund order 1243"
 * as near-equal, and merging them would give one user the answer to another user's question. The guard reduces
 * each text to a signature of its meaning-critical tokens; a similarity merge is only allowed between equal
 * signatures. It is deliberately blunt: it costs some recall (measured in docs/dedup-quality.md) to buy precision.
 */

/** Words that turn a statement into its opposite. All map to one token, so "not" and "never" count alike. */
const NEGATIONS = [
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'nowhere', 'neither', 'nor', 'without', 'cannot',
  'dont', 'doesnt', 'didnt', 'cant', 'couldnt', 'wont', 'wouldnt', 'shouldnt', 'isnt', 'arent', 'wasnt',
  'werent', 'havent', 'hasnt', 'hadnt', 'mustnt', 'neednt', 'aint',
];

/**
 * Pairs whose members flip a request's meaning when swapped, each side with the synonyms we fold into it.
 * Chosen from what users ask a backend to do (toggle, add or remove, compare, convert direction) and from the
 * few antonyms that change an answer's sign (true/false, best/worst). Common words whose other senses are
 * frequent ("like", "over", "right") are left out: they would refuse many good merges for little gain.
 */
const POLAR_PAIRS: ReadonlyArray<readonly [readonly string[], readonly string[]]> = [
  [['enable', 'activate'], ['disable', 'deactivate']],
  [['allow', 'permit'], ['deny', 'disallow', 'forbid', 'block']],
  [['add', 'insert'], ['remove', 'delete']],
  [['increase', 'raise'], ['decrease', 'reduce', 'lower']],
  [['before'], ['after']],
  [['above'], ['below']],
  [['more', 'most'], ['less', 'least', 'fewer']],
  [['max', 'maximum'], ['min', 'minimum']],
  [['true'], ['false']],
  [['yes'], []],
  [['open'], ['close']],
  [['start'], ['stop']],
  [['lock'], ['unlock']],
  [['include'], ['exclude']],
  [['upload'], ['download']],
  [['import'], ['export']],
  [['encrypt'], ['decrypt']],
  [['buy'], ['sell']],
  [['win'], ['lose']],
  [['accept', 'approve'], ['reject', 'decline']],
  [['public'], ['private']],
  [['positive'], ['negative']],
  [['input'], ['output']],
  [['login'], ['logout']],
  [['connect'], ['disconnect']],
  [['install'], ['uninstall']],
  [['subscribe'], ['unsubscribe']],
  [['agree'], ['disagree']],
  [['valid', 'legal', 'possible'], ['invalid', 'illegal', 'impossible']],
  [['best', 'better'], ['worst', 'worse']],
  [['good'], ['bad']],
  [['high', 'higher', 'highest'], ['low', 'lowest']],
  [['up'], ['down']],
  [['hot'], ['cold']],
  [['cheap', 'cheapest'], ['expensive']],
  [['male', 'man', 'men', 'boy'], ['female', 'woman', 'women', 'girl']],
  [['first'], ['last']],
  [['yesterday'], ['tomorrow']],
  [['same', 'similar'], ['different']],
  [['advantage', 'pro'], ['disadvantage', 'con']],
];

const NUMBER_WORDS = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty',
];
const MAGNITUDES: Record<string, string> = { hundred: '#e2', thousand: '#e3', million: '#e6', billion: '#e9', trillion: '#e12' };

const LEXICON = /* @__PURE__ */ buildLexicon();

function buildLexicon(): Map<string, string> {
  const lexicon = new Map<string, string>();
  for (const word of NEGATIONS) lexicon.set(word, '!not');
  POLAR_PAIRS.forEach(([plus, minus], i) => {
    for (const word of plus) lexicon.set(word, `+${i}`);
    for (const word of minus) lexicon.set(word, `-${i}`);
  });
  NUMBER_WORDS.forEach((word, n) => lexicon.set(word, `#${n}`));
  for (const [word, token] of Object.entries(MAGNITUDES)) lexicon.set(word, token);
  return lexicon;
}

// Digits with their decimal and thousands separators, so "1,000" and "1000" are one number.
const NUMBER = /\p{Nd}+(?:[.,]\p{Nd}+)*/gu;
const WORD = /[\p{L}']+/gu;
const APOSTROPHES = /[’']/g;
const SUFFIX = /(?:ing|ed|es|s|d)$/;

/** The lexicon token of a word or of its stem ("disabled", "disabling" -> "disable"), if any. */
function lexiconToken(word: string): string | undefined {
  const direct = LEXICON.get(word);
  if (direct !== undefined) return direct;
  const stem = word.replace(SUFFIX, '');
  // A stem of one letter or none needs no check of its own: no such stem, nor one with an "e" added, is a word
  // of the lexicon.
  if (stem === word) return undefined;
  return LEXICON.get(stem) ?? LEXICON.get(`${stem}e`);
}

/**
 * The meaning-critical tokens of a text, sorted and joined: numbers (digits and number words), negations, polar
 * words and code-like tokens (operators, sigils, flags, extensions: see `codeToken`, so "==" is not "===" and
 * "&&" is not "||"). Two texts may be merged by similarity only when their signatures are equal.
 *
 * @param text The request's text.
 * @return A string, empty when the text has no such token.
 */
export function guardSignature(text: string): string {
  const lower = text.normalize('NFKC').toLowerCase();
  const tokens: string[] = [];
  // exec over one global expression, not matchAll: matchAll copies the expression at every call, and this runs
  // for every text of every batch (twice the time of the rest of the signature).
  NUMBER.lastIndex = 0;
  for (let match = NUMBER.exec(lower); match !== null; match = NUMBER.exec(lower)) {
    tokens.push(`#${canonicalNumber(match[0])}`);
  }
  WORD.lastIndex = 0;
  for (let match = WORD.exec(lower); match !== null; match = WORD.exec(lower)) {
    const found = match[0];
    // "don't" and "dont" are the same negation; "n't" glued to any verb is one too.
    const token = found.endsWith("n't") ? '!not' : lexiconToken(found.replace(APOSTROPHES, ''));
    if (token !== undefined) tokens.push(token);
  }
  // Split at each white space: the empty chunks between two of them are no code.
  for (const chunk of lower.split(/\s/)) {
    const code = codeToken(chunk);
    if (code !== undefined) tokens.push(`\`${code}`);
  }
  return tokens.sort().join(' ');
}

function stripZeros(number: string): string {
  const [whole, fraction] = number.split('.');
  const integer = whole!.replace(/^0+(?=\d)/, '');
  const decimals = fraction?.replace(/0+$/, '');
  return decimals ? `${integer}.${decimals}` : integer;
}

/**
 * The built-in merge guard.
 *
 * @param a One text.
 * @param b The other.
 * @return True when a similarity merge of the two is allowed.
 */
export function defaultMergeGuard(a: string, b: string): boolean {
  return guardSignature(a) === guardSignature(b) && salientOrderAgrees(salientTokens(a), salientTokens(b));
}

/** A text's words in order, lower case, each marked salient when it is a number or capitalised mid-sentence. */
export interface SalientTokens {
  readonly words: readonly string[];
  readonly salient: ReadonlySet<string>;
}

// Words keep inner apostrophes and separators ("don't", "1,000", "3.5") and a trailing + or # ("C++", "C#").
const TOKEN = /[\p{L}\p{N}]+(?:['’.,][\p{L}\p{N}]+)*[+#]*|[.!?]/gu;

/** Ordinals order things as numbers do: "the first line of the third verse" is not "the third line of the first". */
const ORDINALS = new Set(['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'last']);

/**
 * Splits a text for the order check. Names and numbers are what swaps of meaning move around ("flights from
 * Paris to London" / "from London to Paris", "a British ship ... a French trader" and the reverse); a
 * capitalised word is only taken as a name when it does not start a sentence.
 */
export function salientTokens(text: string): SalientTokens {
  const words: string[] = [];
  const salient = new Set<string>();
  let sentenceStart = true;
  // Split at each white space: the empty chunks between two of them hold no token.
  for (const chunk of text.normalize('NFKC').split(/\s/)) {
    // A code-like token is one word, and salient: "x++ and ++x" is not "++x and x++".
    const code = codeToken(chunk.toLowerCase());
    if (code !== undefined) {
      words.push(code);
      salient.add(code);
      sentenceStart = /[.!?]$/.test(chunk) && !code.endsWith(chunk[chunk.length - 1]!);
      continue;
    }
    TOKEN.lastIndex = 0;
    for (let match = TOKEN.exec(chunk); match !== null; match = TOKEN.exec(chunk)) {
      const token = match[0];
      if (token === '.' || token === '!' || token === '?') {
        sentenceStart = true;
        continue;
      }
      const lower = canonicalWord(token.toLowerCase());
      words.push(lower);
      if (/^\p{Nd}/u.test(lower) || ORDINALS.has(lower) || (!sentenceStart && /^\p{Lu}/u.test(token))) {
        salient.add(lower);
      }
      sentenceStart = false;
    }
  }
  return { words, salient };
}

/**
 * True when the two texts name the same things (every name or number of one occurs, in any case, in the
 * other: "rights in Austria" is not "rights in Australia") in the same order (the same words rearranged to
 * swap who did what to whom are refused). Asked only for pairs already similar enough to merge.
 */
export function salientOrderAgrees(a: SalientTokens, b: SalientTokens): boolean {
  // The words salient in either text, in each text's order of first occurrence: equal lists mean both texts hold
  // every one of them (a name missing from one text is missing from its list) in the same order. With nothing
  // salient, both lists are empty.
  const shared = (word: string) => a.salient.has(word) || b.salient.has(word);
  const orderA = firstOccurrences(a.words.filter(shared));
  const orderB = firstOccurrences(b.words.filter(shared));
  return orderA.length === orderB.length && orderA.every((word, i) => word === orderB[i]);
}

/** Numbers compare by value ("1,000" = "1000", "two" = "2"), so writing one differently is not a difference. */
function canonicalWord(word: string): string {
  if (/^\p{Nd}/u.test(word)) return canonicalNumber(word);
  const n = NUMBER_WORDS.indexOf(word);
  return n >= 0 ? String(n) : word;
}

/**
 * Digits by value: thousands separators dropped, a decimal comma read as a point, no insignificant zeros. A
 * version or any other dotted string of more than two parts ("1.2.3", "192.168.0.1") is not a number: it stays
 * as written, so "1.2.3" and "1.2.4" differ.
 */
function canonicalNumber(digits: string): string {
  const number = digits.replace(/,(?=\p{Nd}{3}(?!\p{Nd}))/gu, '').replace(',', '.');
  return number.split('.').length > 2 ? number : stripZeros(number);
}

function firstOccurrences(words: readonly string[]): string[] {
  return [...new Set(words)];
}
