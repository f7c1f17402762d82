import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createBatcher, type Batcher } from '../batcher/createBatcher.js';
import { BatchDedupService } from './batchDedupService.js';
import { BATCH_DEDUP_MODULE_OPTIONS, type BatchDedupModuleOptions } from './moduleDefinition.js';
import { repliesWritten } from './repliesWritten.js';
import * as check from '../internal/validate.js';

const DEFAULT_REPLY_FLUSH_TIMEOUT_MS = 5_000;

/**
 * Owns the batchers of one `BatchDedupModule`: creates (and so subscribes) them on module init and drains them
 * before application shutdown, so every request accepted before `app.close()` is answered.
 */
export class BatchDedupRegistry implements OnModuleInit, BeforeApplicationShutdown {
  private readonly batchers = new Map<string, Batcher<unknown, unknown>>();
  private readonly services = new Map<string, BatchDedupService<unknown, unknown>>();
  private draining: Promise<void> | undefined;
  private readonly replyFlushTimeoutMs: number;

  constructor(private readonly options: BatchDedupModuleOptions) {
    if (!options || typeof options.batchers !== 'object' || options.batchers === null) {
      throw new TypeError('BatchDedupModule: options.batchers must be an object of batcher options by name');
    }
    this.replyFlushTimeoutMs =
      options.replyFlushTimeoutMs === undefined
        ? DEFAULT_REPLY_FLUSH_TIMEOUT_MS
        : check.duration('BatchDedupModule', 'replyFlushTimeoutMs', options.replyFlushTimeoutMs);
    for (const name of Object.keys(options.batchers)) {
      this.services.set(name, new BatchDedupService(name, () => this.batcher(name)));
    }
  }

  /** The batcher registered as `name`. Throws if there is none, naming the ones there are. */
  get<T = unknown, R = unknown>(name: string): BatchDedupService<T, R> {
    const service = this.services.get(name);
    if (!service) {
      const known = [...this.services.keys()].join(', ') || 'none';
      throw new Error(`BatchDedupModule: no batcher named "${name}" (registered: ${known})`);
    }
    return service as BatchDedupService<T, R>;
  }

  /** Names of the registered batchers. */
  get names(): string[] {
    return [...this.services.keys()];
  }

  onModuleInit(): void {
    for (const [name, options] of Object.entries(this.options.batchers)) {
      if (!this.batchers.has(name)) this.batchers.set(name, createBatcher(options));
    }
  }

  /**
   * Stops accepting requests, and resolves once every accepted request has been answered and its answer written:
   * every batcher has settled its requests, each `process()` subscriber has its result and Nest has passed each
   * reply to the transport (a macrotask later), and no socket write is still pending in the process (for at most
   * `replyFlushTimeoutMs`).
   * Called before application shutdown; call it yourself before `app.close()` of a standalone microservice, which
   * closes its transport (destroying the sockets, and any reply not yet written) before any lifecycle hook.
   */
  drain(): Promise<void> {
    this.draining ??= this.drainAll();
    return this.draining;
  }

  private async drainAll(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((batcher) => batcher.close()));
    await repliesWritten(this.replyFlushTimeoutMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private batcher(name: string): Batcher<unknown, unknown> {
    const batcher = this.batchers.get(name);
    if (!batcher) throw new Error(`BatchDedupModule: batcher "${name}" used before module init`);
    return batcher;
  }
}

// Applied as calls rather than decorator syntax: the library compiles without `experimentalDecorators`, and the
// explicit token needs no `emitDecoratorMetadata`.
Injectable()(BatchDedupRegistry);
Inject(BATCH_DEDUP_MODULE_OPTIONS)(BatchDedupRegistry, undefined, 0);
