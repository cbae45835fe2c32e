import { defineConfig } from "vitest/config";

/** Tests that need the local AWS emulator (moto) live under these folders. */
const EMULATOR_TESTS = [
  "test/emulator/**/*.test.ts",
  "test/tools/emulator/**/*.test.ts",
  "test/**/*.emulator.test.ts",
  "test/integration/**/*.test.ts",
  "test/e2e/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: "forks",
    setupFiles: ["test/support/reflect.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: EMULATOR_TESTS,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: EMULATOR_TESTS,
          globalSetup: ["test/emulator/global-setup.ts"],
          setupFiles: ["test/emulator/aws-env.ts"],
        },
      },
    ],
  },
});
