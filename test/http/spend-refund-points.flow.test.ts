import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  bonusBalance,
  createHold,
  credit,
  customerIds,
  expectError,
  expectSuccess,
  fullHistory,
  type Harness,
  openHold,
  rowCount,
  settleHold,
  spend,
  spendPoints,
} from "./routes-table.js";

/** Direct spends (R4) and refunds into the lots they came from (R15). */
describe("POST …/spends and POST …/refunds", () => {
  let h: Harness;
  const nextCustomer = customerIds("spend");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const refund = (customerId: string, redemptionId: string, amount: number) =>
    h.client(h.keys.operator).POST("/v1/customers/{customerId}/refunds", {
      params: { path: { customerId }, header: h.idempotencyKeyHeader() },
      body: { redemptionId, amount },
    });

  it("a spend answers the redemption and lowers the balance", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    const res = await spendPoints(h, id, { redemptionId: "order-1", kind: "bonus", amount: 40 });
    expect(expectSuccess(res, 201)).toEqual({
      redemptionId: "order-1",
      kind: "bonus",
      amount: 40,
      refunded: 0,
    });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 60, held: 0 });
    const [spent] = await fullHistory(h, id);
    expect(spent).toMatchObject({
      type: "spend",
      reference: "order-1",
      change: { available: -40 },
      postings: [
        { account: "wallet:available", amount: -40 },
        { account: "sink:redeemed", amount: 40 },
      ],
    });
  });

  it("spending more than is available → 422 INSUFFICIENT_POINTS, nothing written", async () => {
    const id = nextCustomer();
    await credit(h, id, 30);
    const movements = await rowCount(h, "movements", id);
    const res = await spendPoints(h, id, { redemptionId: "order-1", kind: "bonus", amount: 31 });
    expect(expectError(res, "INSUFFICIENT_POINTS").details).toEqual({
      kind: "bonus",
      requested: 31,
      available: 30,
    });
    expect(await rowCount(h, "movements", id)).toBe(movements);
  });

  it("points of another kind do not pay for a spend", async () => {
    const id = nextCustomer();
    await credit(h, id, 100, { kind: "savings", source: "savings_interest", funder: "savings_interest" });
    const res = await spendPoints(h, id, { redemptionId: "order-1", kind: "bonus", amount: 10 });
    expectError(res, "INSUFFICIENT_POINTS");
  });

  it("a second spend under the same redemption id → 409 REDEMPTION_ALREADY_EXISTS", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await spend(h, id, "order-1", 10);
    const res = await spendPoints(h, id, { redemptionId: "order-1", kind: "bonus", amount: 10 });
    expectError(res, "REDEMPTION_ALREADY_EXISTS");
    expect((await bonusBalance(h, id)).available).toBe(90);
  });

  it("a spend under the id of an existing hold → 409 REDEMPTION_ALREADY_EXISTS", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 10);
    const res = await spendPoints(h, id, { redemptionId: "order-1", kind: "bonus", amount: 10 });
    expectError(res, "REDEMPTION_ALREADY_EXISTS");
  });

  it("a hold under the id of an earlier direct spend is refused (409), as the reverse is", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await spend(h, id, "order-1", 30);
    const res = await createHold(h, id, { holdId: "order-1", kind: "bonus", amount: 20 });
    expect(res.response.status, JSON.stringify(res.error)).toBe(409);
    expect(["HOLD_ALREADY_EXISTS", "REDEMPTION_ALREADY_EXISTS"]).toContain(res.error?.error.code);
  });

  it("refunds under one id never give back more than was spent under it (no points from nothing)", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await spend(h, id, "order-0", 10);
    await spend(h, id, "order-1", 30);
    expectSuccess(await refund(id, "order-1", 30), 201);
    // 90 left. Whatever the service answers to these (never a 500), the customer may not end up with more.
    const answers = [
      await createHold(h, id, { holdId: "order-1", kind: "bonus", amount: 20 }),
      await settleHold(h, id, "order-1", "capture"),
      await refund(id, "order-1", 30),
    ];
    expect(answers.map((r) => r.response.status)).not.toContain(500);
    const balance = await bonusBalance(h, id);
    expect(balance.available + balance.held).toBeLessThanOrEqual(90);
  });

  it("partial refunds add up; one more than was spent → 422 REFUND_EXCEEDS_REDEEMED", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await spend(h, id, "order-1", 50);
    const first = await refund(id, "order-1", 20);
    expect(expectSuccess(first, 201)).toEqual({
      redemptionId: "order-1",
      kind: "bonus",
      amount: 50,
      refunded: 20,
      graceUntil: null,
    });
    expect(expectSuccess(await refund(id, "order-1", 20), 201).refunded).toBe(40);
    const movements = await rowCount(h, "movements", id);
    const over = await refund(id, "order-1", 11);
    expect(expectError(over, "REFUND_EXCEEDS_REDEEMED").details).toEqual({
      redemptionId: "order-1",
      requested: 11,
      refundable: 10,
    });
    expect(await rowCount(h, "movements", id)).toBe(movements);
    expect((await bonusBalance(h, id)).available).toBe(90);
    expect(expectSuccess(await refund(id, "order-1", 10), 201).refunded).toBe(50);
    expect((await bonusBalance(h, id)).available).toBe(100);
  });

  it("a refund of something never spent → 404 REDEMPTION_NOT_FOUND", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    const res = await refund(id, "order-x", 1);
    expect(expectError(res, "REDEMPTION_NOT_FOUND").details).toEqual({ redemptionId: "order-x" });
  });

  it("a captured hold is refunded under its hold id; an uncaptured one is not a redemption", async () => {
    const id = nextCustomer();
    await credit(h, id, 100);
    await openHold(h, id, "order-1", 30);
    expectError(await refund(id, "order-1", 10), "REDEMPTION_NOT_FOUND");
    expectSuccess(await settleHold(h, id, "order-1", "capture"), 200);
    const res = await refund(id, "order-1", 30);
    expect(expectSuccess(res, 201)).toMatchObject({ amount: 30, refunded: 30, graceUntil: null });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 100, held: 0 });
  });

  it("R15: refunded points keep their lot's expiry; past it they get 30 days of grace", async () => {
    const id = nextCustomer();
    await credit(h, id, 100, { expiresAt: "2026-03-01T00:00:00Z" });
    await spend(h, id, "order-1", 100);
    const start = h.clock.now();
    h.clock.set(new Date("2026-02-10T00:00:00Z"));
    try {
      const early = await refund(id, "order-1", 40);
      expect(expectSuccess(early, 201)).toMatchObject({ refunded: 40, graceUntil: null });
      expect((await bonusBalance(h, id)).expiringSoon).toEqual({
        amount: 40,
        nearestDate: "2026-03-01T00:00:00.000Z",
        withinDays: 30,
      });

      h.clock.set(new Date("2026-03-10T00:00:00Z"));
      const late = await refund(id, "order-1", 60);
      expect(expectSuccess(late, 201)).toMatchObject({
        refunded: 100,
        graceUntil: "2026-04-09T00:00:00.000Z",
      });
      // The 40 refunded early expired on 1 March; the 60 live until 9 April.
      expect(await bonusBalance(h, id)).toMatchObject({
        available: 60,
        expiringSoon: { amount: 60, nearestDate: "2026-04-09T00:00:00.000Z" },
      });
    } finally {
      h.clock.set(start);
    }
  });
});
