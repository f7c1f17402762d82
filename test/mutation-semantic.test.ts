/**
 * The text and rest of a request as similarity dedup reads them (src/dedup/embedder.ts, restKey.ts), where mutation
 * testing found promises no test guarded (docs/testing.md): `textSource` says where `defaultText` read a text,
 * and has no text exactly when `defaultText` has none (restKey.ts takes out exactly what was read from there).
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupedBatch } from '../src/index.js';
import { dedupBy } from '../src/operators/index.js';
import { defaultText, textSource } from '../src/dedup/embedder.js';

const shapes: Array<[string, unknown, string | undefined]> = [
  ['a string request', 'hello', 'request'],
  ['the empty string', '', 'request'],
  ['query', { query: 'q', text: 't' }, 'query'],
  ['text', { text: 't', prompt: 'p' }, 'text'],
  ['prompt', { prompt: 'p', input: 'i' }, 'prompt'],
  ['input', { input: 'i' }, 'input'],
  ['a non-string query skipped for text', { query: 1, text: 't' }, 'text'],
  ['the last chat message', { messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }, 'messages'],
  ['text parts', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] }, 'messages'],
  ['an image part', { messages: [{ role: 'user', content: [{ type: 'image', url: 'x' }] }] }, undefined],
  ['no messages', { messages: [] }, undefined],
  ['messages that are not an array', { messages: 'hi' }, undefined],
  ['a last message that is null', { messages: [{ role: 'user', content: 'a' }, null] }, undefined],
  ['a last message that is a class instance', { messages: [new (class Message { content = 'a'; })()] }, undefined],
  ['a last message that is an array', { messages: [[{ content: 'a' }]] }, undefined],
  ['a last message whose content is a number', { messages: [{ content: 7 }] }, undefined],
  ['a last message whose part is null', { messages: [{ content: [null] }] }, undefined],
  ['no field', { id: 1 }, undefined],
  ['null', null, undefined],
  ['a number', 42, undefined],
  ['undefined', undefined, undefined],
  ['a boolean', true, undefined],
];

describe('textSource and defaultText', () => {
  it.each(shapes)('%s: textSource names where the text is read', (_, request, source) => {
    expect(textSource(request)).toBe(source);
  });

  it.each(shapes)('%s: defaultText reads a text exactly when textSource names a source', (_, request, source) => {
    expect(defaultText(request) !== undefined).toBe(source !== undefined);
  });

  const texts: Array<[string, unknown, string | undefined]> = [
    ['a string request', 'hello', 'hello'],
    ['the first string field, in the order query, text, prompt, input', { input: 'i', prompt: 'p', text: 't' }, 't'],
    ['the last message\'s string content', { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }, 'b'],
    ['text parts joined by newlines', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }, { type: 'text', text: 'c' }] }] }, 'a\nb\nc'],
    ['a single text part', { messages: [{ content: [{ type: 'text', text: 'only' }] }] }, 'only'],
    ['content that is a number', { messages: [{ content: 7 }] }, undefined],
    ['content that is an empty array', { messages: [{ content: [] }] }, undefined],
    ['a text part among others', { messages: [{ content: [{ type: 'text', text: 'a' }, { type: 'image', text: 'b' }] }] }, undefined],
    ['a part whose text is not a string', { messages: [{ content: [{ type: 'text', text: 1 }] }] }, undefined],
    ['a part that is null', { messages: [{ content: [null] }] }, undefined],
    ['a part that is an array', { messages: [{ content: [['text']] }] }, undefined],
    ['a part that is a class instance', { messages: [{ content: [new (class Part { type = 'text'; text = 'a'; })()] }] }, undefined],
    ['a getter that throws', { get query(): string { throw new Error('no'); } }, undefined],
  ];

  it.each(texts)('defaultText reads %s', (_, request, text) => {
    expect(defaultText(request)).toBe(text);
  });
});

describe('a metric given as a function', () => {
  it('is the similarity dedup compares with: one that rates every pair 1 merges texts the built-in cosine keeps apart', () => {
    const run = (metric?: () => number) => {
      let out: DedupedBatch<string> | undefined;
      of(['what is love', 'tell me a joke']).pipe(dedupBy<string>({ dedupStrategy: 'embedding', ...(metric && { metric }) })).subscribe((batch) => (out = batch));
      return out?.leaderOf;
    };
    expect(run()).toEqual([0, 1]);
    expect(run(() => 1)).toEqual([0, 0]);
  });
});

describe('the rest of a request (restKey.ts), through dedupBy with embedding', () => {
  const dedupOnce = <T>(items: T[]) => {
    let out: DedupedBatch<T> | undefined;
    of(items).pipe(dedupBy<T>({ dedupStrategy: 'embedding' })).subscribe((batch) => (out = batch));
    return out!;
  };

  it('a string request has no rest: two near-identical strings merge', () => {
    expect(dedupOnce(['how do I reset my password?', 'how do i reset my password']).leaderOf).toEqual([0, 0]);
  });

  it('a class instance is refused as a whole, naming its class, not copied into a plain object', () => {
    class Req {
      constructor(readonly query: string) {}
    }
    const batch = dedupOnce([new Req('a'), new Req('a')]);
    expect(batch.leaderOf).toEqual([-1, -1]);
    expect(String(batch.failures!.get(0))).toMatch(/^TypeError: dedupBy: the rest of the request .* cannot encode an instance of Req/);
  });
});

describe('a metric that is neither a function nor a known name', () => {
  const refusal = (metric: unknown) => {
    try {
      dedupBy<string>({ dedupStrategy: 'embedding', metric: metric as never });
    } catch (error) {
      return String(error);
    }
    return 'accepted';
  };

  it('is refused with the names it may be, each quoted and separated by a comma', () => {
    expect(refusal('nope')).toMatch(/^TypeError: dedupBy: metric must be a function or one of the ml-distance similarities ('[a-zA-Z]+', )+'[a-zA-Z]+', got "nope"$/);
  });

  it('names what it got: a number as written, an object as String() gives it', () => {
    expect(refusal(5)).toMatch(/, got 5$/);
    expect(refusal({})).toMatch(/, got \[object Object\]$/);
  });
});
