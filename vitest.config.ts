import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The examples import the package as a user would; here that is the source, not a build.
    alias: { 'shadowgate/vitest': fileURLToPath(new URL('./src/vitest/index.ts', import.meta.url)) },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    // A PostgreSQL server for the store tests: SHADOWGATE_TEST_PG_URL, or a throwaway cluster.
    globalSetup: ['./test/postgres-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
