import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['marbles/**/*.marble.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
