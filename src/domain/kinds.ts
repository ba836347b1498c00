/** R2: the three kinds of points, each with its own spending cap and expiry policy. */
export const POINT_KINDS = ["bonus", "savings", "referral"] as const;
export type PointKind = (typeof POINT_KINDS)[number];

export function isPointKind(value: string): value is PointKind {
  return (POINT_KINDS as readonly string[]).includes(value);
}

/**
 * The largest amount of points (or kopecks) one operation may carry. Far above any real order and
 * small enough that sums of many such amounts stay exact in a JavaScript number.
 */
export const MAX_AMOUNT = 1_000_000_000_000;

/** Basis points: 1% = 100 bp. Rates are integers so that accrual arithmetic never touches floats. */
export const BASIS_POINTS_PER_UNIT = 10_000;

/** R1: one point pays one rouble, i.e. 100 kopecks. */
export const KOPECKS_PER_POINT = 100;
