import type { PointKind } from "../domain/kinds.js";
import { type CustomerLedger, type LedgerPolicy, summarizeBalance } from "../domain/ledger/index.js";
import type { BalanceTotals } from "./ports.js";

/** The balance cache's row per kind for a ledger, as every write stores it. */
export function balanceTotals(
  ledger: CustomerLedger,
  now: Date,
  policy: LedgerPolicy,
): Record<PointKind, BalanceTotals> {
  const b = summarizeBalance(ledger.lots, ledger.holds, ledger.debt, now, policy);
  const pick = (k: PointKind): BalanceTotals => ({
    available: b[k].available,
    pending: b[k].pending,
    held: b[k].held,
    debt: b[k].debt,
  });
  return { bonus: pick("bonus"), savings: pick("savings"), referral: pick("referral") };
}
