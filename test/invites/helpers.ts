import type { LightMyRequestResponse } from "fastify";
import { type Api, api, type Harness, type Line, orderEvents } from "../orders/helpers.js";

/** R23 tests: invite codes, registrations and friends' first orders through the HTTP API. */

export interface InvitationAnswer {
  friendId: string;
  inviterId: string;
  code: string;
  status: "registered" | "rewarded" | "clawed_back";
  orderId: string | null;
  orderTotalKop: number | null;
  points: number;
}

/** One line of `totalKop` (books): the friend's order total is exactly that. */
export function orderOf(totalKop: number, lineId = "line-1"): Line {
  return { lineId, sku: "book", sellerId: "s-9", category: "books", quantity: 1, unitPriceKop: totalKop };
}

export function invites(h: Harness) {
  const k: Api = api(h);
  return {
    orders: k,
    async code(customerId: string, fingerprints: Record<string, string> = {}): Promise<string> {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${customerId}/invite-code`,
        key: h.keys.operator,
        body: fingerprints,
      });
      if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`invite code: ${res.body}`);
      return (res.json() as { code: string }).code;
    },
    register(
      friendId: string,
      code: string,
      extra: Record<string, string> = {},
      idempotencyKey?: string,
    ): Promise<LightMyRequestResponse> {
      return h.send({
        method: "POST",
        url: `/v1/customers/${friendId}/invitation`,
        key: h.keys.operator,
        body: { code, registeredAt: h.clock.now().toISOString(), ...extra },
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
    },
    async friends(inviterId: string) {
      const res = await h.send({
        method: "GET",
        url: `/v1/customers/${inviterId}/invites`,
        key: h.keys.operator,
      });
      return res.json() as {
        code: string | null;
        friends: { friendId: string; status: string; points: number }[];
      };
    },
    /** Places, pays and ships one order (all units), returning the event builder for what follows. */
    async shipOrder(customerId: string, orderId: string, lines: Line[]) {
      const e = orderEvents(customerId, orderId, () => h.clock.now());
      await k.apply(e.placed(lines));
      await k.apply(e.paid());
      await k.apply(e.shipped());
      return e;
    },
  };
}
