import type { Meter } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
// In your project: from 'rxjs-batch-dedup', 'rxjs-batch-dedup/otel' and 'rxjs-batch-dedup/nestjs'.
// This file imports the source so the tests compile and run it.
import { createBatcher } from '../../src/index.js';
import type { BatchDedupRegistry } from '../../src/nestjs/index.js';
import { publishBatchStats, type BatchStatsMetrics } from '../../src/otel/index.js';

/** A batcher whose stats go to `exporter` every 10 s (your OTLP exporter in production). */
export function instrumentedEmbedder(exporter: PushMetricExporter) {
  const provider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 10_000 })],
  });
  const embedder = createBatcher<string, number[]>({
    execute: async (texts) => texts.map((text) => [text.length]),
    windowMs: 10,
    costPerRequestUsd: 0.0001,
  });
  const metrics = publishBatchStats(embedder, {
    meter: provider.getMeter('search-service'),
    attributes: { 'batcher.name': 'embed' },
  });

  return {
    embedder,
    provider,
    async shutdown() {
      await embedder.close(); // drain first, so the final export counts every request
      await provider.forceFlush();
      metrics.unregister();
      await provider.shutdown();
    },
  };
}

/** In a Nest application: one set of instruments per registered batcher, told apart by `batcher.name`. */
export function publishRegistry(registry: BatchDedupRegistry, meter: Meter): BatchStatsMetrics[] {
  return registry.names.map((name) =>
    publishBatchStats(registry.get(name), { meter, attributes: { 'batcher.name': name } }),
  );
}
