import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { proportionalReturnShare } from "../../../src/domain/checkout/index.js";
import { assertProperty } from "../../support/property.js";

/** Splits `quantity` into positive steps at the given cut points. */
function steps(quantity: number, cuts: readonly number[]): number[] {
  const marks = [...new Set([0, ...cuts.filter((c) => c > 0 && c < quantity), quantity])].sort(
    (a, b) => a - b,
  );
  return marks.slice(1).map((mark, index) => mark - (marks[index] ?? 0));
}

describe("proportionalReturnShare (R13, R15)", () => {
  it("returning a line in any number of steps removes exactly its whole amount", () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 20 }),
        (amount, quantity, cuts) => {
          let already = 0;
          let removed = 0;
          for (const returned of steps(quantity, cuts)) {
            const share = proportionalReturnShare({
              amount,
              quantity,
              alreadyReturnedQuantity: already,
              returnedQuantity: returned,
            });
            // Each step is the floor or the ceiling of its exact share, never less, never more.
            const exactTimesQuantity = BigInt(amount) * BigInt(returned);
            expect(BigInt(share) * BigInt(quantity) >= exactTimesQuantity - BigInt(quantity) + 1n).toBe(true);
            expect(BigInt(share) * BigInt(quantity) < exactTimesQuantity + BigInt(quantity)).toBe(true);
            already += returned;
            removed += share;
          }
          expect(removed).toBe(amount);
        },
      ),
    );
  });

  it("a line accrual of 7.99 points returned one unit at a time: 2.66, 2.66, 2.67", () => {
    const step = (alreadyReturnedQuantity: number) =>
      proportionalReturnShare({ amount: 799, quantity: 3, alreadyReturnedQuantity, returnedQuantity: 1 });
    expect([step(0), step(1), step(2)]).toEqual([266, 266, 267]);
  });

  it("R15: 1,000 points spent on 3 units; returning 2 gives back 666, the last one 334", () => {
    expect(
      proportionalReturnShare({
        amount: 1_000,
        quantity: 3,
        alreadyReturnedQuantity: 0,
        returnedQuantity: 2,
      }),
    ).toBe(666);
    expect(
      proportionalReturnShare({
        amount: 1_000,
        quantity: 3,
        alreadyReturnedQuantity: 2,
        returnedQuantity: 1,
      }),
    ).toBe(334);
  });

  it("refuses, as a bug, returning more units than the line has", () => {
    expect(() =>
      proportionalReturnShare({ amount: 10, quantity: 2, alreadyReturnedQuantity: 1, returnedQuantity: 2 }),
    ).toThrow(RangeError);
    expect(() =>
      proportionalReturnShare({ amount: 10, quantity: 0, alreadyReturnedQuantity: 0, returnedQuantity: 0 }),
    ).toThrow(RangeError);
  });
});
