import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createBatcher } from '../batcher/withSimilarity.js';
import type { Batcher } from '../batcher/createBatcher.js';
import { BatchDedupService } from './batchDedupService.js';
import { BATCH_DEDUP_MODULE_OPTIONS, type BatchDedupModuleOptions } from './moduleDefinition.js';
import * as check from '../base/validate.js';

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

/**
 * Waiting for replies to leave the process, between "every batcher has settled its requests" and closing the
 * transport. Two steps, because a reply travels in two:
 *
 * 1. A settled request reaches its `process()` subscriber a microtask later, and Nest's `Server.send` hands each
 *    value of a handler's Observable to the transport on `process.nextTick`: a macrotask after the last request
 *    settled, every reply has been passed to `socket.write`.
 * 2. `socket.write` copies what the kernel takes at once and keeps the rest (a large reply, a peer reading slowly)
 *    in the process, behind a pending write request; `app.close()` destroys the sockets and that rest with them.
 *    So wait until no write request is pending, for at most `maxWaitMs`: a peer that stopped reading must not
 *    hold the shutdown forever.
 *
 * Node-only, as Nest is; where `process.getActiveResourcesInfo` is missing, step 2 is skipped.
 */
async function repliesWritten(maxWaitMs: number): Promise<void> {
  await delay(0);
  const activeResources = nodeProcess()?.getActiveResourcesInfo;
  if (typeof activeResources !== 'function') return;
  const deadline = Date.now() + maxWaitMs;
  // 'WriteWrap' (writev) and 'SimpleWriteWrap' (write): libuv write requests not yet completed.
  while (activeResources().some((name) => name.endsWith('WriteWrap')) && Date.now() < deadline) await delay(2);
}

/** Node's `process` without Node's types: the library compiles without them. */
function nodeProcess(): { getActiveResourcesInfo?: () => string[] } | undefined {
  return (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Applied as calls rather than decorator syntax: the library compiles without `experimentalDecorators`, and the
// explicit token needs no `emitDecoratorMetadata`.
Injectable()(BatchDedupRegistry);
Inject(BATCH_DEDUP_MODULE_OPTIONS)(BatchDedupRegistry, undefined, 0);
