/**
 * R31: what a customer is told, and when. A notification is caused by a movement (points credited,
 * made available, spent, refunded, clawed back, expired, adjusted; a review moderated, an invite
 * rewarded, a manager's month settled, savings interest paid) or, for points about to expire, by
 * the scheduler's notice run, once per lot and threshold. Its text is its explanation (R33).
 */
import type { PointKind } from "../kinds.js";
import {
  type ExplanationCode,
  type ExplanationContext,
  type ExplanationRef,
  type Movement,
  renderExplanation,
} from "../ledger/index.js";
import type { LocalizedText } from "../text.js";

export const NOTIFICATION_TYPES = [
  "points.credited",
  "points.available",
  "points.spent",
  "points.refunded",
  "points.clawed_back",
  "points.expired",
  "points.expiring",
  "points.adjusted",
  "review.moderated",
  "invite.rewarded",
  "manager.month_settled",
  "savings.interest_paid",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** R31: points expiring within 30 and within 7 days are announced, each once per lot. */
export const EXPIRY_NOTICE_DAYS = [30, 7] as const;

type Params<C extends ExplanationCode> = Extract<ExplanationRef, { code: C }>["params"];

/**
 * Which notification a movement causes, by its explanation, and how many points it is about. Holds,
 * releases and debt offsets tell the customer nothing new (the order page shows them); text is the
 * legacy explanation of rows older than explanation codes.
 */
const NOTIFICATION_OF_EXPLANATION: {
  [C in ExplanationCode]: { type: NotificationType; amount: (params: Params<C>) => number } | null;
} = {
  text: null,
  hold: null,
  release: null,
  debt_offset: null,
  credit: { type: "points.credited", amount: ([amount]) => amount },
  order_shipped: { type: "points.credited", amount: ([, points]) => points },
  order_seller_points: { type: "points.credited", amount: ([, amount]) => amount },
  order_campaign: { type: "points.credited", amount: ([, amount]) => amount },
  review_submitted: { type: "points.credited", amount: ([amount]) => amount },
  referral_credited: { type: "points.credited", amount: ([amount]) => amount },
  savings_cashback: { type: "points.credited", amount: ([, , , points]) => points },
  made_available: { type: "points.available", amount: ([amount]) => amount },
  spent: { type: "points.spent", amount: ([amount]) => amount },
  refund: { type: "points.refunded", amount: ([amount]) => amount },
  // Everything the return took: pending points cancelled, available ones taken, the rest as debt.
  clawback: {
    type: "points.clawed_back",
    amount: ([cancelledPending, clawedBack, shortfall]) => cancelledPending + clawedBack + shortfall,
  },
  expire: { type: "points.expired", amount: ([amount]) => amount },
  // Signed: support removes points with a negative adjustment (R34).
  adjust: { type: "points.adjusted", amount: ([amount]) => amount },
  review_approved: { type: "review.moderated", amount: ([amount]) => amount },
  review_rejected: { type: "review.moderated", amount: ([amount]) => amount },
  invite_reward: { type: "invite.rewarded", amount: ([amount]) => amount },
  referral_confirmed: { type: "manager.month_settled", amount: ([amount]) => amount },
  referral_cancelled: { type: "manager.month_settled", amount: ([amount]) => amount },
  savings_interest: { type: "savings.interest_paid", amount: ([, , , points]) => points },
  expiring_soon: { type: "points.expiring", amount: ([amount]) => amount },
};

/** The notification type an explanation code causes, if any (set-based statements use it). */
export function notificationTypeOf(code: ExplanationCode): NotificationType | null {
  return NOTIFICATION_OF_EXPLANATION[code]?.type ?? null;
}

/** The notification a movement causes, if any: its type and the points it is about. */
export function notificationOfMovement(m: Movement): { type: NotificationType; amount: number } | null {
  const rule = NOTIFICATION_OF_EXPLANATION[m.explanation.code] as {
    type: NotificationType;
    amount: (params: ExplanationRef["params"]) => number;
  } | null;
  return rule ? { type: rule.type, amount: rule.amount(m.explanation.params) } : null;
}

/**
 * The id of the notification a movement causes: the movement's digits, so that there is one per
 * movement and a customer's notifications sort as their movements were made.
 */
export function notificationIdOfMovement(movementId: string): string {
  return `ntf_${movementId.slice(movementId.indexOf("_") + 1)}`;
}

/** A notification as the outbox keeps it. */
export interface StoredNotification {
  notificationId: string;
  customerId: string;
  type: NotificationType;
  kind: PointKind;
  amount: number;
  reference: string | null;
  movementId: string | null;
  lotId: string | null;
  thresholdDays: number | null;
  lotExpiresAt: Date | null;
  explanation: ExplanationRef;
  occurredAt: Date;
  createdAt: Date;
}

/**
 * What leaves the service, as a webhook's body and a broker message's payload (the same JSON):
 * everything a receiver needs without calling back, texts in both languages.
 */
export interface NotificationMessage {
  id: string;
  type: NotificationType;
  customerId: string;
  occurredAt: string;
  kind: PointKind;
  /** Points the notification is about; negative only for a support adjustment that removes points. */
  amount: number;
  /** The order, review or other subject the movement names, if any. */
  reference: string | null;
  movementId: string | null;
  /** `points.expiring`: the lot, its expiry and the threshold crossed. */
  expiry: { lotId: string; expiresAt: string; thresholdDays: number } | null;
  /** `review.moderated` and `manager.month_settled`: how it was decided. */
  decision: "approved" | "rejected" | "confirmed" | "cancelled" | null;
  text: LocalizedText;
}

const DECISIONS: Partial<Record<ExplanationCode, NotificationMessage["decision"]>> = {
  review_approved: "approved",
  review_rejected: "rejected",
  referral_confirmed: "confirmed",
  referral_cancelled: "cancelled",
};

export function renderNotification(n: StoredNotification, context: ExplanationContext): NotificationMessage {
  return {
    id: n.notificationId,
    type: n.type,
    customerId: n.customerId,
    occurredAt: n.occurredAt.toISOString(),
    kind: n.kind,
    amount: n.amount,
    reference: n.reference,
    movementId: n.movementId,
    expiry:
      n.lotId !== null && n.lotExpiresAt !== null && n.thresholdDays !== null
        ? { lotId: n.lotId, expiresAt: n.lotExpiresAt.toISOString(), thresholdDays: n.thresholdDays }
        : null,
    decision: DECISIONS[n.explanation.code] ?? null,
    text: renderExplanation(n.explanation, context),
  };
}
