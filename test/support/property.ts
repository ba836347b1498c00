import fc from "fast-check";
import { inject } from "vitest";
import { parseSeed, SEED_VARIABLE } from "./property-seed.js";

/**
 * How every property test runs: with the run's seed and with a floor on the cases it must have run.
 *
 * The seed is fresh each run: vitest's global setup (test/support/property-seed.global.ts) draws it
 * once and prints it; KOPILKA_PROPERTY_SEED=<seed> replays the run. fast-check's own
 * "seed: …, path: …" line in a failure replays just that property (pass the path as `path`).
 *
 * `assertProperty` / `assertAsyncProperty` replace `fc.assert`: a property that fails throws
 * fast-check's report (the original error as its cause), and one that ran fewer cases than `minRuns`
 * fails too — in particular one that `interruptAfterTimeLimit` stopped early: a property that ran two
 * cases in its time budget has not shown what forty would.
 */

function runSeed(): number {
  const provided = inject("propertySeed");
  if (typeof provided === "number") return provided;
  // A config without the global setup (a one-off `vitest --config …`): this file's own seed, printed.
  const fixed = process.env[SEED_VARIABLE];
  const seed = fixed ? parseSeed(fixed) : Math.floor(Math.random() * 2 ** 31);
  console.log(`[property] seed ${seed}; replay with ${SEED_VARIABLE}=${seed}`);
  return seed;
}

/** The seed of this run's properties and samples (the same in every test file of a run). */
export const PROPERTY_SEED: number = runSeed();

export type PropertyOptions<Ts> = fc.Parameters<Ts> & {
  /**
   * The fewest cases that count as a pass: by default every case asked for (`numRuns`, fast-check's
   * default 100). Set it below `numRuns` only with `interruptAfterTimeLimit`.
   */
  minRuns?: number;
};

function parameters<Ts>(options: PropertyOptions<Ts>): { params: fc.Parameters<Ts>; minRuns: number } {
  const { minRuns, ...params } = options;
  const numRuns = params.numRuns ?? fc.readConfigureGlobal().numRuns ?? 100;
  if (minRuns !== undefined && minRuns > numRuns) throw new Error(`minRuns ${minRuns} > numRuns ${numRuns}`);
  return { params: { seed: PROPERTY_SEED, ...params }, minRuns: minRuns ?? numRuns };
}

function verdict<Ts>(details: fc.RunDetails<Ts>, minRuns: number): void {
  const replay =
    details.seed === PROPERTY_SEED
      ? `replay the run with ${SEED_VARIABLE}=${PROPERTY_SEED}`
      : `this property's seed was ${details.seed} (the run's: ${PROPERTY_SEED})`;
  if (details.failed) {
    throw new Error(`${fc.defaultReportMessage(details)}\n(${replay})`, { cause: details.errorInstance });
  }
  if (details.numRuns < minRuns) {
    throw new Error(
      `the property ran ${details.numRuns} cases, fewer than its minimum of ${minRuns}` +
        `${details.interrupted ? " (its time limit interrupted it)" : ""}; ${replay}`,
    );
  }
}

/** fc.assert for a synchronous property, with the run's seed and the `minRuns` floor. */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, options: PropertyOptions<Ts> = {}): void {
  const { params, minRuns } = parameters(options);
  verdict(fc.check(property, params), minRuns);
}

/** fc.assert for an asynchronous property, with the run's seed and the `minRuns` floor. */
export async function assertAsyncProperty<Ts>(
  property: fc.IAsyncProperty<Ts>,
  options: PropertyOptions<Ts> = {},
): Promise<void> {
  const { params, minRuns } = parameters(options);
  verdict(await fc.check(property, params), minRuns);
}

/** Parameters for `fc.sample`: the run's seed, offset by `salt` so two samples of a file differ. */
export function sampleOptions(numRuns: number, salt = 0): { seed: number; numRuns: number } {
  return { seed: (PROPERTY_SEED + salt) | 0, numRuns };
}
