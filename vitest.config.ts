import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/helpers/global-setup.ts'],
          // Generous: a loaded 2-core CI box (seen: load average 15) runs a two-night test past 60 s.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // Two cores: integration files spawn workers and simulators; keep them from starving each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
