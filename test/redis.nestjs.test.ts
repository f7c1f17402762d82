/**
 * The NestJS module given the store (docs/replicas.md): two Nest apps, as two replicas, with
 * `BatchDedupModule.forRootAsync` and `redisStore` on one real Redis. A question asked of both at once is
 * executed once, by one of them; asked later of a third replica started since, it is answered from Redis.
 */
import { NestFactory } from '@nestjs/core';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AnswerBackend, AnswerService, answersModule } from './fixtures/redis-nest/answers.module.js';
import { redisAvailable, requiresRedis, startRedis, type RedisServer } from './support-redis.js';

requiresRedis('test/redis.nestjs.test.ts');
const itRedis = redisAvailable ? it : it.skip;

let redis: RedisServer | undefined;
beforeAll(async () => {
  if (redisAvailable) redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

itRedis('Nest replicas given redisStore: a question asked of two at once is executed once; a third started later answers it from Redis', async () => {
  const replicas = await Promise.all([0, 1].map(() => NestFactory.createApplicationContext(answersModule(redis!.url), { logger: false })));
  try {
    const ask = (i: number, q: string) => lastValueFrom(replicas[i]!.get(AnswerService).ask(q));
    const backends = replicas.map((app) => app.get(AnswerBackend));
    const executed = () => backends.flatMap((b) => b.calls.flat());
    // Both replicas connect first: a call before the client is ready would fall back to local execution.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await Promise.all([ask(0, 'q1'), ask(1, 'q1')])).toEqual(['answer to q1', 'answer to q1']);
    expect(executed()).toEqual(['q1']);
    const late = await NestFactory.createApplicationContext(answersModule(redis!.url), { logger: false });
    replicas.push(late);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await lastValueFrom(late.get(AnswerService).ask('q1'))).toBe('answer to q1');
    expect(late.get(AnswerBackend).calls).toEqual([]);
    expect(executed()).toEqual(['q1']);
  } finally {
    await Promise.all(replicas.map((app) => app.close()));
  }
}, 30_000);
