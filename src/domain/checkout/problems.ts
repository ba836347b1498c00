import { isNonNegativeInteger } from "./arithmetic.js";

/** One thing wrong with an input, addressed by its path (e.g. `lines[2].quantity`). */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

/** Records a problem unless `value` is an integer in [min, max]; returns whether it is. */
export function checkIntegerRange(
  problems: Problem[],
  field: string,
  value: unknown,
  min: number,
  max: number,
): value is number {
  if (isNonNegativeInteger(value) && value >= min && value <= max) return true;
  problems.push({ field, message: `must be an integer from ${min} to ${max}` });
  return false;
}

/** Records a problem unless `value` is a non-empty string. */
export function checkNonEmptyString(problems: Problem[], field: string, value: unknown): value is string {
  if (typeof value === "string" && value.length > 0) return true;
  problems.push({ field, message: "must be a non-empty string" });
  return false;
}
