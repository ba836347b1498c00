import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOk, ledgerHarness, openLots } from "../support/ledger.js";

describe("ledger worked examples (rules.md)", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h.database.drop();
  });

  it("R3, R5: a lot expires 365 days after it becomes available, as a recorded movement", async () => {
    h.clock.set(new Date("2026-01-15T09:00:00Z"));
    const lot = expectOk(
      await h.service.credit(
        "exp-1",
        { kind: "bonus", amount: 120, source: "purchase", funder: "marketplace" },
        h.request(),
      ),
    );
    expect(lot.expiresAt).toBe("2027-01-15T09:00:00.000Z");
    h.clock.set(new Date("2027-01-15T08:59:59Z"));
    expect((await h.service.balance("exp-1")).kinds.bonus.available).toBe(120);
    h.clock.set(new Date("2027-01-15T09:00:00Z"));
    expect((await h.service.balance("exp-1")).kinds.bonus.available).toBe(0);
    const history = await h.service.history("exp-1", { cursor: null, limit: 10 });
    const expiry = history.items.find((m) => m.type === "expire");
    expect(expiry?.postings).toEqual([
      { account: "wallet:available", amount: -120 },
      { account: "sink:expired", amount: 120 },
    ]);
    expect(expiry?.explanation.ru).toBe("Сгорело 120 баллов: срок действия истёк 15.01.2027");
  });

  it("R4: spending takes the soonest-expiring lot first, then the oldest", async () => {
    h.clock.set(new Date("2026-02-01T00:00:00Z"));
    const late = expectOk(
      await h.service.credit(
        "fifo-1",
        { kind: "bonus", amount: 50, source: "review", funder: "marketplace" },
        h.request(),
      ),
    );
    const soon = expectOk(
      await h.service.credit(
        "fifo-1",
        {
          kind: "bonus",
          amount: 30,
          source: "campaign",
          funder: "campaign:bf",
          expiresAt: new Date("2026-03-01T00:00:00Z"),
        },
        h.request(),
      ),
    );
    const spent = expectOk(
      await h.service.spend("fifo-1", { redemptionId: "o-1", kind: "bonus", amount: 40 }, h.request()),
    );
    expect(spent.amount).toBe(40);
    const lots = await openLots(h.database.db, "fifo-1");
    const remaining = Object.fromEntries(lots.map((l) => [l.lotId, l.remaining]));
    expect(remaining[soon.lotId]).toBeUndefined(); // fully spent, no longer open
    expect(remaining[late.lotId]).toBe(40);
  });

  it("W7 (R13, R14): a clawback finds too few points, reports a shortfall of 100 and nets the debt", async () => {
    h.clock.set(new Date("2026-04-01T10:00:00Z"));
    const accrual = expectOk(
      await h.service.credit(
        "w7",
        {
          kind: "bonus",
          amount: 100,
          source: "purchase",
          funder: "marketplace",
          availableFrom: new Date("2026-04-02T10:00:00Z"),
          reference: "order-book",
        },
        h.request(),
      ),
    );
    expect((await h.service.balance("w7")).kinds.bonus).toMatchObject({ pending: 100, available: 0 });
    h.clock.set(new Date("2026-04-02T10:00:00Z"));
    expect((await h.service.balance("w7")).kinds.bonus).toMatchObject({ pending: 0, available: 100 });
    expectOk(
      await h.service.spend("w7", { redemptionId: "order-2", kind: "bonus", amount: 100 }, h.request()),
    );
    const claw = expectOk(
      await h.service.clawback(
        "w7",
        { kind: "bonus", amount: 100, lotIds: [accrual.lotId], reference: "order-book" },
        h.request(),
      ),
    );
    expect(claw).toEqual({ cancelledPending: 0, clawedBack: 0, shortfall: 100, debtAfter: 100 });
    expectOk(
      await h.service.credit(
        "w7",
        { kind: "bonus", amount: 60, source: "purchase", funder: "marketplace" },
        h.request(),
      ),
    );
    expect((await h.service.balance("w7")).kinds.bonus).toMatchObject({ available: 0, debt: 40 });
  });

  it("W8 (R15): points returned before their lot expires keep its expiry; after, they get 30 days of grace", async () => {
    for (const [customer, returnedOn, expected] of [
      ["w8-feb", "2027-02-10T12:00:00Z", "2027-03-01T00:00:00.000Z"],
      ["w8-mar", "2027-03-10T00:00:00Z", "2027-04-09T00:00:00.000Z"],
    ] as const) {
      h.clock.set(new Date("2027-01-05T00:00:00Z"));
      expectOk(
        await h.service.credit(
          customer,
          {
            kind: "bonus",
            amount: 100,
            source: "purchase",
            funder: "marketplace",
            expiresAt: new Date("2027-03-01T00:00:00Z"),
          },
          h.request(),
        ),
      );
      expectOk(
        await h.service.spend(customer, { redemptionId: "order-1", kind: "bonus", amount: 100 }, h.request()),
      );
      h.clock.set(new Date(returnedOn));
      const refunded = expectOk(
        await h.service.refund(customer, { redemptionId: "order-1", amount: 100 }, h.request()),
      );
      expect(refunded.refunded).toBe(100);
      const open = (await openLots(h.database.db, customer)).filter((l) => l.remaining > 0);
      expect(open.map((l) => [l.remaining, l.expiresAt.toISOString()])).toEqual([[100, expected]]);
    }
  });
});
