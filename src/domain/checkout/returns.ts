import { isNonNegativeInteger } from "./arithmetic.js";

/** One step of returning units of a line; earlier steps are summed in `alreadyReturnedQuantity`. */
export interface ReturnStep {
  /** What the whole line carries: its accrual in kopecks of points, or its points of one kind spent. */
  readonly amount: number;
  readonly quantity: number;
  readonly alreadyReturnedQuantity: number;
  readonly returnedQuantity: number;
}

/**
 * R13, R15: the part of a line's `amount` that goes with `returnedQuantity` units: the accrual to
 * cancel or claw back, or the spent points to give back. Each step is a difference of cumulative
 * floors, floor(amount × returnedSoFar / quantity), so any split of the quantity into steps removes
 * exactly `amount` in the end and no step ever rounds up.
 */
export function proportionalReturnShare(step: ReturnStep): number {
  const { amount, quantity, alreadyReturnedQuantity, returnedQuantity } = step;
  const valid =
    isNonNegativeInteger(amount) &&
    isNonNegativeInteger(quantity) &&
    isNonNegativeInteger(alreadyReturnedQuantity) &&
    isNonNegativeInteger(returnedQuantity) &&
    quantity > 0 &&
    alreadyReturnedQuantity + returnedQuantity <= quantity;
  if (!valid) throw new RangeError("a return step needs whole numbers and no more units than the line has");
  const upTo = (returned: number) => Number((BigInt(amount) * BigInt(returned)) / BigInt(quantity));
  return upTo(alreadyReturnedQuantity + returnedQuantity) - upTo(alreadyReturnedQuantity);
}
