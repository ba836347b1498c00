import {
  ownPurchasesKop,
  progressReferral,
  type ReferredOrder,
  referOrder,
} from "../../domain/managers/index.js";
import { type ConfigVersion, managerPolicyOf, type Order } from "../../domain/orders/index.js";
import { monthContaining } from "../../domain/savings/index.js";
import type { OutgoingEffect, ProgrammesState, ProgrammesWrite } from "../ports.js";
import type { PromoCodeOwner } from "./manager-service.js";

function referralEffectTo(referred: ReferredOrder, effect: OutgoingEffect["payload"]): OutgoingEffect {
  return {
    effectId: `referral:${referred.orderId}:${referred.seq}`,
    targetCustomerId: referred.managerId,
    payload: effect,
  };
}

/**
 * R24 on a customer's own order events. As a buyer: an order placed with a promo code is recorded
 * (counted, own code, or the manager revoked), and each change of its shipped-and-kept money sends
 * the manager a new snapshot of its referral points. As a manager: its own orders' money paid is
 * added to the month they were placed in (net of cancellations and returns).
 */
export function managersAfterOrderEvents(input: {
  programmes: ProgrammesState;
  /** The orders as loaded, before the events. */
  before: ReadonlyMap<string, Order>;
  /** The orders the events changed, as they stand now. */
  after: readonly Order[];
  /** Orders placed by these events with a promo code, and the code's owner. */
  placedWithCode: ReadonlyMap<string, { promoCode: string; owner: PromoCodeOwner }>;
  /** The first shipment's instant among the events, per order. */
  shippedAt: ReadonlyMap<string, Date>;
  versionOf: (order: Order) => ConfigVersion;
  timeZone: string;
}): Pick<ProgrammesWrite, "referredOrders" | "monthDeltas"> & { effects: OutgoingEffect[] } {
  const referredOrders: ReferredOrder[] = [];
  const effects: OutgoingEffect[] = [];
  const monthDeltas: NonNullable<ProgrammesWrite["monthDeltas"]> = [];
  for (const order of input.after) {
    const placed = input.placedWithCode.get(order.orderId);
    let referred = input.programmes.referredOrders.get(order.orderId);
    let changed = false;
    if (!referred && placed) {
      referred = referOrder({
        order,
        promoCode: placed.promoCode,
        manager: placed.owner,
        rateBp: managerPolicyOf(input.versionOf(order).config).referralRateBp,
      });
      changed = true;
    }
    if (referred) {
      const progressed = progressReferral(referred, order, input.shippedAt.get(order.orderId));
      if (progressed) {
        referred = progressed.referred;
        effects.push(referralEffectTo(referred, progressed.effect));
        changed = true;
      }
      if (changed) referredOrders.push(referred);
    }
    if (input.programmes.manager) {
      const delta = ownPurchasesKop(order) - ownPurchasesKop(input.before.get(order.orderId));
      if (delta !== 0)
        monthDeltas.push({
          month: monthContaining(order.placedAt, input.timeZone).month,
          purchasesKop: delta,
          referralPoints: 0,
        });
    }
  }
  return { referredOrders, monthDeltas, effects };
}
