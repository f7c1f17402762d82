/**
 * Runs a recipe against a demo backend: `node --import tsx examples/serve.ts express|fastify [--port 3000]`, then
 * `curl -s localhost:3000/answer -H 'content-type: application/json' -d '{"question":"hi"}'`.
 * Prints `listening <port>` once ready and `backend call: <n> questions` per backend call; SIGTERM drains and exits.
 */
import type { AddressInfo } from 'node:net';
// In your project: from 'rxjs-batch-dedup'. This file imports the source so the tests compile and run it.
import { createBatcher } from '../src/index.js';
import * as express from './express.js';
import * as fastify from './fastify.js';

const [framework = 'express', ...args] = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 3000;

/** A demo backend: 300 ms a call, however many questions it carries. */
async function answerMany(questions: string[]): Promise<string[]> {
  console.log(`backend call: ${questions.length} questions`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return questions.map((q) => `answer to ${q}`);
}

const batcher = createBatcher<string, string>({ execute: answerMany, windowMs: 10, maxSize: 64 });

if (framework === 'express') {
  const server = express.serve(batcher, port);
  server.once('listening', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
} else if (framework === 'fastify') {
  const app = await fastify.serve(batcher, port);
  console.log(`listening ${(app.server.address() as AddressInfo).port}`);
} else {
  console.error(`usage: node --import tsx examples/serve.ts express|fastify [--port 3000] (got ${framework})`);
  process.exit(2);
}
