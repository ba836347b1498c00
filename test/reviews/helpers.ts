import type { LightMyRequestResponse } from "fastify";
import { sql } from "kysely";
import { type Api, api, type Harness, type Line, orderEvents } from "../orders/helpers.js";

/** R22 tests: reviews through the HTTP API, and orders delivered to review. */

export interface ReviewBody {
  reviewId: string;
  customerId: string;
  sku: string;
  sellerId: string;
  orderId: string;
  textLength: number;
  photoCount: number;
  submittedAt: string;
}

export interface ReviewAnswer {
  reviewId: string;
  status: "awaiting" | "approved" | "rejected";
  points: number;
  notRewardedReason: string | null;
  funder: string | null;
  moderatedBy: string | null;
}

export const SELLER = "s-9";

export function productLine(sku: string, quantity = 1, sellerId = SELLER): Line {
  // 10 RUB: the purchase accrual rounds to no points, so every point in these tests is a review's.
  return { lineId: `line-${sku}`, sku, sellerId, category: "books", quantity, unitPriceKop: 1_000 };
}

export function reviews(h: Harness) {
  const k: Api = api(h);
  return {
    orders: k,
    /**
     * Places, pays and ships an order of `sku`, then (unless `until` says otherwise) delivers it and
     * returns `returned` units.
     */
    async buy(
      customerId: string,
      orderId: string,
      sku: string,
      options: {
        until?: "shipped" | "delivered";
        quantity?: number;
        returned?: number;
        sellerId?: string;
      } = {},
    ) {
      const at = () => h.clock.now();
      const e = orderEvents(customerId, orderId, at);
      const line = productLine(sku, options.quantity ?? 1, options.sellerId);
      await k.apply(e.placed([line]));
      await k.apply(e.paid());
      await k.apply(e.shipped());
      if (options.until === "shipped") return;
      await k.apply(e.delivered());
      if (options.returned) await k.apply(e.returned([{ lineId: line.lineId, quantity: options.returned }]));
    },
    report(body: ReviewBody): Promise<LightMyRequestResponse> {
      return h.send({ method: "POST", url: "/v1/reviews", key: h.keys.operator, body });
    },
    moderate(
      customerId: string,
      reviewId: string,
      decision: "approve" | "reject",
      options: { key?: string; idempotencyKey?: string } = {},
    ): Promise<LightMyRequestResponse> {
      return h.send({
        method: "POST",
        url: `/v1/reviews/${reviewId}/${decision}`,
        key: options.key ?? h.keys.support,
        body: { customerId },
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      });
    },
    async unmoderated(query = ""): Promise<LightMyRequestResponse> {
      return h.send({ method: "GET", url: `/v1/reviews/unmoderated${query}`, key: h.keys.operator });
    },
    async reviewRows(customerId: string): Promise<number> {
      const result = await sql<{ n: number }>`
        select count(*)::int as n from reviews where customer_id = ${customerId}`.execute(h.database.db);
      return result.rows[0]?.n ?? 0;
    },
  };
}

/** A review report for `customerId` of `sku` in `orderId`, 250 characters with 2 photos unless told. */
export function reviewOf(
  customerId: string,
  orderId: string,
  sku: string,
  extra: Partial<ReviewBody> = {},
): ReviewBody {
  return {
    reviewId: `rev-${customerId}-${sku}`,
    customerId,
    sku,
    sellerId: SELLER,
    orderId,
    textLength: 250,
    photoCount: 2,
    submittedAt: "2026-01-15T09:00:00.000Z",
    ...extra,
  };
}
