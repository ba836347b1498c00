import type { TestProject } from "vitest/node";
import { parseSeed, SEED_VARIABLE } from "./property-seed.js";

/**
 * Vitest global setup: draws the run's property seed once (or takes KOPILKA_PROPERTY_SEED), prints it
 * once, and hands it to every test file (`inject("propertySeed")`, see test/support/property.ts).
 */
export default function setup(project: TestProject) {
  const fixed = process.env[SEED_VARIABLE];
  const seed = fixed ? parseSeed(fixed) : Math.floor(Math.random() * 2 ** 31);
  project.provide("propertySeed", seed);
  console.log(
    `[property] seed ${seed}${fixed ? ` (from ${SEED_VARIABLE})` : ""}; replay this run's properties with ${SEED_VARIABLE}=${seed}`,
  );
}
