import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { ClientsModule, Transport, type ClientProxy } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
// In your project: from 'rxjs-batch-dedup/nestjs'. This file imports the source so the tests compile and run it.
import { BatchDedupModule, type BatchDedupService, InjectBatcher, sendBatch } from '../../src/nestjs/index.js';

export const MATH_SERVICE = 'MATH_SERVICE';

/** Two ways to call the square service: one message per call, or batched here before sending. */
export class SquareClient {
  constructor(
    private readonly math: ClientProxy,
    private readonly squares: BatchDedupService<number, number>,
  ) {}

  /** One `square` message per call; the server batches. */
  square(n: number): Observable<number> {
    return this.math.send<number, number>('square', n);
  }

  /** Concurrent calls leave as one `square.many` message; each caller gets its own item of the reply. */
  squareBatched(n: number): Observable<number> {
    return this.squares.process(n);
  }
}

Injectable()(SquareClient);
Inject(MATH_SERVICE)(SquareClient, undefined, 0);
InjectBatcher('square')(SquareClient, undefined, 1);

export class SquareClientModule {
  static forServer(host: string, port: number): DynamicModule {
    const clients = ClientsModule.register([{ name: MATH_SERVICE, transport: Transport.TCP, options: { host, port } }]);
    return {
      module: SquareClientModule,
      imports: [
        clients,
        BatchDedupModule.forRootAsync({
          batcherNames: ['square'],
          imports: [clients],
          inject: [MATH_SERVICE],
          useFactory: (math: ClientProxy) => ({
            batchers: { square: { execute: sendBatch<number, number>(math, 'square.many'), windowMs: 5, maxSize: 64 } },
          }),
        }),
      ],
      providers: [SquareClient],
      exports: [SquareClient],
    };
  }
}
Module({})(SquareClientModule);
