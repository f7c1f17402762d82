/**
 * A realistic request mix for the demo: assistant prompts where a few are asked constantly (Zipf), some differ
 * only in parameters (same prompt, another temperature or city).
 */

import { zipfSampler } from '../bench/lib/random.js';

export interface CompletionRequest {
  readonly model: string;
  readonly prompt: string;
  readonly temperature: number;
  readonly params?: Readonly<Record<string, string | number>>;
}

const PROMPTS = [
  'What is the capital of France?',
  'How do I reset my password?',
  'Summarise our refund policy in two sentences.',
  'What are your opening hours on Sunday?',
  'Explain the difference between TCP and UDP.',
  'Write a haiku about autumn.',
  'How do I cancel my subscription?',
  'What is the status of my order?',
  'Translate "good morning" into Spanish.',
  'Give me three ideas for a team lunch.',
  'What does HTTP 429 mean?',
  'How do I enable two-factor authentication?',
  'Which plan includes priority support?',
  'Convert 100 USD to EUR.',
  'What is a closure in JavaScript?',
  'How long does shipping to Canada take?',
  'Recommend a book about habits.',
  'How do I export my data as CSV?',
  'What is the weather like today?',
  'Explain RxJS switchMap in one paragraph.',
] as const;

const CITIES = ['Paris', 'Berlin', 'Tokyo', 'Lima'] as const;
const ORDERS = ['A-1001', 'A-1002', 'A-1003', 'B-2001'] as const;

/** Builds the demo's request mix, drawing from `random` (seed it for a stream that is the same every run). */
export function requestMaker(random: () => number): () => CompletionRequest {
  const prompts = zipfSampler(PROMPTS.length, 1.1, random);
  const cities = zipfSampler(CITIES.length, 1.1, random);
  return () => makeRequest(random, prompts, cities);
}

function makeRequest(random: () => number, prompts: () => number, cities: () => number): CompletionRequest {
  const prompt = PROMPTS[prompts()]!;
  // Most callers use the default temperature; some tune it, which makes a different request.
  const temperature = random() < 0.85 ? 0.2 : 0.7;
  if (prompt.startsWith('What is the weather')) {
    return { model: 'small', prompt, temperature, params: { city: CITIES[cities()]!, unit: random() < 0.8 ? 'C' : 'F' } };
  }
  if (prompt.startsWith('What is the status of my order')) {
    return { model: 'small', prompt, temperature, params: { order: ORDERS[Math.floor(random() * ORDERS.length)]! } };
  }
  return { model: random() < 0.9 ? 'small' : 'large', prompt, temperature };
}
