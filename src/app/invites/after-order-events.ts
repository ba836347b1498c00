import { progressInvitation, type Shipment } from "../../domain/invites/index.js";
import { addDays } from "../../domain/ledger/index.js";
import { type ConfigVersion, invitePolicyOf, type Order } from "../../domain/orders/index.js";
import type { OutgoingEffect, ProgrammesWrite } from "../ports.js";
import { inviteEffectTo } from "./invite-service.js";

/** An order event the friend's work applied, with what its shipment set (R13: when its accrual is available). */
export interface AppliedShipment {
  order: Order;
  availableFrom: Date;
}

/**
 * R23, the friend's side of its own order events: the first order to ship rewards the inviter, that
 * order returned in full takes the reward back. Recorded as an effect for the inviter's work.
 */
export function invitationAfterOrderEvents(input: {
  invitation: ProgrammesWrite["invitation"];
  shipments: readonly AppliedShipment[];
  orders: readonly Order[];
  versionOf: (order: Order) => ConfigVersion;
}): { invitation?: NonNullable<ProgrammesWrite["invitation"]>; effects: OutgoingEffect[] } {
  if (!input.invitation) return { effects: [] };
  const shipments: Shipment[] = input.shipments.map(({ order, availableFrom }) => ({
    order,
    availableFrom,
    expiresAt: addDays(availableFrom, input.versionOf(order).config.lifecycle.expiryDays),
  }));
  const next = progressInvitation(input.invitation, {
    shipments,
    orders: input.orders,
    policyOf: (order) => invitePolicyOf(input.versionOf(order).config),
  });
  return next ? { invitation: next, effects: [inviteEffectTo(next)] } : { effects: [] };
}
