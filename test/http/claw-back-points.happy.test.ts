import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  bonusBalance,
  credit,
  customerIds,
  expectError,
  expectSuccess,
  fullHistory,
  type Harness,
  type RequestBody,
  spend,
} from "./routes-table.js";

/** R13, R14: a returned purchase loses its accrual; what is missing is a shortfall, then a debt. */
describe("POST /v1/customers/{customerId}/clawbacks", () => {
  let h: Harness;
  const nextCustomer = customerIds("claw");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const clawback = (customerId: string, body: RequestBody<"clawBackPoints">) =>
    h.client(h.keys.operator).POST("/v1/customers/{customerId}/clawbacks", {
      params: { path: { customerId }, header: h.idempotencyKeyHeader() },
      body,
    });

  it("W7: 100 pending, available a day later, all spent, the book returned → shortfall 100; the next 60 leave a debt of 40", async () => {
    const id = nextCustomer();
    const lot = await credit(h, id, 100, { availableFrom: "2026-01-16T09:00:00Z", reference: "order-book" });
    expect(lot.state).toBe("pending");
    expect(await bonusBalance(h, id)).toMatchObject({ available: 0, pending: 100 });
    h.clock.advanceDays(1);
    try {
      expect(await bonusBalance(h, id)).toMatchObject({ available: 100, pending: 0 });
      await spend(h, id, "order-2", 100);

      const res = await clawback(id, {
        kind: "bonus",
        amount: 100,
        lotId: lot.lotId,
        reference: "return-book",
      });
      expect(expectSuccess(res, 201)).toEqual({
        cancelledPending: 0,
        clawedBack: 0,
        shortfall: 100,
        debtAfter: 100,
      });
      expect(await bonusBalance(h, id)).toMatchObject({ available: 0, debt: 100 });
      const [moved] = await fullHistory(h, id);
      expect(moved).toMatchObject({ type: "clawback", reference: "return-book", change: { debt: 100 } });

      await credit(h, id, 60);
      expect(await bonusBalance(h, id)).toMatchObject({ available: 0, debt: 40 });
    } finally {
      h.clock.advanceDays(-1);
    }
  });

  it("a still-pending accrual is cancelled, not clawed back", async () => {
    const id = nextCustomer();
    const lot = await credit(h, id, 100, { availableFrom: "2026-01-16T09:00:00Z" });
    const res = await clawback(id, { kind: "bonus", amount: 100, lotId: lot.lotId });
    expect(expectSuccess(res, 201)).toEqual({
      cancelledPending: 100,
      clawedBack: 0,
      shortfall: 0,
      debtAfter: 0,
    });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 0, pending: 0, debt: 0 });
  });

  it("available points are taken back; what is missing is the shortfall and the debt", async () => {
    const id = nextCustomer();
    await credit(h, id, 30);
    const res = await clawback(id, { kind: "bonus", amount: 50 });
    expect(expectSuccess(res, 201)).toEqual({
      cancelledPending: 0,
      clawedBack: 30,
      shortfall: 20,
      debtAfter: 20,
    });
    const again = await clawback(id, { kind: "bonus", amount: 5 });
    expect(expectSuccess(again, 201)).toEqual({
      cancelledPending: 0,
      clawedBack: 0,
      shortfall: 5,
      debtAfter: 25,
    });
    expect(await bonusBalance(h, id)).toMatchObject({ available: 0, debt: 25 });
  });

  it("an unknown lot, or a lot of another kind → 404 LOT_NOT_FOUND", async () => {
    const id = nextCustomer();
    const lot = await credit(h, id, 30);
    expect(
      expectError(await clawback(id, { kind: "bonus", amount: 5, lotId: "lot_nope" }), "LOT_NOT_FOUND")
        .details,
    ).toEqual({
      lotId: "lot_nope",
    });
    expectError(await clawback(id, { kind: "savings", amount: 5, lotId: lot.lotId }), "LOT_NOT_FOUND");
    expect((await bonusBalance(h, id)).available).toBe(30);
  });
});
