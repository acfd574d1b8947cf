import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration tests
// (`*.int.test.ts`) against real servers started by scripts/test-env.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'src/**/*.test.ts', 'test/**/*.test.ts'],
          // Fault scenarios (`*.faults.test.ts`) run apart: `npm run test:faults`, vitest.faults.config.ts.
          exclude: ['**/*.int.test.ts', '**/*.faults.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          // Only acts with VREG_TEST_USE_TESTCONTAINERS=1 on a machine with Docker.
          globalSetup: ['test/testcontainers-setup.ts'],
          include: ['packages/*/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration files share the servers; run them one at a time so a
          // fault test never disturbs another file's timing.
          fileParallelism: false,
        },
      },
    ],
  },
});
