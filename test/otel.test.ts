/** `publishBatchStats` read back through the OpenTelemetry SDK's own readers. */
import { NestFactory } from '@nestjs/core';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentedEmbedder, publishRegistry } from '../docs/snippets/metrics.js';
import { createBatcher, createBatchStats } from '../src/index.js';
import { BatchDedupModule, BatchDedupRegistry } from '../src/nestjs/index.js';
import { publishBatchStats } from '../src/otel/index.js';
import { showsVerbatim } from './support.js';

/** A reader the test pulls from: `collect()` on demand, nothing periodic. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function metricsOf(resourceMetrics: ResourceMetrics): Map<string, MetricData> {
  return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((m) => [m.descriptor.name, m]));
}

/** The value of `name` at the point whose attributes include `attributes`. */
function valueOf(metrics: Map<string, MetricData>, name: string, attributes: Record<string, string> = {}): unknown {
  const metric = metrics.get(name);
  if (!metric) throw new Error(`no metric ${name}; have ${[...metrics.keys()].join(', ')}`);
  const point = metric.dataPoints.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
  return point?.value;
}

const providers: MeterProvider[] = [];
function pullProvider(): { reader: PullReader; provider: MeterProvider } {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  return { reader, provider };
}

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
});

describe('publishBatchStats', () => {
  it('publishes totals as cumulative counters and the rest as gauges, with the given attributes', async () => {
    const { reader, provider } = pullProvider();
    const batcher = createBatcher<string, string>({
      execute: async (xs) => xs.map((x) => x.toUpperCase()),
      windowMs: 1,
      // One batch of 4 requests, 2 distinct items, whatever the clock does between the synchronous submissions:
      // the copies of a join it while it waits, and b fills the batch (maxSize counts distinct items).
      minSize: 2,
      maxSize: 2,
      maxWaitMs: 60_000,
      costPerRequestUsd: 0.5,
    });
    publishBatchStats(batcher, { meter: provider.getMeter('test'), attributes: { 'batcher.name': 'upper' } });
    await batcher.processAll(['a', 'a', 'a', 'b']);
    await batcher.close();

    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metrics = metricsOf(resourceMetrics);
    const at = { 'batcher.name': 'upper' };
    expect(valueOf(metrics, 'batch_dedup.requests', at)).toBe(4);
    expect(valueOf(metrics, 'batch_dedup.batches', at)).toBe(1);
    expect(valueOf(metrics, 'batch_dedup.executed_items', at)).toBe(2);
    expect(valueOf(metrics, 'batch_dedup.deduplicated', at)).toBe(2);
    expect(valueOf(metrics, 'batch_dedup.completed', at)).toBe(4);
    expect(valueOf(metrics, 'batch_dedup.errors', at)).toBe(0);
    expect(valueOf(metrics, 'batch_dedup.cost_saved', at)).toBe(1);
    expect(valueOf(metrics, 'batch_dedup.batch_size.average', at)).toBe(4);
    expect(valueOf(metrics, 'batch_dedup.dedup_rate', at)).toBe(0.5);
    expect(valueOf(metrics, 'batch_dedup.queue_depth', at)).toBe(0);
    expect(metrics.get('batch_dedup.requests')).toMatchObject({
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      descriptor: { unit: '{request}' },
    });
    expect(metrics.get('batch_dedup.queue_depth')?.dataPointType).toBe(DataPointType.GAUGE);
    const stats = batcher.getStats();
    for (const quantile of ['p50', 'p95', 'p99'] as const) {
      expect(valueOf(metrics, 'batch_dedup.latency', { ...at, quantile })).toBe(stats.latencyMs[quantile]);
    }
  });

  it('publishes every numeric field of BatchStats (a counter added to the stats and not to the metrics fails here)', async () => {
    const { reader, provider } = pullProvider();
    const real = createBatchStats().snapshot();
    const numeric = Object.keys(real).filter((key) => typeof real[key as keyof typeof real] === 'number');
    // Each field a value no other field has, so each published value names the field it came from.
    const marked = { ...real, ...Object.fromEntries(numeric.map((key, i) => [key, 1000 + i])) };
    publishBatchStats(() => marked, { meter: provider.getMeter('test') });

    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const published = new Set([...metricsOf(resourceMetrics).values()].flatMap((m) => m.dataPoints.map((p) => p.value)));
    expect(numeric.filter((key, i) => !published.has(1000 + i))).toEqual([]);
    expect(numeric).toEqual(expect.arrayContaining(['semanticCacheHits', 'storeHits', 'storeJoins', 'storeFallbacks']));
  });

  it('reads a fresh snapshot at every collection and stops at unregister()', async () => {
    const { reader, provider } = pullProvider();
    const stats = createBatchStats();
    const published = publishBatchStats(stats, { meter: provider.getMeter('test'), prefix: 'embeds' });

    expect(valueOf(metricsOf((await reader.collect()).resourceMetrics), 'embeds.requests')).toBe(0);
    stats.recordRequests(5);
    expect(valueOf(metricsOf((await reader.collect()).resourceMetrics), 'embeds.requests')).toBe(5);

    published.unregister();
    published.unregister(); // idempotent
    stats.recordRequests(5);
    // The SDK keeps a cumulative counter's last value; what matters is that nothing reads the stats any more.
    expect(valueOf(metricsOf((await reader.collect()).resourceMetrics), 'embeds.requests')).toBe(5);
    expect(stats.snapshot().totalRequests).toBe(10);
  });

  it('accepts a snapshot function and refuses anything else', () => {
    const { provider } = pullProvider();
    const meter = provider.getMeter('test');
    const stats = createBatchStats();
    expect(() => publishBatchStats(() => stats.snapshot(), { meter })).not.toThrow();
    expect(() => publishBatchStats({} as never, { meter })).toThrow(TypeError);
  });
});

describe('docs/snippets/metrics.ts', () => {
  it('instrumentedEmbedder exports the batcher stats through a PeriodicExportingMetricReader', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const { embedder, shutdown } = instrumentedEmbedder(exporter);
    expect(await embedder.processAll(['ab', 'abc', 'ab'])).toEqual([[2], [3], [2]]);
    await shutdown();

    const exported = exporter.getMetrics();
    expect(exported.length).toBeGreaterThan(0);
    const metrics = metricsOf(exported.at(-1)!);
    const stats = embedder.getStats();
    expect(valueOf(metrics, 'batch_dedup.requests', { 'batcher.name': 'embed' })).toBe(3);
    expect(valueOf(metrics, 'batch_dedup.completed', { 'batcher.name': 'embed' })).toBe(3);
    expect(valueOf(metrics, 'batch_dedup.cost_saved', { 'batcher.name': 'embed' })).toBeCloseTo(stats.deduplicated * 0.0001);
  });

  it('publishRegistry publishes every batcher of a Nest module, by name', async () => {
    class AppModule {}
    const app = await NestFactory.createApplicationContext(
      {
        module: AppModule,
        imports: [
          BatchDedupModule.forRoot({
            batchers: {
              double: { execute: async (xs: number[]) => xs.map((x) => 2 * x), windowMs: 1 },
              negate: { execute: async (xs: number[]) => xs.map((x) => -x), windowMs: 1 },
            },
          }),
        ],
      },
      { logger: false },
    );
    try {
      const { reader, provider } = pullProvider();
      const registry = app.get(BatchDedupRegistry);
      publishRegistry(registry, provider.getMeter('nest'));
      await lastValueFrom(registry.get<number, number>('double').processAll([1, 2, 3]));
      await lastValueFrom(registry.get<number, number>('negate').process(1));

      const metrics = metricsOf((await reader.collect()).resourceMetrics);
      expect(valueOf(metrics, 'batch_dedup.requests', { 'batcher.name': 'double' })).toBe(3);
      expect(valueOf(metrics, 'batch_dedup.requests', { 'batcher.name': 'negate' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

showsVerbatim('docs/metrics.md', ['docs/snippets/metrics.ts']);
