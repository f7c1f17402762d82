/**
 * The HTTP service under load, as `npm run bench:http` last recorded it (bench/results/http.md): that bench runs
 * the example service in child processes for minutes, so `npm run bench` does not rerun it; it carries its last
 * full run into docs/benchmarks.md. Prints the recorded tables; nothing when there are none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './lib/report.js';

const resultsFile = fileURLToPath(new URL('results/http.md', import.meta.url));

export default async function httpRecorded(): Promise<BenchSection | void> {
  if (!existsSync(resultsFile)) {
    console.log('http: nothing recorded yet (run npm run bench:http)');
    return;
  }
  const recorded = readFileSync(resultsFile, 'utf8').trim();
  console.log(recorded);
  const verdict = recorded.split('\n').find((line) => line.startsWith('bench:http:'));
  return {
    title: 'HTTP service under load (npm run bench:http)',
    summary: verdict ? `HTTP: ${verdict.replace(/^bench:http: /, '')}.` : undefined,
    markdown: [
      'The query service of examples/http (Fastify; a backend that costs 20 ms per call whatever its size and serves 4',
      'calls at once) under autocannon on 127.0.0.1, in three modes on the same backend: each request its own call,',
      '`createBatcher` (window 5 ms, up to 64 a call, 4 calls at once), and DataLoader as people write it',
      '(examples/http/dataloader.ts: a new DataLoader per batch, one tick of loads a call, up to 64, its cache as dedup).',
      'Each run: its own server process, 1 s of warm-up, then 5 s of load; bodies drawn from 5,000 questions.',
      'Reproduce with `npm run bench:http`, which rewrites bench/results/http.md; `npm run bench` copies it here.',
      '',
      recorded,
    ].join('\n'),
  };
}
