import { defineConfig, type Options } from 'tsup';

const entry: Record<string, string> = {
  index: 'src/index.ts',
  lite: 'src/lite/index.ts',
  operators: 'src/operators/index.ts',
  testing: 'src/testing/index.ts',
  nestjs: 'src/nestjs/index.ts',
  otel: 'src/otel/index.ts',
  redis: 'src/redis/index.ts',
};

const common: Options = {
  entry,
  dts: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['rxjs', /^@nestjs\//, /^@opentelemetry\//, 'ioredis'],
  splitting: true,
  treeshake: true,
};

export default defineConfig([
  { ...common, format: 'esm' },
  // ml-distance ships ESM only; bundling it into the CommonJS build keeps `require('rxjs-batch-dedup')`
  // working on every Node >= 20, not only where require(esm) is available (20.19+).
  { ...common, format: 'cjs', noExternal: ['ml-distance', /^ml-/, 'cheminfo-types'] },
]);
