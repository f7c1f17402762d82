import { Inject } from '@nestjs/common';

/** The injection token of the named batcher `name` (a `BatchDedupService`). */
export function getBatcherToken(name: string): string {
  return `BatchDedupService:${name}`;
}

/**
 * Injects the named batcher registered by `BatchDedupModule`: `@InjectBatcher('embed') embed: BatchDedupService<T, R>`.
 * An explicit token, so it works without `emitDecoratorMetadata`.
 */
export function InjectBatcher(name: string): PropertyDecorator & ParameterDecorator {
  return Inject(getBatcherToken(name));
}
