import { describe, expect, it } from 'vitest';
import { codeToken } from '../src/dedup/lexicalEmbedder.js';
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

  // Symbols and code are content: every pair below was merged by the guard (and most sat at cosine 1.0 with the
  // lexical embedder, which dropped every symbol) before the guard and the embedder read them.
  const refusedCode: Array<[string, string, string]> = [
    ['== against ===', 'What does == do in JS?', 'What does === do in JS?'],
    ['&& against ||', 'How do I use the && operator in bash scripts?', 'How do I use the || operator in bash scripts?'],
    ['!= against !==', 'When should I use != in JavaScript?', 'When should I use !== in JavaScript?'],
    ['a.b against a?.b', 'What does a.b mean in JavaScript?', 'What does a?.b mean in JavaScript?'],
    ['x++ against ++x, swapped', 'What is the difference between x++ and ++x in C?', 'What is the difference between ++x and x++ in C?'],
    ['-> against =>', 'What does -> mean in PHP?', 'What does => mean in PHP?'],
    ['$home against ~ (lower case, so no name is involved)', 'how do i cd to $home in bash', 'how do i cd to ~ in bash'],
    ['c++ against c# at the start of a sentence', 'c++ tutorial for beginners', 'c# tutorial for beginners'],
    ['C++ against C at the start of a sentence', 'C++ is hard to learn', 'C is hard to learn'],
    ['a version string', 'What changed in version 1.2.3 of the library?', 'What changed in version 1.2.4 of the library?'],
    ['a file extension', 'How do I compile .js files with webpack?', 'How do I compile .ts files with webpack?'],
    ['+= against -=', 'What does x += 1 do in Python?', 'What does x -= 1 do in Python?'],
    ['?? against ||', 'What does a ?? b return in JavaScript?', 'What does a || b return in JavaScript?'],
    ['a negative number', 'Why is -5 % 3 negative in C?', 'Why is 5 % 3 negative in C?'],
    ['a flag against none', 'What does rm -rf do?', 'What does rm do?'],
  ];
  it.each(refusedCode)('refuses %s', (_, a, b) => {
    expect(defaultMergeGuard(a, b)).toBe(false);
    expect(defaultMergeGuard(b, a)).toBe(false);
  });

  // ...and the same symbols in both, or punctuation that is prose, do not stand in the way of a merge.
  const allowedCode: Array<[string, string, string]> = [
    ['the same operator, other words', 'How do I use the && operator in bash scripts?', 'How do I use the && operator in a bash script'],
    ['the same operator, other case', 'What does == do in JS?', 'what does == do in js'],
    ['the same code token', 'Is C++ hard to learn?', 'is c++ hard to learn'],
    ['the same variable', 'How do I set $PATH on macOS?', 'How can I set $PATH on macOS'],
    ['quotes, brackets and sentence punctuation', 'What does "sudo" mean (in Linux)?', 'what does sudo mean in Linux...'],
    ['hyphens, apostrophes and abbreviations', "What's an e-mail address, e.g. for the U.S. office?", "whats an e-mail address e.g. for the U.S office"],
    ['a dash between words', 'Python - is it worth learning?', 'Python: is it worth learning?'],
    ['currency and percent by their numbers', 'What is 20% of $100?', 'what is 20 percent of 100 dollars'],
  ];
  it.each(allowedCode)('allows %s', (_, a, b) => {
    expect(defaultMergeGuard(a, b)).toBe(true);
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

  it('reads code-like tokens out of chunks of text, and leaves prose punctuation alone', () => {
    const code = ['==', '&&', '??', '?.', 'a?.b', 'x++', '++x', '$home', '~', '.js', '-rf', '-5', 'c++', 'c#', 'std::vector', 'f()', '%', '/usr/bin', '//', 'a&&b'];
    for (const chunk of code) expect(codeToken(chunk), chunk).toBe(chunk);
    // Sentence punctuation after a token, quotes and unbalanced brackets around it are trimmed off.
    expect(codeToken('x++?')).toBe('x++');
    expect(codeToken('(a&&b).')).toBe('a&&b');
    expect(codeToken('"$path",')).toBe('$path');
    const prose = ['word', 'e-mail', "don't", 'e.g.', 'u.s.', '1,000', '3.5', '10:30', '$100', '20%', '#1', '(in', 'linux)?', '?', '...', '-', '—', '"', '…and', 'snake_case', 'movies/shows', 'km/h', '/', '&', 'q&a', 'founder(s)', 'sh*t', 'self-', ':(', '_'];
    for (const chunk of prose) expect(codeToken(chunk), chunk).toBeUndefined();
  });

  it('reads a chunk of any length in linear time (a text is anyone\'s input)', () => {
    // Each is one chunk of 200,000 characters; trimming them one bracket at a time, recounting each time, took
    // minutes, which the test's time limit catches. No timing assertion of its own: linear reading takes tens of
    // ms alone and seconds on a loaded machine or under mutation testing (3.6 s once), and a suite asserts no times.
    expect(codeToken(')'.repeat(200_000))).toBeUndefined(); // closers without partners: prose, all trimmed
    expect(codeToken(`${'('.repeat(100_000)}x${')'.repeat(100_000)}`)).toBeUndefined(); // brackets around a word
    expect(guardSignature(`${'('.repeat(100_000)}==`)).toBe('`==');
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
