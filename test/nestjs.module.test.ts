/** BatchDedupModule without a transport: registration, injection, the cold Observable, lifecycle, errors. */
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  BATCH_DEDUP_MODULE_OPTIONS,
  BatchDedupModule,
  BatchDedupRegistry,
  getBatcherToken,
  InjectBatcher,
  type BatchDedupService,
} from '../src/nestjs/index.js';
import type { BatchDedupOptions } from '../src/index.js';
import { showsVerbatim } from './support.js';

/** A provider in a feature module that injects the `double` batcher by name. */
class Doubler {
  constructor(readonly doubles: BatchDedupService<number, number>) {}
}
Injectable()(Doubler);
InjectBatcher('double')(Doubler, undefined, 0);

class FeatureModule {}
Module({ providers: [Doubler], exports: [Doubler] })(FeatureModule);

function root(imports: DynamicModule['imports']): DynamicModule {
  class RootModule {}
  Module({})(RootModule);
  return { module: RootModule, imports };
}

function doubling(calls: number[][], batching: Partial<BatchDedupOptions<number, number>> = {}) {
  return {
    execute: async (xs: number[]) => {
      calls.push(xs);
      return xs.map((x) => 2 * x);
    },
    windowMs: 1,
    ...batching,
  };
}

/** Batches of exactly `size`, whatever the clock does: a 1 ms window can close between two synchronous calls. */
const byCount = (size: number) => ({ minSize: size, maxSize: size, maxWaitMs: 60_000 });

describe('BatchDedupModule', () => {
  it('forRoot({ isGlobal }) makes named batchers injectable in modules that do not import it', async () => {
    const calls: number[][] = [];
    const app = await NestFactory.createApplicationContext(
      // Two distinct items fill the batch (maxSize counts distinct items); the second 1 joins the first.
      root([BatchDedupModule.forRoot({ isGlobal: true, batchers: { double: doubling(calls, byCount(2)) } }), FeatureModule]),
      { logger: false },
    );
    try {
      const { doubles } = app.get(Doubler);
      expect(doubles).toBe(app.get(BatchDedupRegistry).get('double'));
      expect(await lastValueFrom(doubles.processAll([1, 2, 1]))).toEqual([2, 4, 2]);
      expect(calls).toEqual([[1, 2]]);
    } finally {
      await app.close();
    }
  });

  it('without isGlobal, a module that does not import it cannot inject its batchers', async () => {
    const creating = NestFactory.createApplicationContext(
      root([BatchDedupModule.forRoot({ batchers: { double: doubling([]) } }), FeatureModule]),
      { logger: false, abortOnError: false },
    );
    await expect(creating).rejects.toThrow(/Doubler/);
  });

  it('forRootAsync resolves options from a factory with injected dependencies', async () => {
    const calls: number[][] = [];
    class ConfigModule {}
    Module({ providers: [{ provide: 'CALLS', useValue: calls }], exports: ['CALLS'] })(ConfigModule);
    const app = await NestFactory.createApplicationContext(
      root([
        BatchDedupModule.forRootAsync({
          isGlobal: true,
          batcherNames: ['double'],
          imports: [ConfigModule],
          inject: ['CALLS'],
          useFactory: async (sink: number[][]) => ({ batchers: { double: doubling(sink) } }),
        }),
        FeatureModule,
      ]),
      { logger: false },
    );
    try {
      expect(await lastValueFrom(app.get(Doubler).doubles.process(21))).toBe(42);
      expect(calls).toEqual([[21]]);
      expect(app.get(BATCH_DEDUP_MODULE_OPTIONS)).toHaveProperty('batchers.double');
    } finally {
      await app.close();
    }
  });

  it('process() is cold: nothing is sent before subscription, and unsubscribing withdraws a waiting request', async () => {
    const calls: number[][] = [];
    const app = await NestFactory.createApplicationContext(
      root([BatchDedupModule.forRoot({ batchers: { double: { ...doubling(calls), windowMs: 20 } } })]),
      { logger: false },
    );
    try {
      const doubles = app.get<BatchDedupService<number, number>>(getBatcherToken('double'));
      doubles.process(1); // not subscribed: never sent
      doubles.process(2).subscribe().unsubscribe(); // withdrawn before its window closes
      const twice = doubles.process(3);
      expect(await Promise.all([firstValueFrom(twice), firstValueFrom(twice)])).toEqual([6, 6]);
      expect(calls.flat()).toContain(3);
      expect(calls.flat().every((x) => x === 3)).toBe(true); // 1 was never sent, 2 was withdrawn
      expect(doubles.getStats().totalRequests).toBe(3); // 2 (withdrawn) and 3 twice: every subscription submits
    } finally {
      await app.close();
    }
  });

  it('registry: names, a helpful error for an unknown name, drain on app.close()', async () => {
    const app = await NestFactory.createApplicationContext(
      root([BatchDedupModule.forRoot({ batchers: { double: doubling([]), triple: doubling([]) } })]),
      { logger: false },
    );
    const registry = app.get(BatchDedupRegistry);
    expect(registry.names).toEqual(['double', 'triple']);
    expect(() => registry.get('quadruple')).toThrow('no batcher named "quadruple" (registered: double, triple)');
    const pending = lastValueFrom(registry.get<number, number>('triple').process(5));
    await app.close();
    expect(await pending).toBe(10);
    await expect(lastValueFrom(registry.get('double').process(1))).rejects.toMatchObject({ name: 'BatcherClosedError' });
  });

  it('invalid batcher options fail application start with the option named', async () => {
    const creating = NestFactory.createApplicationContext(
      root([BatchDedupModule.forRoot({ batchers: { bad: { ...doubling([]), maxSize: 0 } } })]),
      { logger: false, abortOnError: false },
    );
    await expect(creating).rejects.toThrow(/maxSize/);
  });
});

// The service and client that docs/nestjs.md shows are the ones test/nestjs.majors.test.ts installs and runs.
showsVerbatim('docs/nestjs.md', [
  'test/fixtures/nest-app/src/square.service.ts',
  'test/fixtures/nest-app/src/square.client.ts',
  'test/fixtures/nest-app/src/shutdown.ts',
]);
