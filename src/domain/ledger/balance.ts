import { POINT_KINDS, type PointKind } from "../kinds.js";
import { addDays } from "./draft.js";
import type { CustomerLedger, LedgerPolicy } from "./types.js";

/** What the balance cache keeps per kind: every write stores these, computed from the lots. */
export interface BalanceTotals {
  available: number;
  pending: number;
  held: number;
  /** R14: points owed from returns, netted against the next accruals. */
  debt: number;
}

export interface KindBalance extends BalanceTotals {
  expiringSoon: { amount: number; nearestDate: Date | null; withinDays: number };
}

/** Per kind: Σ remaining of available lots, of pending lots, Σ active holds, and the debt. */
export function ledgerTotals(
  ledger: Pick<CustomerLedger, "lots" | "holds" | "debt">,
): Record<PointKind, BalanceTotals> {
  const result = {} as Record<PointKind, BalanceTotals>;
  for (const kind of POINT_KINDS)
    result[kind] = { available: 0, pending: 0, held: 0, debt: ledger.debt[kind] };
  for (const lot of ledger.lots) {
    if (lot.state === "pending") result[lot.kind].pending += lot.remaining;
    else result[lot.kind].available += lot.remaining;
  }
  for (const h of ledger.holds) if (h.state === "active") result[h.kind].held += h.amount;
  return result;
}

/**
 * R6: per kind, available, pending, held, and what expires within the next days (amount and the
 * nearest date). Computed from a ledger already brought up to `now`.
 */
export function summarizeBalance(
  ledger: Pick<CustomerLedger, "lots" | "holds" | "debt">,
  now: Date,
  policy: Pick<LedgerPolicy, "expiringWithinDays">,
): Record<PointKind, KindBalance> {
  const horizon = addDays(now, policy.expiringWithinDays).getTime();
  const totals = ledgerTotals(ledger);
  const result = {} as Record<PointKind, KindBalance>;
  for (const kind of POINT_KINDS) {
    result[kind] = {
      ...totals[kind],
      expiringSoon: { amount: 0, nearestDate: null, withinDays: policy.expiringWithinDays },
    };
  }
  for (const lot of ledger.lots) {
    if (lot.state !== "available" || lot.remaining === 0 || lot.expiresAt.getTime() > horizon) continue;
    const soon = result[lot.kind].expiringSoon;
    soon.amount += lot.remaining;
    if (!soon.nearestDate || lot.expiresAt < soon.nearestDate) soon.nearestDate = lot.expiresAt;
  }
  return result;
}
