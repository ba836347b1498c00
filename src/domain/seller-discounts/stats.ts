/**
 * R27: a customer's statistics with one seller, which the loyalty discounts' conditions read. They are
 * kept from the customer's own order events, in the same work (migration 18 `customer_seller_stats`,
 * one row per customer and seller):
 *
 * - `pointsKop`: kopecks of points earned on the seller's lines — the purchase accrual of each line
 *   (R7-R12, with the card and Premium extras, as the line's `earnedKop`) plus the seller's own R11
 *   points (× 100) — counted when the units ship (R13), less what returns take back. Kopecks, not
 *   points, so that partial shipments and returns add up without rounding drift; the condition
 *   compares whole points, floor(pointsKop / 100).
 * - `units` of the seller's products in orders placed in `month` (the calendar month of the order's
 *   placement in the operator's time zone), counted when they ship, less the ones returned — a return
 *   takes them off the month the order was placed in, whenever it comes. Only the latest month is
 *   kept: a change for a later month starts it over, one for an earlier month (a late shipment or
 *   return of last month's order) no longer counts, and "this month" reads 0 while the stored month
 *   is an earlier one.
 *
 * A cancelled order ships nothing, so it adds nothing. Campaign points (R26) and savings cashback
 * (R25) are not points from the seller's products.
 */

import { KOPECKS_PER_POINT } from "../kinds.js";
import type { Order } from "../orders/index.js";
import { monthContaining } from "../savings/index.js";
import type { SellerStats } from "./index.js";

/** A customer's counts with one seller, or a change to them (with signed numbers). */
export interface SellerStatsCounts {
  readonly pointsKop: number;
  /** YYYY-MM in the operator's time zone: the month `units` belong to. */
  readonly month: string;
  readonly units: number;
}

export interface SellerStatsDelta extends SellerStatsCounts {
  readonly sellerId: string;
}

/**
 * `b` after `a`: points add up; units add up within one month, a later month starts over, an earlier
 * one is dropped. It is how a change applies to the stored row (the SQL upsert of
 * src/infra/seller-discount-store.ts does the same) and how two changes combine into one — the same
 * operation, and associative, so changes of one transaction may be folded before they are written.
 */
export function addSellerStats(a: SellerStatsCounts, b: SellerStatsCounts): SellerStatsCounts {
  const pointsKop = a.pointsKop + b.pointsKop;
  if (b.month > a.month) return { pointsKop, month: b.month, units: b.units };
  if (b.month < a.month) return { pointsKop, month: a.month, units: a.units };
  return { pointsKop, month: a.month, units: a.units + b.units };
}

/** Per seller of the order: kopecks of points earned and units shipped, net of returns, so far. */
function countsBySeller(order: Order | undefined): Map<string, { pointsKop: number; units: number }> {
  const counts = new Map<string, { pointsKop: number; units: number }>();
  for (const l of order?.lines ?? []) {
    const c = counts.get(l.sellerId) ?? { pointsKop: 0, units: 0 };
    counts.set(l.sellerId, {
      pointsKop:
        c.pointsKop +
        l.earnedKop -
        l.removedKop +
        (l.sellerPointsEarned - l.sellerPointsRemoved) * KOPECKS_PER_POINT,
      units: c.units + l.shippedQuantity - l.returnedQuantity,
    });
  }
  return counts;
}

/** R27: what an order's events (the order before them, and after) change in its sellers' statistics. */
export function sellerStatsDeltas(
  before: Order | undefined,
  after: Order,
  timeZone: string,
): SellerStatsDelta[] {
  const was = countsBySeller(before);
  const month = monthContaining(after.placedAt, timeZone).month;
  return [...countsBySeller(after)].flatMap(([sellerId, now]) => {
    const pointsKop = now.pointsKop - (was.get(sellerId)?.pointsKop ?? 0);
    const units = now.units - (was.get(sellerId)?.units ?? 0);
    return pointsKop === 0 && units === 0 ? [] : [{ sellerId, pointsKop, month, units }];
  });
}

/** One change per seller, the changes folded in the order given (addSellerStats). */
export function combineSellerStatsDeltas(deltas: readonly SellerStatsDelta[]): SellerStatsDelta[] {
  const bySeller = new Map<string, SellerStatsDelta>();
  for (const d of deltas) {
    const prior = bySeller.get(d.sellerId);
    bySeller.set(d.sellerId, prior ? { sellerId: d.sellerId, ...addSellerStats(prior, d) } : d);
  }
  return [...bySeller.values()];
}

/** What the conditions read in `month` (the quote's, in the operator's time zone). */
export function sellerStatsIn(row: SellerStatsCounts | undefined, month: string): SellerStats {
  if (!row) return { pointsFromSeller: 0, unitsThisMonth: 0 };
  return {
    pointsFromSeller: Math.floor(row.pointsKop / KOPECKS_PER_POINT),
    unitsThisMonth: row.month === month ? row.units : 0,
  };
}
