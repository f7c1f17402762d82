import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BatchDedupOptions } from '../operators/batchDedup.js';

/**
 * Options of `BatchDedupModule`: the batchers to run, by name.
 *
 * ```ts
 * BatchDedupModule.forRoot({ batchers: { embed: { execute: (texts) => embedder.embedMany(texts), windowMs: 10 } } })
 * ```
 */
export interface BatchDedupModuleOptions {
  /** One `createBatcher` per entry; inject each with `@InjectBatcher(name)` or `registry.get(name)`. */
  // Batchers of one module carry unrelated request and result types, so the map cannot name one pair.
  batchers: Record<string, BatchDedupOptions<any, any>>;
  /**
   * How long `drain()` (and so shutdown) waits at most, once every request is answered, for replies still being
   * written to leave the process: large replies, or a peer reading slowly. Default 5000 ms.
   */
  replyFlushTimeoutMs?: number;
}

/** Options that shape the module definition rather than the batchers. */
export interface BatchDedupModuleExtras {
  /** Register the module globally, so feature modules need not import it. Default false. */
  isGlobal?: boolean;
  /**
   * Names to register as `@InjectBatcher(name)` providers. `forRoot` defaults to every key of `batchers`;
   * `forRootAsync` cannot see the options before they resolve, so list the names here (or use `registry.get`).
   */
  batcherNames?: string[];
}

export const {
  ConfigurableModuleClass: ConfigurableBatchDedupModule,
  MODULE_OPTIONS_TOKEN: BATCH_DEDUP_MODULE_OPTIONS,
  OPTIONS_TYPE: BATCH_DEDUP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: BATCH_DEDUP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BatchDedupModuleOptions>({ moduleName: 'BatchDedup' })
  .setClassMethodName('forRoot')
  .setExtras<BatchDedupModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? false,
  }))
  .build();
