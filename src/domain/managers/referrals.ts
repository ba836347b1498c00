import { lineAmountKop } from "../checkout/index.js";
import {
  addDays,
  applyChange,
  type CustomerLedger,
  cancelPendingLot,
  clawback,
  combineChanges,
  confirmPendingLot,
  credit,
  explainReferralCancelled,
  explainReferralConfirmed,
  explainReferralCredited,
  type LedgerChange,
  type OperationContext,
  UNTIL_DECIDED,
} from "../ledger/index.js";
import type { Order, OrderLine } from "../orders/index.js";
import type { ManagerMonth, ManagerReferral, ReferralEffect, ReferredOrder } from "./types.js";

/** R24: the money paid for a line (its amount less the points spent on it, R21), kopecks. */
function lineMoneyKop(line: OrderLine): number {
  const points = line.spent.bonus + line.spent.savings + line.spent.referral;
  return Math.max(0, lineAmountKop(line) - points * 100);
}

/** The money of `units` of the line's units: floor(money × units / quantity), as cumulative floors do (R13). */
function moneyOfUnits(line: OrderLine, units: number): bigint {
  return (BigInt(lineMoneyKop(line)) * BigInt(units)) / BigInt(line.quantity);
}

/** R24: money paid for the units shipped and not returned, kopecks: what referral points are a share of. */
export function referredMoneyKop(order: Order): bigint {
  return order.lines.reduce(
    (sum, l) => sum + moneyOfUnits(l, l.shippedQuantity) - moneyOfUnits(l, l.returnedQuantity),
    0n,
  );
}

/**
 * R24: what an own order counts toward the manager's purchases of the month it was placed in: the
 * money paid, less returned units; nothing once cancelled.
 */
export function ownPurchasesKop(order: Order | undefined): number {
  if (!order || order.state === "cancelled") return 0;
  return Number(
    order.lines.reduce(
      (sum, l) => sum + moneyOfUnits(l, l.quantity) - moneyOfUnits(l, l.returnedQuantity),
      0n,
    ),
  );
}

/** R24: referral points of an order: floor(money shipped and kept × rate), whole points. */
export function referralPoints(order: Order, rateBp: number): number {
  return Number((referredMoneyKop(order) * BigInt(rateBp)) / 1_000_000n);
}

/**
 * R24, at placement: an order placed with a manager's code is counted unless the buyer is the
 * manager (own code: nothing, with the reason) or the code's owner is no longer a manager.
 */
export function referOrder(input: {
  order: Order;
  promoCode: string;
  manager: { customerId: string; active: boolean };
  rateBp: number;
}): ReferredOrder {
  const status =
    input.manager.customerId === input.order.customerId
      ? "own_code"
      : input.manager.active
        ? "counted"
        : "manager_revoked";
  return {
    orderId: input.order.orderId,
    managerId: input.manager.customerId,
    promoCode: input.promoCode,
    status,
    rateBp: input.rateBp,
    points: 0,
    firstShippedAt: null,
    seq: 0,
  };
}

/**
 * R24, the buyer's side after an order's events: a counted order whose referral points changed
 * (units shipped or returned) gets a new snapshot for the manager. `shippedAt` is the instant of the
 * order's shipment among the events, if one was.
 */
export function progressReferral(
  referred: ReferredOrder,
  order: Order,
  shippedAt: Date | undefined,
): { referred: ReferredOrder; effect: ReferralEffect } | undefined {
  if (referred.status !== "counted") return undefined;
  const points = referralPoints(order, referred.rateBp);
  const firstShippedAt = referred.firstShippedAt ?? shippedAt ?? null;
  if (points === referred.points || firstShippedAt === null) return undefined;
  const next = { ...referred, points, firstShippedAt, seq: referred.seq + 1 };
  return {
    referred: next,
    effect: {
      type: "referral",
      seq: next.seq,
      buyerId: order.customerId,
      orderId: order.orderId,
      points,
      firstShippedAt: firstShippedAt.toISOString(),
      placedAt: order.placedAt.toISOString(),
    },
  };
}

export interface AppliedReferral {
  referral: ManagerReferral;
  /** Change of the month's pending referral points (unsettled months only). */
  monthPointsDelta: number;
  change: LedgerChange<unknown> | undefined;
}

/**
 * R24, the manager's side: applies the buyer's snapshot once (not newer than the last applied:
 * nothing). More points: a `referral` lot, pending until the month is decided — or, for a month
 * already decided, available now if it qualified and not credited if it did not. Fewer points (a
 * return): taken back from the order's own lots, pending ones cancelled first (R13), then R14.
 */
export function applyReferralEffect(
  input: {
    referral: ManagerReferral | undefined;
    /** The month the referral belongs to, as loaded (undefined: no row yet, so not settled). */
    month: ManagerMonth | undefined;
    /** YYYY-MM the order was placed in, in the operator's time zone, for a referral not seen before. */
    monthPlaced: string;
    thresholdKop: number;
  },
  effect: ReferralEffect,
  ledger: CustomerLedger,
  ctx: OperationContext,
): AppliedReferral | undefined {
  const prior = input.referral;
  if (prior && effect.seq <= prior.appliedSeq) return undefined;
  const referral: ManagerReferral = prior
    ? { ...prior, lotIds: [...prior.lotIds] }
    : {
        buyerId: effect.buyerId,
        orderId: effect.orderId,
        month: input.monthPlaced,
        lotIds: [],
        points: 0,
        appliedSeq: 0,
      };
  const delta = effect.points - referral.points;
  referral.points = effect.points;
  referral.appliedSeq = effect.seq;
  const settled = input.month?.settledAt ? (input.month.qualified ?? false) : undefined;
  if (delta > 0 && settled !== false) {
    const credited = credit(
      ledger,
      {
        kind: "referral",
        amount: delta,
        source: "manager_programme",
        funder: "manager_programme",
        ...(settled === undefined
          ? { availableFrom: UNTIL_DECIDED, expiresAt: addDays(UNTIL_DECIDED, ctx.policy.expiryDays) }
          : {}),
        reference: effect.orderId,
        explanation:
          settled === undefined
            ? explainReferralCredited(delta, effect.orderId, referral.month, input.thresholdKop)
            : explainReferralConfirmed(
                delta,
                referral.month,
                input.month?.purchasesKop ?? 0,
                input.month?.thresholdKop ?? input.thresholdKop,
                addDays(ctx.now, ctx.policy.expiryDays),
              ),
      },
      ctx,
    );
    if (!credited.ok) throw new Error(`a referral credit was refused: ${credited.code}`);
    referral.lotIds.push(credited.value.lotId);
    return { referral, monthPointsDelta: settled === undefined ? delta : 0, change: credited };
  }
  if (delta < 0 && settled !== false && referral.lotIds.length > 0) {
    const taken = clawback(
      ledger,
      { kind: "referral", amount: -delta, lotIds: [...referral.lotIds].reverse(), reference: effect.orderId },
      ctx,
    );
    if (!taken.ok) throw new Error(`a referral clawback was refused: ${taken.code}`);
    return { referral, monthPointsDelta: settled === undefined ? delta : 0, change: taken };
  }
  return { referral, monthPointsDelta: 0, change: undefined };
}

/**
 * R24 at month end, once per (manager, month): own purchases at or above the threshold make the
 * month's pending referral points available (expiring R3 days from now), below it cancel them back
 * to the programme. Each lot is its own movement, explained with the month's purchases.
 */
export function settleManagerMonth(
  month: ManagerMonth,
  referrals: readonly ManagerReferral[],
  thresholdKop: number,
  ledger: CustomerLedger,
  ctx: OperationContext,
): { month: ManagerMonth; change: LedgerChange<unknown> | undefined; points: number } {
  const qualified = month.purchasesKop >= thresholdKop;
  let points = 0;
  let current = ledger;
  let change: LedgerChange<unknown> | undefined;
  for (const lotId of referrals.flatMap((r) => r.lotIds)) {
    const lot = current.lots.find((l) => l.lotId === lotId);
    if (lot?.state !== "pending" || lot.remaining === 0) continue;
    const amount = lot.remaining;
    points += amount;
    const step = qualified
      ? confirmPendingLot(
          current,
          {
            lotId,
            explanation: (expiresAt) =>
              explainReferralConfirmed(amount, month.month, month.purchasesKop, thresholdKop, expiresAt),
          },
          ctx,
        )
      : cancelPendingLot(
          current,
          {
            lotId,
            explanation: explainReferralCancelled(amount, month.month, month.purchasesKop, thresholdKop),
          },
          ctx,
        );
    if (!step.ok) throw new Error(`a referral lot could not be settled: ${step.code}`);
    current = applyChange(current, step);
    change = change ? combineChanges(change, step) : step;
  }
  return {
    month: {
      ...month,
      referralPoints: qualified ? month.referralPoints : 0,
      settledAt: ctx.now,
      qualified,
      thresholdKop,
    },
    change,
    points,
  };
}
