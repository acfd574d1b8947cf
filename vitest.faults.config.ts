import { defineConfig } from 'vitest/config';

// The long fault scenarios (`npm run test:faults`): each file starts its own
// NATS, FerretDB and moto and kills processes, so files run one at a time.
// Each scenario leaves a record in .vreg-test/results for docs/reliability.md.
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.faults.test.ts'],
    globalSetup: ['test/faults/support/clear-results.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
