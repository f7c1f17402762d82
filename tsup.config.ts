import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    operators: 'src/operators/index.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['rxjs', /^@nestjs\//],
  // ml-distance ships ESM only; bundling it into the CommonJS build keeps
  // `require('rxjs-batch-dedup')` working on every Node >= 20, not only on 20.19+ (require(esm)).
  noExternal: [],
  splitting: true,
  treeshake: true,
});
