import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fault suite restarts PostgreSQL and kills processes: it runs on its own (npm run test:faults).
    exclude: [...configDefaults.exclude, "test/faults/**"],
    // Draws the run's property seed once and prints it (KOPILKA_PROPERTY_SEED replays it): test/support/property.ts.
    globalSetup: ["test/support/property-seed.global.ts"],
    setupFiles: ["test/support/property-seed.setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers than that only makes PGlite instances fight over CPU and memory.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
