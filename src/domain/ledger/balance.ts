import { POINT_KINDS, type PointKind } from "../kinds.js";
import { WALLET } from "./accounts.js";
import type { BalanceTotals, Movement } from "./types.js";

export type { BalanceTotals } from "./types.js";

/**
 * The balance cache after `movements`: each customer account moves by exactly what was posted to
 * it (R32), so totals never need the lots summed. Debt is what `wallet:debt` is short.
 */
export function totalsAfter(
  totals: Record<PointKind, BalanceTotals>,
  movements: readonly Pick<Movement, "kind" | "postings">[],
): Record<PointKind, BalanceTotals> {
  const result = {} as Record<PointKind, BalanceTotals>;
  for (const kind of POINT_KINDS) result[kind] = { ...totals[kind] };
  for (const m of movements) {
    const t = result[m.kind];
    for (const p of m.postings) {
      if (p.account === WALLET.available) t.available += p.amount;
      else if (p.account === WALLET.pending) t.pending += p.amount;
      else if (p.account === WALLET.held) t.held += p.amount;
      else if (p.account === WALLET.debt) t.debt -= p.amount;
    }
  }
  return result;
}
