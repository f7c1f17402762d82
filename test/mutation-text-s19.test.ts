/**
 * Where the default `text(request)` reads a chat's text (embedder.ts), on the shapes the stop-19 mutation run
 * found unguarded (issue 17, H-MUT6): `textSource` and `defaultText` agree on them, and neither throws.
 */
import { describe, expect, it } from 'vitest';
import { defaultText, textSource } from '../src/dedup/embedder.js';

describe('textSource and defaultText on the last chat message', () => {
  it.each([
    ['an empty messages array', { messages: [] }],
    ['a last message that is undefined', { messages: [{ role: 'user', content: 'hi' }, undefined] }],
    ['a last message that is a string', { messages: ['hi'] }],
    ['a last message whose content is an empty array', { messages: [{ role: 'user', content: [] }] }],
    ['a last message of a class', { messages: [new (class Message { content = 'hi'; })()] }],
    ['a content part that is undefined', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, undefined] }] }],
    ['a content part that is a string', { messages: [{ role: 'user', content: ['a'] }] }],
  ])('%s: no text, and no throw', (_, request) => {
    expect(textSource(request)).toBeUndefined();
    expect(defaultText(request)).toBeUndefined();
  });

  it('reads the last message only, not the first', () => {
    const request = { messages: [{ role: 'user', content: 'first' }, { role: 'user', content: 'last' }] };
    expect(textSource(request)).toBe('messages');
    expect(defaultText(request)).toBe('last');
  });

  it('an empty array with a "-1" property has no text', () => {
    const messages: unknown[] = [];
    (messages as unknown as Record<string, unknown>)['-1'] = { role: 'user', content: 'hidden' };
    expect(defaultText({ messages })).toBeUndefined();
    expect(textSource({ messages })).toBeUndefined();
  });
});
