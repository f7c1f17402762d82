import { Controller, Inject, Module } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
// In your project: from 'rxjs-batch-dedup/nestjs'. This file imports the source so the tests compile and run it.
import { BatchDedupModule, type BatchDedupService, InjectBatcher } from '../../src/nestjs/index.js';

/** The expensive backend: one round trip per call, whatever the batch size. */
export class SquareBackend {
  /** Every batch it was asked for. */
  readonly calls: number[][] = [];

  async squareMany(ns: number[]): Promise<number[]> {
    this.calls.push([...ns]);
    await new Promise((resolve) => setTimeout(resolve, 2)); // the fixed per-call cost
    return ns.map((n) => n * n);
  }
}

export class SquareBackendModule {}
Module({ providers: [SquareBackend], exports: [SquareBackend] })(SquareBackendModule);

export class SquareController {
  constructor(
    private readonly squares: BatchDedupService<number, number>,
    private readonly backend: SquareBackend,
  ) {}

  /** One message, one answer: concurrent messages share backend batches, duplicates one execution. */
  square(n: number): Observable<number> {
    return this.squares.process(n);
  }

  /** A whole batch in one message, for clients that batch on their side (`sendBatch`). */
  squareMany(ns: number[]): Promise<number[]> {
    return this.backend.squareMany(ns);
  }
}

// Nest's decorators, applied as calls because this repository compiles without `experimentalDecorators`.
// With it, write @Controller(), @InjectBatcher('square'), @Inject(SquareBackend) and @MessagePattern(...) as usual.
Controller()(SquareController);
InjectBatcher('square')(SquareController, undefined, 0);
Inject(SquareBackend)(SquareController, undefined, 1);
for (const [method, pattern] of [['square', 'square'], ['squareMany', 'square.many']] as const) {
  MessagePattern(pattern)(SquareController.prototype, method, Object.getOwnPropertyDescriptor(SquareController.prototype, method)!);
}

export class SquareServerModule {}
Module({
  imports: [
    SquareBackendModule,
    BatchDedupModule.forRootAsync({
      batcherNames: ['square'],
      imports: [SquareBackendModule],
      inject: [SquareBackend],
      useFactory: (backend: SquareBackend) => ({
        batchers: { square: { execute: (ns: number[]) => backend.squareMany(ns), windowMs: 5, maxSize: 64 } },
      }),
    }),
  ],
  controllers: [SquareController],
})(SquareServerModule);
