import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { BatchDedupRegistry } from './batchDedupRegistry.js';
import {
  BATCH_DEDUP_ASYNC_OPTIONS_TYPE,
  BATCH_DEDUP_OPTIONS_TYPE,
  ConfigurableBatchDedupModule,
} from './moduleDefinition.js';
import { getBatcherToken } from './tokens.js';

/**
 * Runs named batchers inside a Nest application.
 *
 * ```ts
 * BatchDedupModule.forRoot({ isGlobal: true, batchers: { square: { execute: squareMany, windowMs: 5 } } })
 * BatchDedupModule.forRootAsync({ batcherNames: ['square'], inject: [Backend], useFactory: (b: Backend) => ({ ... }) })
 * ```
 *
 * Provides `BatchDedupRegistry` and, per name, a `BatchDedupService` under `getBatcherToken(name)`
 * (`@InjectBatcher(name)`). Batchers start on module init and drain before application shutdown.
 */
export class BatchDedupModule extends ConfigurableBatchDedupModule {
  static override forRoot(options: typeof BATCH_DEDUP_OPTIONS_TYPE): DynamicModule {
    const names = options.batcherNames ?? Object.keys(options.batchers ?? {});
    return withNamedBatchers(super.forRoot(options), names);
  }

  static override forRootAsync(options: typeof BATCH_DEDUP_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withNamedBatchers(super.forRootAsync(options), options.batcherNames ?? []);
  }
}

Module({ providers: [BatchDedupRegistry], exports: [BatchDedupRegistry] })(BatchDedupModule);

function withNamedBatchers(definition: DynamicModule, names: readonly string[]): DynamicModule {
  const named: Provider[] = names.map((name) => ({
    provide: getBatcherToken(name),
    useFactory: (registry: BatchDedupRegistry) => registry.get(name),
    inject: [BatchDedupRegistry],
  }));
  return {
    ...definition,
    providers: [...(definition.providers ?? []), ...named],
    exports: [...(definition.exports ?? []), ...names.map(getBatcherToken)],
  };
}
