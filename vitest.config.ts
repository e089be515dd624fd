import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Playwright specs live in e2e/ and must never be collected by vitest.
    include: ["lib/**/*.test.ts", "server/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One seed for every fast-check property (printed on failure; FC_SEED overrides it).
    setupFiles: ["tests/support/fast-check-seed.ts"],
  },
});
