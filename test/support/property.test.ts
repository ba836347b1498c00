import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertAsyncProperty, assertProperty, PROPERTY_SEED, sampleOptions } from "./property.js";

/** The property runner itself: what makes a property test fail besides a counterexample. */
describe("property runner (test/support/property.ts)", () => {
  it("runs every case asked for with the run's seed", () => {
    let cases = 0;
    assertProperty(
      fc.property(fc.nat(), () => {
        cases += 1;
      }),
      { numRuns: 25 },
    );
    expect(cases).toBe(25);
    // The same seed draws the same values: a run replays from KOPILKA_PROPERTY_SEED alone.
    expect(fc.sample(fc.nat(), sampleOptions(5))).toEqual(
      fc.sample(fc.nat(), { seed: PROPERTY_SEED, numRuns: 5 }),
    );
  });

  it("fails with fast-check's report, the original error as its cause and how to replay", () => {
    let thrown: unknown;
    try {
      assertProperty(
        fc.property(fc.nat(), (n) => {
          expect(n).toBeLessThan(0);
        }),
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(/Property failed after 1 tests/);
    expect((thrown as Error).message).toContain(`KOPILKA_PROPERTY_SEED=${PROPERTY_SEED}`);
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });

  it("fails when a time limit interrupts the property below its minimum", async () => {
    const slow = fc.asyncProperty(fc.nat(), () => new Promise<void>((resolve) => setTimeout(resolve, 20)));
    await expect(
      assertAsyncProperty(slow, {
        numRuns: 1_000,
        minRuns: 500,
        interruptAfterTimeLimit: 100,
        markInterruptAsFailure: false,
      }),
    ).rejects.toThrow(/fewer than its minimum of 500 \(its time limit interrupted it\)/);
    // Interrupted but above the floor: a pass.
    await assertAsyncProperty(slow, {
      numRuns: 1_000,
      minRuns: 1,
      interruptAfterTimeLimit: 100,
      markInterruptAsFailure: false,
    });
  });
});
