import { campaignNote } from "../domain/campaigns/order-parts.js";
import type { CategoryNames } from "../domain/ledger/index.js";
import { explainOrderLine, type Order } from "../domain/orders/index.js";

/** R33 and the order view: per line what was spent, earned, clawed back and refunded. */
export function orderView(order: Order, names: CategoryNames) {
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    state: order.state,
    paymentMethod: order.paymentMethod,
    configVersion: order.configVersion,
    premium: order.premium === true,
    placedAt: order.placedAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    spent: order.spend,
    accrualPoints: order.accrualPoints,
    shortfall: order.shortfall,
    // R25: only on orders that earn savings cashback (the view of every other order is as it was).
    ...(order.cashback ? { cashback: { rateBp: order.cashback.rateBp, points: order.cashback.points } } : {}),
    // R26: only on orders a campaign applied to, each campaign as its own line (R33).
    ...(order.campaigns
      ? {
          campaigns: order.campaigns.map((c) => ({
            campaignId: c.campaignId,
            version: c.version,
            name: c.name,
            funder: c.funder,
            points: c.points,
            wantedPoints: c.wantedPoints,
            creditedPoints: c.credited,
            reservedPoints: c.budgetTakes === null ? null : c.budgetTakes.reduce((s, t) => s + t.points, 0),
            lines: c.lines.map((l) => ({ lineId: l.lineId, kop: l.kop })),
            explanation: campaignNote(c),
          })),
        }
      : {}),
    lines: order.lines.map((l) => ({
      lineId: l.lineId,
      sku: l.sku,
      sellerId: l.sellerId,
      category: l.category,
      quantity: l.quantity,
      unitPriceKop: l.unitPriceKop,
      originalUnitPriceKop: l.originalUnitPriceKop ?? null,
      shippedQuantity: l.shippedQuantity,
      returnedQuantity: l.returnedQuantity,
      spent: l.spent,
      refunded: l.refunded,
      accrualKop: l.accrualKop,
      premiumBp: l.accrualPremiumBp ?? 0,
      premiumKop: l.accrualPremiumKop ?? 0,
      earnedKop: l.earnedKop,
      clawedBackKop: l.removedKop,
      sellerPointsPerUnit: l.sellerPointsPerUnit ?? 0,
      sellerPointsEarned: l.sellerPointsEarned,
      sellerPointsClawedBack: l.sellerPointsRemoved,
      explanation: explainOrderLine(order, l, names),
    })),
  };
}

export type OrderView = ReturnType<typeof orderView>;
