/**
 * A realistic request mix for the demo: assistant prompts where a few are asked constantly (Zipf), some differ
 * only in parameters (same prompt, another temperature or city), and tenants ask the same things.
 */

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

/** Mulberry32: a tiny deterministic PRNG, so every run of the demo sees the same stream. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index in [0, n) with probability proportional to 1 / (rank + 1)^s. */
function zipf(random: () => number, n: number, s = 1.1): number {
  let total = 0;
  for (let k = 1; k <= n; k++) total += 1 / k ** s;
  let r = random() * total;
  for (let k = 1; k <= n; k++) {
    r -= 1 / k ** s;
    if (r <= 0) return k - 1;
  }
  return n - 1;
}

export function makeRequest(random: () => number): CompletionRequest {
  const prompt = PROMPTS[zipf(random, PROMPTS.length)]!;
  // Most callers use the default temperature; some tune it, which makes a different request.
  const temperature = random() < 0.85 ? 0.2 : 0.7;
  if (prompt.startsWith('What is the weather')) {
    return { model: 'small', prompt, temperature, params: { city: CITIES[zipf(random, CITIES.length)]!, unit: random() < 0.8 ? 'C' : 'F' } };
  }
  if (prompt.startsWith('What is the status of my order')) {
    return { model: 'small', prompt, temperature, params: { order: ORDERS[Math.floor(random() * ORDERS.length)]! } };
  }
  return { model: random() < 0.9 ? 'small' : 'large', prompt, temperature };
}
