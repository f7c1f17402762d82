/**
 * How the lexical embedder tells code from prose (src/dedup/lexicalEmbedder.ts): the operators made of sentence
 * punctuation alone (`??`, `?.`, `?:`, `::`) are code, and a closing bracket after a call is prose only while it
 * has no partner left (`f())` is the call `f()` and a stray `)`). Found unguarded by Stryker (issue 17, stop 18):
 * without the count of the brackets stripped so far, `f())` lost both closers and read as the word `f`.
 */
import { describe, expect, it } from 'vitest';
import { codeToken, createLexicalEmbedder, normalizeText } from '../src/dedup/lexicalEmbedder.js';

describe('operators of sentence punctuation alone are code', () => {
  it.each(['??', '?.', '?:', '::'])('%s is a code token, kept by normalizeText', (operator) => {
    expect(codeToken(operator)).toBe(operator);
    expect(normalizeText(`a ${operator} b`)).toBe(`a ${operator} b`);
  });

  it('"x ?? y" and "x y" are embedded apart', async () => {
    const [withOperator, without] = await createLexicalEmbedder()(['x ?? y', 'x y']);
    expect(Array.from(withOperator!)).not.toEqual(Array.from(without!));
  });
});

describe('brackets stripped from the end of a chunk are counted', () => {
  it.each([
    ['f())', 'f()'],
    ['f()))', 'f()'],
  ])('%s is the call %s', (chunk, call) => {
    expect(codeToken(chunk)).toBe(call);
    expect(normalizeText(`call ${chunk}`)).toBe('call f ()');
  });
});

describe('prose around a code token is trimmed, the token kept', () => {
  it.each([
    ['a leading ellipsis of dots', '...a&&b', 'a&&b'],
    ['a leading ellipsis of two dots', '..a&&b', 'a&&b'],
    ['a leading ellipsis character', '\u2026a&&b', 'a&&b'],
    ['brackets around the whole token, twice', '((a&&b))', 'a&&b'],
    ['a wrapping pair, then an opener left without partner', '((f())', 'f()'],
    ['a closer first and an opener last: no pair, kept', ')a&&b(', ')a&&b('],
    ['dots inside a token: kept', 'x...a&&b', 'x...a&&b'],
  ])('%s: %s is %s', (_, chunk, token) => {
    expect(codeToken(chunk)).toBe(token);
  });

  it('an empty pair alone is prose: nothing is left of it', () => {
    expect(codeToken('()')).toBeUndefined();
    expect(normalizeText('a () b')).toBe('a b');
  });
});
