import { defineConfig } from "vitest/config";

/**
 * `npm test` runs both projects: unit tests (no network) and integration tests against a real
 * Kafka broker and DynamoDB Local, which the global setup starts when they aren't up.
 */
export default defineConfig({
  test: {
    // The AWS SDK warns about Node 20 on every client; the lockfile pins a version that supports it.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      {
        test: {
          name: "unit",
          // Each function's own tests live in its folder, next to its code.
          include: ["test/unit/**/*.test.ts", "functions/**/*.test.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/setup/local-stack.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two cores: files run two at a time; each uses fresh topics, groups and tables.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
