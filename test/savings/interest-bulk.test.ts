import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarMonth } from "../../src/domain/savings/index.js";
import type { Harness } from "../http/routes-table.js";
import { expectLedgerConsistent } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";

const MOSCOW = "Europe/Moscow";

/**
 * R25: the monthly run pays most accounts set-based (src/infra/savings-interest-bulk.ts) and the few
 * whose credit depends on more — a savings debt (R14), something due to settle first — through their
 * own work. Both must write the same: the lot, the credit movement, the balance cache and the
 * savings_interest row, whichever path an account took.
 */
describe("R25 the month run, set-based and per customer", () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await httpHarness({ KOPILKA_TIME_ZONE: MOSCOW });
  });
  afterAll(async () => {
    await h.close();
  });

  const post = async (url: string, body: unknown) => {
    const res = await h.send({ method: "POST", url, key: h.keys.operator, body });
    expect(res.statusCode, res.body).toBe(201);
  };
  /** What the run wrote for a customer, without ids and the customer's own id. */
  const written = async (customerId: string) => {
    const db = h.database.db;
    const [lots, movements, balance, interest] = await Promise.all([
      sql`select kind, amount, remaining, source, funder, state, created_at, available_from, expires_at, reference
          from lots where customer_id = ${customerId} and source = 'savings_interest'`.execute(db),
      sql`select kind, type, explanation_code, explanation_params::text as params, accounts, funders, amounts,
                 lot_deltas, reference, actor, occurred_at
          from movements where customer_id = ${customerId} and kind = 'savings'`.execute(db),
      sql`select available, pending, held, debt from balances where customer_id = ${customerId} and kind = 'savings'`.execute(
        db,
      ),
      sql`select month, points, balance_days, days, rate_bp, movement_id is not null as credited, paid_at
          from savings_interest where customer_id = ${customerId}`.execute(db),
    ]);
    return { lots: lots.rows, movements: movements.rows, balance: balance.rows, interest: interest.rows };
  };

  it("property: an account paid set-based gets what the same account paid per customer gets", async () => {
    const month = calendarMonth("2026-04", MOSCOW);
    const span = month.end.getTime() - month.start.getTime();
    const entry = fc.record({
      deposit: fc.boolean(),
      amount: fc.integer({ min: 1, max: 10_000_000 }),
      offsetMs: fc.integer({ min: 0, max: span - 1 }),
    });
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.array(entry, { maxLength: 5 }),
        fc.option(fc.integer({ min: 0, max: 1_800 }), { nil: undefined }),
        async (opening, entries, rateBp) => {
          n += 1;
          const [bulk, alone] = [`bulk-${n}`, `alone-${n}`];
          h.clock.set(new Date("2026-05-01T00:00:00Z"));
          for (const id of [bulk, alone]) {
            if (opening > 0)
              await post(`/v1/customers/${id}/savings/deposits`, {
                id: "opening",
                amount: opening,
                occurredAt: "2026-03-15T10:00:00Z",
              });
            if (rateBp !== undefined) {
              const res = await h.send({
                method: "PUT",
                url: `/v1/customers/${id}/savings/rate`,
                key: h.keys.operator,
                body: { rateBp },
              });
              expect(res.statusCode, res.body).toBe(200);
            }
            let balance = opening;
            // In time order: whether a late withdrawal fits is another test's (savings.http.test.ts).
            const inOrder = [...entries].sort((x, y) => x.offsetMs - y.offsetMs);
            for (const [i, e] of inOrder.entries()) {
              if (!e.deposit && e.amount > balance) continue;
              balance += e.deposit ? e.amount : -e.amount;
              const occurredAt = new Date(month.start.getTime() + e.offsetMs).toISOString();
              await post(`/v1/customers/${id}/savings/${e.deposit ? "deposits" : "withdrawals"}`, {
                id: `e${i}`,
                amount: e.amount,
                occurredAt,
              });
            }
          }
          // `alone` has bonus points falling due as the month is paid: it takes the per-customer path.
          await post(`/v1/customers/${alone}/credits`, {
            kind: "bonus",
            amount: 10,
            source: "campaign",
            funder: "campaign:tests",
            availableFrom: "2026-05-01T00:30:00Z",
          });
          h.clock.set(new Date("2026-05-01T01:00:00Z"));
          await h.kopilka.savings.payAll(month);
          expect(await written(bulk)).toEqual(await written(alone));
          await expectLedgerConsistent(h, bulk);
          await expectLedgerConsistent(h, alone);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("a savings debt is paid off first, through the customer's own work (R14)", async () => {
    const id = "bulk-debt";
    h.clock.set(new Date("2026-06-10T10:00:00Z"));
    await post(`/v1/customers/${id}/savings/deposits`, {
      id: "d",
      amount: 5_000_000,
      occurredAt: "2026-05-20T10:00:00Z",
    });
    // 100 savings points credited, spent, then clawed back: a debt of 100.
    await post(`/v1/customers/${id}/credits`, {
      kind: "savings",
      amount: 100,
      source: "savings_interest",
      funder: "savings_interest",
    });
    await post(`/v1/customers/${id}/spends`, { redemptionId: "s", kind: "savings", amount: 100 });
    await post(`/v1/customers/${id}/clawbacks`, { kind: "savings", amount: 100, reference: "fix" });
    h.clock.set(new Date("2026-07-01T00:00:00Z"));
    await h.kopilka.savings.payAll(calendarMonth("2026-06", MOSCOW));
    const res = await h.send({ method: "GET", url: `/v1/customers/${id}/balance`, key: h.keys.operator });
    expect((res.json() as { kinds: { savings: unknown } }).kinds.savings).toMatchObject({
      available: 400,
      debt: 0,
    });
    await expectLedgerConsistent(h, id);
  });
});
