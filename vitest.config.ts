import { defineConfig } from 'vitest/config';

// One run covers unit tests beside the code and the black-box suites in test/.
// Suites that need a database run against PGlite, and also against PostgreSQL when
// TEST_DATABASE_URL is set (.ci/run sets it).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    // Removes the run's temporary directories and databases when it ends.
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
