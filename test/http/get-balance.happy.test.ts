import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { balance, bonusBalance, credit, customerIds, type Harness, openHold } from "./routes-table.js";

/** R6: available, pending, held and expiring within 30 days (amount and nearest date), per kind. */
describe("GET /v1/customers/{customerId}/balance", () => {
  let h: Harness;
  const nextCustomer = customerIds("bal");
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("a customer with nothing has three kinds of zeros", async () => {
    const id = nextCustomer();
    const zero = {
      available: 0,
      pending: 0,
      held: 0,
      debt: 0,
      expiringSoon: { amount: 0, nearestDate: null, withinDays: 30 },
    };
    expect(await balance(h, id, h.keys.readonly)).toEqual({
      customerId: id,
      asOf: "2026-01-15T09:00:00.000Z",
      kinds: { bonus: zero, savings: zero, referral: zero },
    });
  });

  it("expiringSoon sums available lots expiring within 30 days (inclusive) and names the nearest date", async () => {
    const id = nextCustomer();
    await credit(h, id, 100, { expiresAt: "2026-02-15T09:00:00Z" }); // 31 days: not soon
    await credit(h, id, 25, { expiresAt: "2026-02-04T09:00:00Z" }); // 20 days
    await credit(h, id, 5, { expiresAt: "2026-02-14T09:00:00Z" }); // exactly 30 days
    await credit(h, id, 40, { expiresAt: "2026-01-25T09:00:00Z" }); // 10 days
    // Pending points are not available, so not "expiring" either.
    await credit(h, id, 7, { availableFrom: "2026-01-16T09:00:00Z", expiresAt: "2026-01-30T09:00:00Z" });
    expect(await bonusBalance(h, id)).toEqual({
      available: 170,
      pending: 7,
      held: 0,
      debt: 0,
      expiringSoon: { amount: 70, nearestDate: "2026-01-25T09:00:00.000Z", withinDays: 30 },
    });
  });

  it("as time passes, expired lots leave the balance (R5) and the window moves", async () => {
    const id = nextCustomer();
    await credit(h, id, 40, { expiresAt: "2026-01-25T09:00:00Z" });
    await credit(h, id, 100, { expiresAt: "2026-02-20T09:00:00Z" });
    expect((await bonusBalance(h, id)).expiringSoon.amount).toBe(40);
    h.clock.advanceDays(11);
    try {
      expect(await bonusBalance(h, id)).toMatchObject({
        available: 100,
        expiringSoon: { amount: 100, nearestDate: "2026-02-20T09:00:00.000Z" },
      });
    } finally {
      h.clock.advanceDays(-11);
    }
  });

  it("held points leave available and expiringSoon and show as held; kinds are separate", async () => {
    const id = nextCustomer();
    await credit(h, id, 50, { expiresAt: "2026-01-25T09:00:00Z" });
    await credit(h, id, 9, { kind: "savings", source: "savings_interest", funder: "savings_interest" });
    await openHold(h, id, "order-1", 20);
    const { kinds } = await balance(h, id, await h.customerToken(id));
    expect(kinds.bonus).toMatchObject({ available: 30, held: 20, expiringSoon: { amount: 30 } });
    expect(kinds.savings).toMatchObject({
      available: 9,
      held: 0,
      expiringSoon: { amount: 0, nearestDate: null },
    });
    expect(kinds.referral).toMatchObject({ available: 0 });
  });
});
