import type { PointKind } from "../domain/kinds.js";
import {
  type ExplanationContext,
  type Hold,
  type Lot,
  type Movement,
  type Redemption,
  renderExplanation,
  WALLET,
} from "../domain/ledger/index.js";
import type { BalanceSnapshot } from "./ports.js";

/** JSON-safe shapes the use cases answer with; they are also what idempotent replays return. */

export interface LotView {
  lotId: string;
  kind: PointKind;
  amount: number;
  remaining: number;
  source: string;
  funder: string;
  state: "pending" | "available";
  availableFrom: string;
  expiresAt: string;
  reference: string | null;
}

export function lotView(lot: Lot): LotView {
  return {
    lotId: lot.lotId,
    kind: lot.kind,
    amount: lot.amount,
    remaining: lot.remaining,
    source: lot.source,
    funder: lot.funder,
    state: lot.state,
    availableFrom: lot.availableFrom.toISOString(),
    expiresAt: lot.expiresAt.toISOString(),
    reference: lot.reference,
  };
}

export interface HoldView {
  holdId: string;
  kind: PointKind;
  amount: number;
  state: Hold["state"];
  releaseReason: Hold["releaseReason"];
  expiresAt: string;
}

export function holdView(hold: Hold): HoldView {
  return {
    holdId: hold.holdId,
    kind: hold.kind,
    amount: hold.amount,
    state: hold.state,
    releaseReason: hold.releaseReason,
    expiresAt: hold.expiresAt.toISOString(),
  };
}

export interface RedemptionView {
  redemptionId: string;
  kind: PointKind;
  amount: number;
  refunded: number;
}

export function redemptionView(r: Redemption): RedemptionView {
  return { redemptionId: r.redemptionId, kind: r.kind, amount: r.amount, refunded: r.refunded };
}

export interface KindBalanceView {
  available: number;
  pending: number;
  held: number;
  debt: number;
  expiringSoon: { amount: number; nearestDate: string | null; withinDays: number };
}

/** R6 per kind: the cached totals and what expires within the reported days. */
export function balanceView(
  b: Pick<BalanceSnapshot, "totals" | "expiringSoon"> & { withinDays: number },
): Record<PointKind, KindBalanceView> {
  const view = (kind: PointKind): KindBalanceView => ({
    ...b.totals[kind],
    expiringSoon: {
      amount: b.expiringSoon[kind].amount,
      nearestDate: b.expiringSoon[kind].nearestDate?.toISOString() ?? null,
      withinDays: b.withinDays,
    },
  });
  return { bonus: view("bonus"), savings: view("savings"), referral: view("referral") };
}

export interface MovementView {
  movementId: string;
  kind: PointKind;
  type: Movement["type"];
  /** How the customer's own accounts changed: what a history screen shows. */
  change: { available: number; pending: number; held: number; debt: number };
  postings: { account: string; amount: number }[];
  reference: string | null;
  explanation: { ru: string; en: string };
  actor: string;
  occurredAt: string;
}

/** `context`: the category names and the time zone the explanation is shown with (R33). */
export function movementView(
  m: Omit<Movement, "causedBy"> & { actor: string },
  context: ExplanationContext,
): MovementView {
  const sum = (account: string) =>
    m.postings.filter((p) => p.account === account).reduce((s, p) => s + p.amount, 0);
  return {
    movementId: m.movementId,
    kind: m.kind,
    type: m.type,
    change: {
      available: sum(WALLET.available),
      pending: sum(WALLET.pending),
      held: sum(WALLET.held),
      debt: -sum(WALLET.debt),
    },
    postings: m.postings,
    reference: m.reference,
    explanation: renderExplanation(m.explanation, context),
    actor: m.actor,
    occurredAt: m.occurredAt.toISOString(),
  };
}
