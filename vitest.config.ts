import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'contracts/**/*.spec.ts',
      'apps/*/src/**/*.spec.ts',
      'gpu-worker/src/**/*.spec.ts',
      'test/**/*.spec.ts',
      'subgraph/test/**/*.spec.ts',
    ],
    // Each file starts its own anvil and database; two machines' cores bound useful parallelism.
    pool: 'forks',
    poolOptions: { forks: { maxForks: process.env.CI ? 2 : 3, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
})
