export { bufferWindow, type BufferWindowOptions } from './bufferWindow.js';
export { adaptiveBuffer, type AdaptiveBufferOptions } from './adaptiveBuffer.js';
export type { AdaptiveOptions } from '../internal/adaptiveWindow.js';
export { dedupBy, type DedupByOptions } from './dedupBy.js';
export { fanOut, type FanOutOptions } from './fanOut.js';
export { batchDedup, type BatchDedupOptions } from './batchDedup.js';
export { createBatchFeedback, type BatchFeedback, type BatchReport } from '../internal/feedback.js';
export type { WindowOptions } from '../internal/windowSettings.js';
export type { BatchResult, DedupedBatch, ExecuteContext, ExecuteFn, StreamedResult } from '../types.js';
