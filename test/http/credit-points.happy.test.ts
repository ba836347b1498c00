import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { bonusBalance, creditPoints, expectSuccess, type Harness } from "./routes-table.js";

describe("POST /v1/customers/{customerId}/credits", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("credits a pending lot that the balance shows as pending, then available a day later", async () => {
    const res = await creditPoints(h, "c-1", {
      kind: "bonus",
      amount: 60,
      source: "purchase",
      funder: "marketplace",
      availableFrom: "2026-01-16T09:00:00Z",
      reference: "order-7781",
    });
    expect(expectSuccess(res, 201)).toMatchObject({
      amount: 60,
      remaining: 60,
      state: "pending",
      expiresAt: "2027-01-16T09:00:00.000Z",
    });
    expect(await bonusBalance(h, "c-1", h.keys.readonly)).toMatchObject({ available: 0, pending: 60 });
    h.clock.advanceDays(1);
    expect(await bonusBalance(h, "c-1", await h.customerToken("c-1"))).toMatchObject({
      available: 60,
      pending: 0,
    });
  });
  it("without availableFrom the points are available at once and expire 365 days later (R3)", async () => {
    const now = h.clock.now();
    const res = await creditPoints(h, "c-2", {
      kind: "bonus",
      amount: 10,
      source: "review",
      funder: "marketplace",
    });
    expect(expectSuccess(res, 201)).toMatchObject({
      state: "available",
      availableFrom: now.toISOString(),
      expiresAt: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
      reference: null,
    });
    expect(await bonusBalance(h, "c-2", h.keys.support)).toMatchObject({ available: 10, pending: 0 });
  });
});
