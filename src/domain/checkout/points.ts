import { POINT_KINDS, type PointKind } from "../kinds.js";

/** Whole points per kind (R2): a balance, a cap, a spend, or a line's share of a spend. */
export type KindPoints = Readonly<Record<PointKind, number>>;

export const NO_POINTS: KindPoints = { bonus: 0, savings: 0, referral: 0 };

export function totalPoints(points: KindPoints): number {
  return POINT_KINDS.reduce((sum, kind) => sum + points[kind], 0);
}
