import { POINT_KINDS, type PointKind } from "../kinds.js";
import { addDays } from "./draft.js";
import type { Hold, LedgerPolicy, Lot } from "./types.js";

export interface KindBalance {
  available: number;
  pending: number;
  held: number;
  /** R14: points owed from returns, netted against the next accruals. */
  debt: number;
  expiringSoon: { amount: number; nearestDate: Date | null; withinDays: number };
}

/**
 * R6: per kind, available, pending, held, and what expires within the next days (amount and the
 * nearest date). Computed from a ledger already brought up to `now`.
 */
export function summarizeBalance(
  lots: Lot[],
  holds: Hold[],
  debt: Record<PointKind, number>,
  now: Date,
  policy: LedgerPolicy,
): Record<PointKind, KindBalance> {
  const horizon = addDays(now, policy.expiringWithinDays).getTime();
  const result = {} as Record<PointKind, KindBalance>;
  for (const kind of POINT_KINDS) {
    result[kind] = {
      available: 0,
      pending: 0,
      held: 0,
      debt: debt[kind],
      expiringSoon: { amount: 0, nearestDate: null, withinDays: policy.expiringWithinDays },
    };
  }
  for (const lot of lots) {
    const b = result[lot.kind];
    if (lot.state === "pending") {
      b.pending += lot.remaining;
      continue;
    }
    b.available += lot.remaining;
    if (lot.remaining > 0 && lot.expiresAt.getTime() <= horizon) {
      b.expiringSoon.amount += lot.remaining;
      const nearest = b.expiringSoon.nearestDate;
      if (!nearest || lot.expiresAt < nearest) b.expiringSoon.nearestDate = lot.expiresAt;
    }
  }
  for (const h of holds) if (h.state === "active") result[h.kind].held += h.amount;
  return result;
}
