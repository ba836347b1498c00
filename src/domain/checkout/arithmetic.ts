import { KOPECKS_PER_POINT } from "../kinds.js";

/*
 * Integer arithmetic for accounting. Floats never touch an amount: a double cannot hold every
 * product of a price and a rate exactly, and a wrong last digit is a wrong balance.
 */

/** floor(a / b) for non-negative safe integers. Taking the remainder first makes the division exact. */
export function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/** floor(a × b / c) for non-negative safe integers, exact even when a × b is far beyond 2^53. */
export function mulDivFloor(a: number, b: number, c: number): number {
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** Whole points that an amount in kopecks (of money or of points) covers, rounded down (R1, R12). */
export function pointsFromKop(kop: number): number {
  return floorDiv(kop, KOPECKS_PER_POINT);
}

export function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
