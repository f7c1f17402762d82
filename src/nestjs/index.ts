export { BatchDedupModule } from './batchDedupModule.js';
export { BatchDedupRegistry } from './batchDedupRegistry.js';
export { BatchDedupService } from './batchDedupService.js';
export {
  BATCH_DEDUP_MODULE_OPTIONS,
  type BatchDedupModuleOptions,
  type BatchDedupModuleExtras,
} from './moduleDefinition.js';
export { getBatcherToken, InjectBatcher } from './tokens.js';
export { sendBatch } from './sendBatch.js';
