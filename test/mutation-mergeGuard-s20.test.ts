/**
 * The merge guard (src/dedup/mergeGuard.ts) where the stop-20 mutation run found rules no test guarded, and the
 * claims its simplifications rest on (docs/testing.md, stop 20).
 */
import { describe, expect, it } from 'vitest';
import { salientOrderAgrees, salientTokens } from '../src/dedup/mergeGuard.js';
import { defaultMergeGuard, guardSignature } from '../src/index.js';

describe('salientTokens: a chunk is read for code in lower case, as guardSignature reads it', () => {
  it('an emoticon is prose whatever its case (":D" as ":d"): its letter is a word', () => {
    expect(salientTokens('thanks :D')).toEqual({ words: ['thanks', 'd'], salient: new Set(['d']) });
    expect(salientTokens('thanks :d')).toEqual({ words: ['thanks', 'd'], salient: new Set() });
    expect(defaultMergeGuard('rate :D', 'rate D')).toBe(true);
  });

  it('a code token is kept in lower case: "C++" and "c++" are one word', () => {
    expect(salientTokens('learn C++ now')).toEqual({ words: ['learn', 'c++', 'now'], salient: new Set(['c++']) });
  });
});

describe('salientOrderAgrees: the salient words of both texts, in the same order', () => {
  it('refuses when one text\'s salient words are only the start of the other\'s ("to Paris" / "to Paris and Rome")', () => {
    expect(defaultMergeGuard('fly to Paris', 'fly to Paris and Rome')).toBe(false);
    expect(defaultMergeGuard('fly to Paris and Rome', 'fly to Paris')).toBe(false);
    expect(salientOrderAgrees(salientTokens('fly to Paris'), salientTokens('fly to Paris and Rome'))).toBe(false);
  });

  it('agrees when neither text has a salient word, and when both name the same things in the same order', () => {
    expect(salientOrderAgrees(salientTokens('how do i sleep'), salientTokens('how can i sleep better'))).toBe(true);
    expect(salientOrderAgrees(salientTokens('fly from Paris to Rome'), salientTokens('flights from paris to Rome'))).toBe(true);
    expect(salientOrderAgrees(salientTokens('fly from Paris to Rome'), salientTokens('flights from Rome to paris'))).toBe(false);
  });
});

describe('guardSignature and salientTokens: runs of white space', () => {
  it('read as one space: the empty chunks between them are neither code nor words', () => {
    expect(guardSignature('a  ==\t\tb \n\n c')).toBe(guardSignature('a == b c'));
    expect(salientTokens('Go  to   Paris\t\tnow')).toEqual(salientTokens('Go to Paris now'));
    expect(salientTokens('  x++  ').words).toEqual(['x++']);
  });
});

describe('guardSignature: stems of one letter or none', () => {
  it('no lexicon word is one letter, or two letters ending in "e": a word whose stem is that short has no token', () => {
    for (const letter of 'abcdefghijklmnopqrstuvwxyz') {
      // "yes" is a lexicon word itself, found before any stem.
      for (const suffix of ['s', 'd', 'ed', 'es', 'ing']) if (`${letter}${suffix}` !== 'yes') expect(guardSignature(`${letter}${suffix}`), `${letter}${suffix}`).toBe('');
    }
    for (const word of ['s', 'd', 'ed', 'es', 'ing']) expect(guardSignature(word), word).toBe('');
  });
});
