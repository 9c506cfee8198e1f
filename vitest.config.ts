import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: most of a file's time is waiting (services starting,
    // timeouts, PostgreSQL); vitest's default on two cores would be one at a time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
