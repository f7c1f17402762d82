/**
 * The merge guard's reading of words (src/dedup/mergeGuard.ts, through the public guardSignature and
 * defaultMergeGuard), where mutation testing found rules no test guarded (docs/testing.md).
 */
import { describe, expect, it } from 'vitest';
import { defaultMergeGuard, guardSignature } from '../src/index.js';

describe('guardSignature: stems', () => {
  it('a word without an inflection is looked up as it is, not with an "e" added ("Sam" is not "same")', () => {
    expect(guardSignature('ask sam')).toBe('');
    expect(guardSignature('los angeles')).toBe('');
    expect(guardSignature('ask same')).not.toBe('');
  });

  it('a stem of two letters still counts ("ups" is "up")', () => {
    expect(guardSignature('ups')).not.toBe('');
    expect(guardSignature('ups')).toBe(guardSignature('up'));
  });
});

describe('guardSignature: negations', () => {
  it('any verb with "n\'t" glued on is a negation, in or out of the lexicon', () => {
    expect(guardSignature("you mightn't")).toBe('!not');
    expect(guardSignature("you mightn't")).toBe(guardSignature('you might not'));
  });

  it('an apostrophe inside a word is dropped before the lookup ("nobody\'s" is "nobodys", a negation)', () => {
    expect(guardSignature("nobody's home")).toBe('!not');
  });
});

describe('guardSignature: the signature', () => {
  it('is its tokens sorted and joined by single spaces', () => {
    expect(guardSignature('pick 3 or 2 tickets, not 10')).toBe('!not #10 #2 #3');
  });
});

describe('guardSignature: numbers by value', () => {
  it('drops a thousands separator before a decimal point: 1,000.5 is 1000.5', () => {
    expect(guardSignature('pay 1,000.5')).toBe('#1000.5');
  });

  it('reads a decimal comma as a point: 3,5 is 3.5', () => {
    expect(guardSignature('3,5')).toBe('#3.5');
  });

  it('drops every leading zero: 007 is 7', () => {
    expect(guardSignature('order 007')).toBe('#7');
  });

  it('drops every trailing zero of the decimals, and only those: 3.500 is 3.5, 3.050 is 3.05', () => {
    expect(guardSignature('3.500')).toBe('#3.5');
    expect(guardSignature('3.050')).toBe('#3.05');
  });
});

describe('defaultMergeGuard: a capitalised word after a code token', () => {
  // "Then" is a name (salient: the other text must have it) unless it starts a sentence.
  it('starts a sentence after a code token followed by a period ("c++.")', () => {
    expect(defaultMergeGuard('Use c++. Then relax', 'Use c++. Relax')).toBe(true);
  });

  it('does not start a sentence after an operator ending in "?" ("??"): the "?" is the operator\'s', () => {
    expect(defaultMergeGuard('Try a ?? Then b', 'Try a ?? b')).toBe(false);
  });

  it('does not start a sentence after an operator ending in "." ("?.")', () => {
    expect(defaultMergeGuard('Use ?. Then b', 'Use ?. b')).toBe(false);
  });

  it('does not start a sentence after a quoted code token with punctuation inside (\'"a?.b"\')', () => {
    expect(defaultMergeGuard('Use "a?.b" Then c', 'Use "a?.b" c')).toBe(false);
  });
});

describe('defaultMergeGuard: names and numbers', () => {
  it.each(['!', '?', '.'])('a word after a standalone "%s" starts a sentence: not a name', (mark) => {
    expect(defaultMergeGuard(`Really${mark} Then go`, `Really${mark} go`)).toBe(true);
  });

  it('a word is a number only when it starts with a digit: "mp3" is neither number nor name', () => {
    expect(defaultMergeGuard('convert mp3 for Paris', 'convert Paris for mp3')).toBe(true);
  });

  it('a word is a name only when it starts with a capital: "iPhone" is none', () => {
    expect(defaultMergeGuard('compare iPhone with Paris', 'compare Paris with iPhone')).toBe(true);
  });

  it('a name in one text only refuses the merge, though the other text has no name at all', () => {
    expect(defaultMergeGuard('what about Paris', 'what about it')).toBe(false);
    expect(defaultMergeGuard('what about it', 'what about Paris')).toBe(false);
  });
});

describe('defaultMergeGuard: order', () => {
  it('a name capitalised in one text only still counts for the order: "Paris to Rome" is not "rome to paris"', () => {
    expect(defaultMergeGuard('fly from Paris to Rome', 'fly from rome to paris')).toBe(false);
  });
});

describe('defaultMergeGuard: words read as numbers', () => {
  it('only a word starting with a digit is read by value: "X1,000" and "X1000" are different names', () => {
    expect(defaultMergeGuard('compare Paris and X1,000', 'compare Paris and X1000')).toBe(false);
    expect(defaultMergeGuard('compare Paris and 1,000', 'compare Paris and 1000')).toBe(true);
  });

  it('a number word is its number, zero included: "zero" is 0', () => {
    expect(defaultMergeGuard('score zero in Paris', 'score 0 in Paris')).toBe(true);
  });
});
