import { orderTotalKop } from "../checkout/index.js";
import {
  type CustomerLedger,
  clawback,
  credit,
  explainInviteReward,
  type LedgerChange,
  type OperationContext,
} from "../ledger/index.js";
import type { Order } from "../orders/index.js";
import {
  type Invitation,
  type InvitationStatus,
  type InvitedFriend,
  type InviteEffect,
  type InvitePolicy,
  inviteRewardPoints,
} from "./types.js";

/** An order's shipment as the friend's events applied it, with its reward's R13 dates. */
export interface Shipment {
  readonly order: Order;
  /** R13: the shipment + the pending delay of the order's programme version, and the expiry after it. */
  readonly availableFrom: Date;
  readonly expiresAt: Date;
}

/**
 * R23, the friend's side, after the friend's events: the first order to ship earns the reward (an
 * order cancelled before shipping never counts; of orders first shipped together, the one placed
 * first), by its total at the prices charged; that order returned in full takes it back. Returns the
 * invitation changed, or undefined.
 */
export function progressInvitation(
  invitation: Invitation,
  input: {
    shipments: readonly Shipment[];
    /** Orders the events changed, as they stand now. */
    orders: readonly Order[];
    /** The invite policy of the programme version the order was placed under. */
    policyOf: (order: Order) => InvitePolicy;
  },
): Invitation | undefined {
  let next: Invitation | undefined;
  if (invitation.status === "registered") {
    const first = [...input.shipments].sort(
      (a, b) =>
        a.order.placedAt.getTime() - b.order.placedAt.getTime() ||
        (a.order.orderId < b.order.orderId ? -1 : 1),
    )[0];
    if (first) {
      const totalKop = orderTotalKop(first.order.lines);
      next = {
        ...invitation,
        status: "rewarded",
        orderId: first.order.orderId,
        orderTotalKop: totalKop,
        points: inviteRewardPoints(input.policyOf(first.order), totalKop),
        availableFrom: first.availableFrom,
        expiresAt: first.expiresAt,
        seq: invitation.seq + 1,
      };
    }
  }
  const current = next ?? invitation;
  const rewarded = input.orders.find((o) => o.orderId === current.orderId);
  if (current.status === "rewarded" && rewarded?.state === "returned") {
    next = { ...current, status: "clawed_back", seq: current.seq + 1 };
  }
  return next;
}

export function inviteEffectOf(invitation: Invitation): InviteEffect {
  return {
    type: "invite",
    seq: invitation.seq,
    friendId: invitation.friendId,
    registeredAt: invitation.registeredAt.toISOString(),
    status: invitation.status,
    orderId: invitation.orderId,
    orderTotalKop: invitation.orderTotalKop,
    points: invitation.points,
    availableFrom: invitation.availableFrom?.toISOString() ?? null,
    expiresAt: invitation.expiresAt?.toISOString() ?? null,
  };
}

const STAGE: Record<InvitationStatus, number> = { registered: 0, rewarded: 1, clawed_back: 2 };

/**
 * R23, the inviter's side: applies what the friend's work recorded, once. An effect not newer than
 * the last one applied changes nothing; a newer one brings the friend's row to it: a reward is
 * credited pending (R13: available after the pending delay from the shipment, funded by the
 * marketplace), a reward taken back is clawed back (R14: what is missing becomes debt). A reward
 * taken back before its credit was applied is never credited.
 */
export function applyInviteEffect(
  friend: InvitedFriend | undefined,
  effect: InviteEffect,
  ledger: CustomerLedger,
  ctx: OperationContext,
): { friend: InvitedFriend; change: LedgerChange<unknown> | undefined } | undefined {
  if (friend && effect.seq <= friend.appliedSeq) return undefined;
  const base: InvitedFriend = friend ?? {
    friendId: effect.friendId,
    registeredAt: new Date(effect.registeredAt),
    status: "registered",
    orderId: null,
    orderTotalKop: null,
    points: 0,
    lotId: null,
    appliedSeq: 0,
  };
  const next: InvitedFriend = {
    ...base,
    status: STAGE[effect.status] >= STAGE[base.status] ? effect.status : base.status,
    orderId: effect.orderId,
    orderTotalKop: effect.orderTotalKop,
    points: effect.points,
    appliedSeq: effect.seq,
  };
  const reference = `invite:${effect.friendId}`;
  if (effect.status === "rewarded" && base.lotId === null && effect.points > 0) {
    const availableFrom = new Date(effect.availableFrom ?? ctx.now.toISOString());
    const credited = credit(
      ledger,
      {
        kind: "bonus",
        amount: effect.points,
        source: "friend_invite",
        funder: "marketplace",
        availableFrom,
        ...(effect.expiresAt ? { expiresAt: new Date(effect.expiresAt) } : {}),
        reference,
        explanation: explainInviteReward(effect.points, effect.orderTotalKop ?? 0, availableFrom),
      },
      ctx,
    );
    if (!credited.ok) throw new Error(`an invite reward was refused: ${credited.code}`);
    return { friend: { ...next, lotId: credited.value.lotId }, change: credited };
  }
  if (effect.status === "clawed_back" && base.lotId !== null && base.status === "rewarded") {
    const taken = clawback(
      ledger,
      { kind: "bonus", amount: base.points, lotIds: [base.lotId], reference },
      ctx,
    );
    if (!taken.ok) throw new Error(`an invite clawback was refused: ${taken.code}`);
    return { friend: next, change: taken };
  }
  return { friend: next, change: undefined };
}
