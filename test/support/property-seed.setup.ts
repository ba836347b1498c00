import fc from "fast-check";
import { PROPERTY_SEED } from "./property.js";

/**
 * Vitest setup file: a bare `fc.assert` or `fc.sample` (without the helpers of test/support/property.ts)
 * also runs with the run's seed, so every property of a run replays with KOPILKA_PROPERTY_SEED.
 */
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: PROPERTY_SEED });
