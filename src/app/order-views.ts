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
