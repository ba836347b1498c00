import { defineConfig } from "vitest/config";

/**
 * The fault suite (test/faults): the service killed under load, connections cut after commit, injected
 * serialization failures and deadlocks, PostgreSQL restarted. Needs a real PostgreSQL server
 * (KOPILKA_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); each scenario makes and
 * drops its own databases. KOPILKA_FAULTS_SHORT=1 is CI's short form; KOPILKA_FAULTS_SKIP_RESTART=1
 * skips the PostgreSQL restart; KOPILKA_FAULTS_SEED replays a run's random choices.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    // One scenario at a time: they start processes, restart the server and measure recovery.
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 45 * 60_000,
    hookTimeout: 5 * 60_000,
    env: { KOPILKA_FAULTS_SUITE: "1" },
  },
});
