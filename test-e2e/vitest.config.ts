import { defineConfig } from 'vitest/config';

/**
 * Cross-package and subprocess tests. Unlike the unit tests, these import `@ape/*` by package name
 * and so run against the built `dist/` of each package, as a user would.
 */
export default defineConfig({
  test: {
    include: ['test-e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
