/**
 * Minimal reproductions of what the model test (model.test.ts) found, one per defect, each stating the
 * intended behaviour. They fail while the defect is there and guard against its return afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedgerInvariants } from "../support/invariants.js";
import { expectOk, ledgerHarness } from "../support/ledger.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.parse("2026-01-15T09:00:00.000Z");

describe("ledger: defects found by the model test", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h?.database.drop();
  });

  const at = (ms: number) => h.clock.set(new Date(ms));
  const bonus = async (customerId: string) => (await h.service.balance(customerId)).kinds.bonus;

  it("R13, R32: a pending lot cancelled in full by a clawback falls due without breaking the customer's ledger", async () => {
    at(T0);
    const c = "finding-empty-pending";
    const lot = expectOk(
      await h.service.credit(
        c,
        {
          kind: "bonus",
          amount: 100,
          source: "purchase",
          funder: "marketplace",
          availableFrom: new Date(T0 + DAY),
        },
        h.request(),
      ),
    );
    expect(
      expectOk(await h.service.clawback(c, { kind: "bonus", amount: 100, lotIds: [lot.lotId] }, h.request())),
    ).toEqual({
      cancelledPending: 100,
      clawedBack: 0,
      shortfall: 0,
      debtAfter: 0,
    });
    at(T0 + 2 * DAY);
    // The lot falls due with 0 points left; making it "available" must not write an empty movement
    // (which the movements check constraint rejects, failing this and every later write of the customer).
    expect(await bonus(c)).toMatchObject({ available: 0, pending: 0 });
    // Settled once, the lot is no longer due: the scheduler must not pick the customer up again and again.
    await h.service.settle(c);
    expect(await h.store.customersWithDueWork(h.clock.now(), 1000)).not.toContain(c);
    expectOk(
      await h.service.credit(
        c,
        { kind: "bonus", amount: 5, source: "purchase", funder: "marketplace" },
        h.request(),
      ),
    );
    expect(await bonus(c)).toMatchObject({ available: 5, pending: 0 });
    expect(await checkLedgerInvariants(h.database.db, c)).toEqual([]);
  });

  it("R20: an order id already spent cannot be held (capturing it would overwrite the spend's redemption)", async () => {
    at(T0);
    const c = "finding-hold-reuses-spend";
    expectOk(
      await h.service.credit(
        c,
        { kind: "bonus", amount: 200, source: "purchase", funder: "marketplace" },
        h.request(),
      ),
    );
    expectOk(await h.service.spend(c, { redemptionId: "order-1", kind: "bonus", amount: 100 }, h.request()));
    expectOk(await h.service.refund(c, { redemptionId: "order-1", amount: 100 }, h.request()));
    const held = await h.service.hold(c, { holdId: "order-1", kind: "bonus", amount: 50 }, h.request());
    expect(held.ok).toBe(false);
    // Whatever the code, the spend's redemption is intact and cannot be refunded a second time.
    const again = await h.service.refund(c, { redemptionId: "order-1", amount: 100 }, h.request());
    expect(again).toMatchObject({ ok: false, code: "REFUND_EXCEEDS_REDEEMED" });
    expect(await bonus(c)).toMatchObject({ available: 200, held: 0 });
    expect(await checkLedgerInvariants(h.database.db, c)).toEqual([]);
  });

  it("R5, R20: a timed-out hold gives its points back at its time-out, however late the ledger catches up", async () => {
    // The same requests for two customers; only one is settled by the scheduler on time.
    const result: Record<string, unknown> = {};
    for (const c of ["finding-timeout-on-time", "finding-timeout-late"]) {
      at(T0);
      expectOk(
        await h.service.credit(
          c,
          {
            kind: "bonus",
            amount: 100,
            source: "purchase",
            funder: "marketplace",
            expiresAt: new Date(T0 + 10 * DAY),
          },
          h.request(),
        ),
      );
      expectOk(await h.service.hold(c, { holdId: "order-1", kind: "bonus", amount: 100 }, h.request()));
      if (c.endsWith("on-time")) {
        at(T0 + DAY); // the hold timed out at T0 + 30 min; the scheduler runs a little later
        await h.service.settle(c);
      }
      // 21 days on, the lot (expired at day 10) is long gone.
      at(T0 + 21 * DAY);
      result[c] = await bonus(c);
      expect(await checkLedgerInvariants(h.database.db, c)).toEqual([]);
    }
    expect(result["finding-timeout-on-time"]).toMatchObject({ available: 0, held: 0 });
    // Released only now, the points come back in a fresh 30-day grace lot instead of expiring on day 10.
    expect(result["finding-timeout-late"]).toEqual(result["finding-timeout-on-time"]);
  });

  it("R13, R14: debt is paid off by lots in the order they became available, however late the ledger catches up", async () => {
    // A debt of 50; lot A (40, expires on day 10) becomes available at +2 h, lot B (40, expires in a
    // year) at +1 h. Paid in that order, B pays 40 and A pays 10, so A's other 30 expire on day 10.
    const balances: unknown[] = [];
    const customers = ["on-time", ...Array.from({ length: 16 }, (_, i) => `late-${i}`)];
    for (const name of customers) {
      const c = `finding-debt-order-${name}`;
      at(T0);
      expectOk(await h.service.clawback(c, { kind: "bonus", amount: 50 }, h.request()));
      for (const [hours, expiresAt] of [
        [2, new Date(T0 + 10 * DAY)],
        [1, undefined],
      ] as const) {
        expectOk(
          await h.service.credit(
            c,
            {
              kind: "bonus",
              amount: 40,
              source: "purchase",
              funder: "marketplace",
              availableFrom: new Date(T0 + hours * HOUR),
              expiresAt,
            },
            h.request(),
          ),
        );
      }
      if (name === "on-time") {
        for (const hours of [1, 2]) {
          at(T0 + hours * HOUR);
          await h.service.settle(c);
        }
      }
      at(T0 + 11 * DAY);
      balances.push((await bonus(c)).available);
      expect(await checkLedgerInvariants(h.database.db, c)).toEqual([]);
    }
    expect(balances).toEqual(customers.map(() => 0));
  });

  it("R13, R14: lots that fall due at the same instant pay off debt in a fixed order, not in load order", async () => {
    // Two lots of 40 fall due together against a debt of 50: one expires on day 10, one in a year.
    // Which one pays is a rule's choice, but the same requests must always give the same result.
    const balances: number[] = [];
    for (let i = 0; i < 16; i++) {
      const c = `finding-debt-tie-${i}`;
      at(T0);
      expectOk(await h.service.clawback(c, { kind: "bonus", amount: 50 }, h.request()));
      for (const expiresAt of [new Date(T0 + 10 * DAY), undefined]) {
        expectOk(
          await h.service.credit(
            c,
            {
              kind: "bonus",
              amount: 40,
              source: "purchase",
              funder: "marketplace",
              availableFrom: new Date(T0 + HOUR),
              expiresAt,
            },
            h.request(),
          ),
        );
      }
      at(T0 + 11 * DAY);
      balances.push((await bonus(c)).available);
      expect(await checkLedgerInvariants(h.database.db, c)).toEqual([]);
    }
    expect(new Set(balances).size).toBe(1);
  });

  it("idempotency: a retried request is answered with the first answer, as it was", async () => {
    at(T0);
    const c = "finding-replay";
    expectOk(
      await h.service.credit(
        c,
        { kind: "bonus", amount: 50, source: "purchase", funder: "marketplace" },
        h.request(),
      ),
    );
    const request = { idempotencyKey: "k", fingerprint: "f", requestId: "req-first", actor: "test" };
    const first = await h.service.spend(c, { redemptionId: "order-1", kind: "bonus", amount: 20 }, request);
    const replay = await h.service.spend(
      c,
      { redemptionId: "order-1", kind: "bonus", amount: 20 },
      {
        ...request,
        requestId: "req-retry",
      },
    );
    expect(first).toEqual({
      ok: true,
      value: { redemptionId: "order-1", kind: "bonus", amount: 20, refunded: 0 },
      replayed: false,
      requestId: "req-first",
    });
    expect(replay).toEqual({ ...first, replayed: true });
  });
});
