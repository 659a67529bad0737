import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Only the TypeScript tests: never compiled copies under dist/.
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reportsDirectory: 'coverage',
    },
  },
});
