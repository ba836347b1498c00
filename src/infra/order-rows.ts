import type { OrderCampaign } from "../domain/campaigns/order-parts.js";
import type { Order, OrderCashback, OrderLine } from "../domain/orders/index.js";

/**
 * How an order is stored: what was fixed when it was placed goes into `order_lines` once, and the
 * `orders` row keeps only what events change (`progress`), so an event rewrites a small row instead
 * of the whole order. Progress lines are tuples, in the order of the placed lines.
 */

/** What an event can change on a line. */
type LineProgress = [
  shippedQuantity: number,
  returnedQuantity: number,
  earnedKop: number,
  removedKop: number,
  sellerPointsEarned: number,
  sellerPointsRemoved: number,
  refunded: [bonus: number, savings: number, referral: number],
  accrualLotIds: string[],
  sellerLotIds: string[],
];

export interface OrderProgress {
  lastSequence: number;
  accrualPoints: number;
  shortfall: number;
  lines: LineProgress[];
  /** R25: only on orders that earn savings cashback (the ledger's load reads its lot ids). */
  cashback?: OrderCashback;
  /**
   * R28: fixed at placement, not changed by events, but here rather than in a column of its own so
   * that migration 15 leaves the orders table (and its writes) as they were; only when true.
   */
  premium?: true;
  /**
   * R26: only on orders a campaign applied to — what each promised (fixed at placement) and what
   * it has credited and still holds of its budget (changed by events); the load reads its lot ids.
   */
  campaigns?: OrderCampaign[];
}

/** A line as placed: the cart line, its share of the spend (R21) and what it earns (R7-R12). */
export type PlacedLine = Omit<OrderLine, keyof MutableLine>;

type MutableLine = Pick<
  OrderLine,
  | "shippedQuantity"
  | "returnedQuantity"
  | "earnedKop"
  | "removedKop"
  | "sellerPointsEarned"
  | "sellerPointsRemoved"
  | "refunded"
  | "accrualLotIds"
  | "sellerLotIds"
>;

export interface OrderRow {
  customer_id: string;
  order_id: string;
  state: string;
  config_version: number;
  payment_method: string;
  spend: [bonus: number, savings: number, referral: number];
  placed_at: Date | string;
  updated_at: Date | string;
  progress: OrderProgress;
}

export function placedLines(order: Order): PlacedLine[] {
  return order.lines.map(
    ({
      shippedQuantity: _s,
      returnedQuantity: _r,
      earnedKop: _e,
      removedKop: _m,
      sellerPointsEarned: _se,
      sellerPointsRemoved: _sr,
      refunded: _f,
      accrualLotIds: _a,
      sellerLotIds: _l,
      ...placed
    }) => placed,
  );
}

export function orderRow(order: Order): OrderRow {
  return {
    customer_id: order.customerId,
    order_id: order.orderId,
    state: order.state,
    config_version: order.configVersion,
    payment_method: order.paymentMethod,
    spend: [order.spend.bonus, order.spend.savings, order.spend.referral],
    placed_at: order.placedAt,
    updated_at: order.updatedAt,
    progress: {
      lastSequence: order.lastSequence,
      accrualPoints: order.accrualPoints,
      shortfall: order.shortfall,
      ...(order.cashback ? { cashback: order.cashback } : {}),
      ...(order.premium ? { premium: true as const } : {}),
      ...(order.campaigns ? { campaigns: order.campaigns } : {}),
      lines: order.lines.map((l) => [
        l.shippedQuantity,
        l.returnedQuantity,
        l.earnedKop,
        l.removedKop,
        l.sellerPointsEarned,
        l.sellerPointsRemoved,
        [l.refunded.bonus, l.refunded.savings, l.refunded.referral],
        l.accrualLotIds,
        l.sellerLotIds,
      ]),
    },
  };
}

export function orderFromRows(row: OrderRow, lines: PlacedLine[]): Order {
  const [bonus, savings, referral] = row.spend;
  return {
    customerId: row.customer_id,
    orderId: row.order_id,
    state: row.state as Order["state"],
    paymentMethod: row.payment_method as Order["paymentMethod"],
    configVersion: row.config_version,
    placedAt: new Date(row.placed_at),
    spend: { bonus, savings, referral },
    lines: lines.map((placed, i) => {
      const [
        shipped,
        returned,
        earnedKop,
        removedKop,
        sellerEarned,
        sellerRemoved,
        refunded,
        accrual,
        seller,
      ] = row.progress.lines[i] as LineProgress;
      return {
        ...placed,
        shippedQuantity: shipped,
        returnedQuantity: returned,
        earnedKop,
        removedKop,
        sellerPointsEarned: sellerEarned,
        sellerPointsRemoved: sellerRemoved,
        refunded: { bonus: refunded[0], savings: refunded[1], referral: refunded[2] },
        accrualLotIds: accrual,
        sellerLotIds: seller,
      };
    }),
    lastSequence: row.progress.lastSequence,
    accrualPoints: row.progress.accrualPoints,
    shortfall: row.progress.shortfall,
    ...(row.progress.cashback ? { cashback: row.progress.cashback } : {}),
    ...(row.progress.premium ? { premium: true } : {}),
    ...(row.progress.campaigns ? { campaigns: row.progress.campaigns } : {}),
    updatedAt: new Date(row.updated_at),
  };
}
