import { describe, expect, it } from 'vitest';
import { defaultMergeGuard, guardSignature, salientTokens } from '../src/dedup/mergeGuard.js';

describe('the built-in merge guard', () => {
  const refused: Array<[string, string, string]> = [
    ['antonym verbs', 'How do I enable 2FA?', 'How do I disable 2FA?'],
    ['inflected antonyms', 'Enabling dark mode', 'Disabled dark mode'],
    ['a negation', 'Is the API rate limited?', 'Is the API not rate limited?'],
    ["an n't contraction", 'Why does it work on Linux', "Why doesn't it work on Linux"],
    ['a different number', 'refund order 1234', 'refund order 1243'],
    ['a number against none', 'top 10 movies of 2020', 'top movies of 2020'],
    ['a number word against a digit that differs', 'buy two tickets', 'buy 3 tickets'],
    ['swapped names', 'flights from Paris to Rome', 'flights from Rome to Paris'],
    ['a different name', 'How are these rights different in Austria?', 'How are these rights different in Australia?'],
    ['C++ against C', 'preprocessor directives in C++', 'preprocessor directives in C'],
    ['swapped ordinals', 'the first line of the third verse', 'the third line of the first verse'],
    ['polar adjectives', 'best laptop for students', 'worst laptop for students'],
  ];
  it.each(refused)('refuses %s', (_, a, b) => {
    expect(defaultMergeGuard(a, b)).toBe(false);
    expect(defaultMergeGuard(b, a)).toBe(false);
  });

  const allowed: Array<[string, string, string]> = [
    ['case and punctuation', 'How do I reset my password?', 'how do i reset my password'],
    ['the same number written two ways', 'It costs 1,000 dollars', 'it costs 1000 dollars'],
    ['a number word and its digit', 'buy two tickets', 'buy 2 tickets'],
    ['the same negation spelled differently', "I don't have an account", 'I do not have an account'],
    ['capitalisation of a name', 'What is the capital of France', 'what is the capital of france'],
    ['the same names in the same order', 'Is Paris bigger than Rome?', 'Is Paris much bigger than Rome'],
    ['no meaning-critical token at all', 'tell me a joke', 'tell me a funny joke'],
  ];
  it.each(allowed)('allows %s', (_, a, b) => {
    expect(defaultMergeGuard(a, b)).toBe(true);
  });

  it('a capitalised first word of a sentence is not taken for a name; numbers compare by value', () => {
    expect([...salientTokens('Paris is big. Rome is old!').salient]).toEqual([]);
    expect([...salientTokens('I love Paris. And Rome').salient]).toEqual(['paris', 'rome']);
    expect(salientTokens('two of 1,000 in 03.50').words).toEqual(['2', 'of', '1000', 'in', '3.5']);
  });

  it('signatures are order-free for numbers and polar words, and empty without them', () => {
    expect(guardSignature('enable 2FA')).toBe(guardSignature('2FA: Enable'));
    expect(guardSignature('what is love')).toBe('');
    expect(guardSignature('version 3.50')).toBe(guardSignature('version 3.5'));
  });
});
