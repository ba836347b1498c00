import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";

describe("POST /v1/customers/{customerId}/credits", () => {
  let h: Awaited<ReturnType<typeof httpHarness>>;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("credits a pending lot that the balance shows as pending, then available a day later", async () => {
    const res = await h.send({
      method: "POST",
      url: "/v1/customers/c-1/credits",
      key: h.keys.operator,
      body: {
        kind: "bonus",
        amount: 60,
        source: "purchase",
        funder: "marketplace",
        availableFrom: "2026-01-16T09:00:00Z",
        reference: "order-7781",
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      amount: 60,
      remaining: 60,
      state: "pending",
      expiresAt: "2027-01-16T09:00:00.000Z",
    });
    const before = await h.send({ method: "GET", url: "/v1/customers/c-1/balance", key: h.keys.readonly });
    expect(before.json().kinds.bonus).toMatchObject({ available: 0, pending: 60 });
    h.clock.advanceDays(1);
    const after = await h.send({
      method: "GET",
      url: "/v1/customers/c-1/balance",
      key: await h.customerToken("c-1"),
    });
    expect(after.json().kinds.bonus).toMatchObject({ available: 60, pending: 0 });
  });
  it("without availableFrom the points are available at once and expire 365 days later (R3)", async () => {
    const now = h.clock.now();
    const res = await h.send({
      method: "POST",
      url: "/v1/customers/c-2/credits",
      key: h.keys.operator,
      body: { kind: "bonus", amount: 10, source: "review", funder: "marketplace" },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      state: "available",
      availableFrom: now.toISOString(),
      expiresAt: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
      reference: null,
    });
    const balance = await h.send({ method: "GET", url: "/v1/customers/c-2/balance", key: h.keys.support });
    expect(balance.json().kinds.bonus).toMatchObject({ available: 10, pending: 0 });
  });
});
