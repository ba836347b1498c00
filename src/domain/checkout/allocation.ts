import { POINT_KINDS, type PointKind } from "../kinds.js";
import { isNonNegativeInteger, pointsFromKop } from "./arithmetic.js";
import { type CartLine, lineAmountKop } from "./cart.js";
import { type KindPoints, totalPoints } from "./points.js";

/** One line's share of the points spent on an order (R21). */
export interface LineSpend {
  readonly lineId: string;
  readonly points: KindPoints;
  readonly total: number;
}

/** Line indices from the largest weight to the smallest; equal weights keep their order. */
function largestFirst(weights: readonly number[]): number[] {
  return weights.map((_, index) => index).sort((a, b) => (weights[b] ?? 0) - (weights[a] ?? 0));
}

/**
 * R21: splits `points` over lines in proportion to `weights` (line amounts): each line gets the
 * floor of its exact share, and the rounding remainder goes to the largest line (the first one on
 * a tie). A line never takes more than its `capacity`; whatever the largest line cannot absorb goes
 * to the next largest, and so on. That only happens when lines cost little more than the points
 * they carry (items of a few roubles), where one extra point can exceed a line's price.
 *
 * Throws when the lines cannot absorb `points` at all: a caller passed a spend that was not checked
 * against the caps (R19 leaves at least 1 RUB of every unit, which always leaves room).
 */
export function allocateProportionally(
  weights: readonly number[],
  points: number,
  capacity: readonly number[] = weights.map(() => points),
): number[] {
  if (!isNonNegativeInteger(points)) throw new RangeError("points must be a whole non-negative number");
  const totalWeight = weights.reduce((sum, weight) => sum + BigInt(weight), 0n);
  if (totalWeight === 0n && points > 0)
    throw new RangeError("points cannot be split over lines worth nothing");
  const shares = weights.map((weight, index) => {
    const exactFloor = points === 0 ? 0 : Number((BigInt(points) * BigInt(weight)) / totalWeight);
    return Math.min(exactFloor, capacity[index] ?? 0);
  });
  let remainder = points - shares.reduce((sum, share) => sum + share, 0);
  for (const index of largestFirst(weights)) {
    if (remainder === 0) break;
    const extra = Math.min(remainder, (capacity[index] ?? 0) - (shares[index] ?? 0));
    shares[index] = (shares[index] ?? 0) + extra;
    remainder -= extra;
  }
  if (remainder > 0) throw new RangeError(`the lines cannot absorb ${points} points`);
  return shares;
}

/**
 * R21: allocates a spend, kind by kind, to the lines of the order. A line's points of all kinds
 * together never pay more than its amount, so its money-paid share (R10) is never negative.
 */
export function allocateSpend(lines: readonly CartLine[], spend: KindPoints): LineSpend[] {
  const amounts = lines.map(lineAmountKop);
  let free = amounts.map(pointsFromKop);
  const byKind: Record<PointKind, number[]> = { bonus: [], savings: [], referral: [] };
  for (const kind of POINT_KINDS) {
    const shares = allocateProportionally(amounts, spend[kind], free);
    byKind[kind] = shares;
    free = free.map((room, index) => room - (shares[index] ?? 0));
  }
  return lines.map((line, index) => {
    const points: KindPoints = {
      bonus: byKind.bonus[index] ?? 0,
      savings: byKind.savings[index] ?? 0,
      referral: byKind.referral[index] ?? 0,
    };
    return { lineId: line.lineId, points, total: totalPoints(points) };
  });
}
