import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";

describe("order lifecycle through HTTP", () => {
  let h: Awaited<ReturnType<typeof httpHarness>>;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const at = (iso: string) => iso;

  it("W4 (R10, R16, R21): 1,500 bonus points on A 1,500 + B 500 — spends 1,000 and earns 35 on shipment", async () => {
    await h.send({
      method: "POST",
      url: "/v1/customers/w4/credits",
      key: h.keys.operator,
      body: { kind: "bonus", amount: 1500, source: "campaign", funder: "campaign:welcome" },
    });
    const lines = [
      {
        lineId: "A",
        sku: "jacket",
        sellerId: "s-1",
        category: "clothing_shoes",
        quantity: 1,
        unitPriceKop: 150000,
      },
      { lineId: "B", sku: "book", sellerId: "s-2", category: "books", quantity: 1, unitPriceKop: 50000 },
    ];
    const quote = await h.send({
      method: "POST",
      url: "/v1/checkout/quote",
      key: h.keys.operator,
      body: { customerId: "w4", lines, paymentMethod: "other_card" },
    });
    expect(quote.statusCode).toBe(200);
    expect(quote.json()).toMatchObject({ combination: { bonus: 1000 }, accrual: { points: 35 } });
    const events = [
      {
        eventId: "e1",
        type: "placed",
        orderId: "o-w4",
        customerId: "w4",
        occurredAt: at("2026-01-15T09:00:00Z"),
        lines,
        paymentMethod: "other_card",
        spend: { bonus: 1000 },
      },
      {
        eventId: "e2",
        type: "paid",
        orderId: "o-w4",
        customerId: "w4",
        occurredAt: at("2026-01-15T09:05:00Z"),
      },
      {
        eventId: "e3",
        type: "shipped",
        orderId: "o-w4",
        customerId: "w4",
        occurredAt: at("2026-01-15T12:00:00Z"),
      },
    ];
    const res = await h.send({
      method: "POST",
      url: "/v1/orders/events",
      key: h.keys.operator,
      body: { events },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(["applied", "applied", "applied"]);
    expect(body.results[2].effect.accrualPoints).toBe(35);
    const balance = await h.send({ method: "GET", url: "/v1/customers/w4/balance", key: h.keys.operator });
    expect(balance.json().kinds.bonus).toMatchObject({ available: 500, pending: 35, held: 0 });
    const order = await h.send({ method: "GET", url: "/v1/orders/o-w4?customerId=w4", key: h.keys.operator });
    expect(order.json()).toMatchObject({ state: "shipped", accrualPoints: 35 });
    expect(order.json().lines.map((l: { spent: { bonus: number } }) => l.spent.bonus)).toEqual([750, 250]);
    const ret = await h.send({
      method: "POST",
      url: "/v1/orders/events",
      key: h.keys.operator,
      body: {
        eventId: "e4",
        type: "returned",
        orderId: "o-w4",
        customerId: "w4",
        occurredAt: at("2026-01-16T12:00:00Z"),
        lines: [
          { lineId: "A", quantity: 1 },
          { lineId: "B", quantity: 1 },
        ],
      },
    });
    expect(ret.statusCode).toBe(200);
    expect(ret.json()).toMatchObject({ status: "applied", orderState: "returned" });
    const after = await h.send({ method: "GET", url: "/v1/customers/w4/balance", key: h.keys.operator });
    expect(after.json().kinds.bonus).toMatchObject({ available: 1500, pending: 0, held: 0, debt: 0 });
    const again = await h.send({
      method: "POST",
      url: "/v1/orders/events",
      key: h.keys.operator,
      body: {
        eventId: "e5",
        type: "shipped",
        orderId: "o-w4",
        customerId: "w4",
        occurredAt: at("2026-01-16T12:00:00Z"),
      },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: "ORDER_STATE_CONFLICT",
      details: { currentState: "returned" },
    });
  });
});
