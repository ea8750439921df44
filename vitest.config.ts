import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores here: integration suites spawn ffmpeg and servers, keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
