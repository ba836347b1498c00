import type { OrderCampaign } from "../campaigns/order-parts.js";
import type { CartLine, KindPoints, LocalizedText, PaymentMethod } from "../checkout/index.js";

export const ORDER_STATES = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const ORDER_EVENT_TYPES = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/** One line of an order as Kopilka keeps it: the cart line plus what happened to it. */
export interface OrderLine extends CartLine {
  /** R21: the points spent on the order that this line carries, per kind. */
  readonly spent: KindPoints;
  /** R7-R12: what the whole line earns, kopecks of points, fixed when the order was placed. */
  readonly accrualKop: number;
  /** R33: the numbers the line's accrual is explained with (R9, R10 base; R7 rate; R8 card bonus). */
  readonly accrualBaseKop: number;
  readonly accrualRateBp: number;
  readonly accrualCardBp: number;
  /**
   * R28: the Premium extra (bp) and what it adds to accrualKop (kopecks of points), present only on
   * lines of orders placed by a subscriber, so lines stored before R28 read as not Premium.
   */
  readonly accrualPremiumBp?: number | undefined;
  readonly accrualPremiumKop?: number | undefined;
  /**
   * Orders placed before migration 5 kept the explanation's text instead of the numbers above
   * (which they lack); it is shown as it was stored.
   */
  readonly accrualExplanation?: LocalizedText;
  shippedQuantity: number;
  returnedQuantity: number;
  /** The lots its shipments credited (purchase accrual, seller points); clawbacks start there. */
  accrualLotIds: string[];
  sellerLotIds: string[];
  /** R15: spent points given back for returned units, per kind. */
  refunded: Record<"bonus" | "savings" | "referral", number>;
  /** Accrual (kopecks of points) and seller points that shipped, and that returns took back. */
  earnedKop: number;
  removedKop: number;
  sellerPointsEarned: number;
  sellerPointsRemoved: number;
}

/** R25, the variant: an order paid from the savings account of a customer whose mechanic is cashback. */
export interface OrderCashback {
  /** Basis points of the money paid, fixed when the order was placed (the version then in force). */
  readonly rateBp: number;
  /** Whole points credited net of returns. */
  points: number;
  /** The lots its shipments credited (`savings` points); returns claw back from them first. */
  lotIds: string[];
}

export interface Order {
  readonly customerId: string;
  readonly orderId: string;
  state: OrderState;
  readonly paymentMethod: PaymentMethod;
  /** The programme version in force when the order was placed; every later event uses it. */
  readonly configVersion: number;
  /**
   * R28: whether the customer was a Premium subscriber at the instant the order was placed, fixed
   * then like the version (later periods change nothing); premium-only campaigns (R26) read it.
   * Absent: not (and orders placed before R28).
   */
  readonly premium?: boolean | undefined;
  readonly placedAt: Date;
  readonly spend: KindPoints;
  readonly lines: OrderLine[];
  /** The sequence number of the last event applied (events may carry one to be put in order). */
  lastSequence: number;
  /** Whole points credited and taken back for the purchase accrual (R12 rounding over the order). */
  accrualPoints: number;
  /** R14: what returns could not take back, summed. */
  shortfall: number;
  /** R25: present only on orders that earn savings cashback. */
  cashback?: OrderCashback | undefined;
  /** R26: what the campaigns in force at placement promised it; absent: none applied. */
  campaigns?: OrderCampaign[] | undefined;
  updatedAt: Date;
}

export interface EventLineQuantity {
  readonly lineId: string;
  /** Units; omitted on `shipped` means every unit not yet shipped. */
  readonly quantity?: number | undefined;
}

interface EventBase {
  readonly eventId: string;
  readonly orderId: string;
  readonly customerId: string;
  /** 1 for `placed`, then one more per event; an event ahead of its turn waits for the ones before it. */
  readonly sequence?: number | undefined;
  /** When it happened at the marketplace; R13 counts the pending delay from the shipment's instant. */
  readonly occurredAt: Date;
}

export type OrderEvent =
  | (EventBase & {
      readonly type: "placed";
      readonly lines: readonly CartLine[];
      readonly paymentMethod: PaymentMethod;
      readonly spend: KindPoints;
      /** R24: a manager's promo code the order was placed with. */
      readonly promoCode?: string | undefined;
      /**
       * R28: whether the customer was Premium at occurredAt, looked up by Kopilka when the event
       * arrives (like R11's seller points), never sent by the marketplace.
       */
      readonly premium?: boolean | undefined;
    })
  | (EventBase & { readonly type: "paid" | "delivered" | "cancelled" })
  | (EventBase & { readonly type: "shipped"; readonly lines?: readonly EventLineQuantity[] | undefined })
  | (EventBase & { readonly type: "returned"; readonly lines: readonly EventLineQuantity[] });

export const ORDER_REFUSAL_CODES = [
  "ORDER_NOT_FOUND",
  "ORDER_STATE_CONFLICT",
  "ORDER_SEQUENCE_CONFLICT",
  "INVALID_ORDER",
  "LINE_NOT_FOUND",
  "RETURN_EXCEEDS_SHIPPED",
  "SHIPMENT_EXCEEDS_ORDERED",
  "CAP_EXCEEDED",
  "PREDECESSOR_REFUSED",
] as const;
