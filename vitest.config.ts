import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One MiniStack for the run, reset before each file, so files run one at a time.
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: ['test/helpers/reset-stack.ts'],
          pool: 'forks',
          poolOptions: { forks: { singleFork: true, isolate: true } },
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
