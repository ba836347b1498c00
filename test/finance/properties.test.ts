import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { monthContaining } from "../../src/domain/savings/index.js";
import { httpHarness } from "../support/http.js";
import { checkLedgerInvariants } from "../support/invariants.js";
import { assertAsyncProperty } from "../support/property.js";
import { balanceTotals, financeApi, type Harness, type Kind } from "./helpers.js";

/**
 * After random ledger operations through the API — credits of every funder, pending or not, with
 * their own expiry; spends, holds captured or released, refunds, clawbacks, adjustments both ways,
 * and time passing so that lots become available and expire — the liability's totals are the balance
 * cache's, the breakage is what the postings to sink:expired say, and the reconciliation is clean, as
 * the rows' own check is.
 */

const START = new Date("2026-01-15T09:00:00.000Z");
const HOUR = 3_600_000;
/** The clock stops here: every month of a run stays within one report's 120. */
const LAST = new Date(START.getTime() + 5 * 365 * 24 * HOUR);

const ORIGINS: Record<Kind, { source: string; funder: string }[]> = {
  bonus: [
    { source: "purchase", funder: "marketplace" },
    { source: "seller", funder: "seller:p-a" },
    { source: "seller", funder: "seller:p-b" },
    { source: "campaign", funder: "campaign:p-c" },
  ],
  savings: [
    { source: "savings_interest", funder: "savings_interest" },
    { source: "savings_cashback", funder: "savings_cashback" },
  ],
  referral: [{ source: "manager_programme", funder: "manager_programme" }],
};

const customer = fc.nat(1);
const kind = fc.constantFrom<Kind>("bonus", "bonus", "bonus", "savings", "referral");
const amount = fc.integer({ min: 1, max: 80 });
const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("credit" as const),
      customer,
      kind,
      origin: fc.nat(3),
      amount: fc.integer({ min: 1, max: 300 }),
      pendingHours: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 72 })),
      expiresInDays: fc.option(fc.integer({ min: 4, max: 400 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("spend" as const), customer, kind, amount }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("hold" as const), customer, kind, amount }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom("capture" as const, "release" as const), customer }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("refund" as const), customer, amount }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("clawback" as const),
      customer,
      kind,
      amount,
      ofLastLot: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("adjust" as const),
      customer,
      kind,
      amount: fc.integer({ min: -100, max: 150 }).filter((n) => n !== 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      hours: fc.oneof(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 24 * 20, max: 24 * 200 })),
    }),
  },
);

describe("finance over random ledgers (fast-check)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("the liability totals the balances, the breakage the expired postings, and verify is clean", async () => {
    const f = financeApi(h);
    let run = 0;
    let latest = START;
    await assertAsyncProperty(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40 }), async (ops) => {
        run += 1;
        h.clock.set(START);
        let made = 0;
        const last = new Map<string, { hold?: string; redemption?: string; lot?: string }>();
        const at = (c: number) => `fp-${run}-${c}`;
        const send = async (url: string, body?: unknown) => {
          const res = await h.send({ method: "POST", url, key: h.keys.operator, body });
          // Refusals (too few points, a hold no longer active) are fine; a failure of ours is not.
          expect(res.statusCode, `${url}: ${res.body}`).toBeLessThan(500);
          return res.statusCode < 300 ? res.json() : undefined;
        };
        for (const o of ops) {
          const id = "customer" in o ? at(o.customer) : "";
          const mine = last.get(id) ?? {};
          last.set(id, mine);
          const next = (prefix: string) => {
            made += 1;
            return `${prefix}-${made}`;
          };
          switch (o.op) {
            case "credit": {
              const origin = ORIGINS[o.kind][o.origin % ORIGINS[o.kind].length];
              const now = h.clock.now().getTime();
              const availableFrom = new Date(now + o.pendingHours * HOUR);
              const lot = await f.credit(id, {
                kind: o.kind,
                amount: o.amount,
                ...(origin ?? { source: "purchase", funder: "marketplace" }),
                ...(o.pendingHours > 0 ? { availableFrom: availableFrom.toISOString() } : {}),
                ...(o.expiresInDays === undefined
                  ? {}
                  : {
                      expiresAt: new Date(
                        availableFrom.getTime() + o.expiresInDays * 24 * HOUR,
                      ).toISOString(),
                    }),
              });
              mine.lot = lot.lotId;
              break;
            }
            case "spend": {
              const redemptionId = next("spend");
              if (await send(`/v1/customers/${id}/spends`, { redemptionId, kind: o.kind, amount: o.amount }))
                mine.redemption = redemptionId;
              break;
            }
            case "hold": {
              const holdId = next("hold");
              if (await send(`/v1/customers/${id}/holds`, { holdId, kind: o.kind, amount: o.amount })) {
                mine.hold = holdId;
              }
              break;
            }
            case "capture":
            case "release":
              if (mine.hold) {
                const done = await send(`/v1/customers/${id}/holds/${mine.hold}/${o.op}`);
                if (done && o.op === "capture") mine.redemption = mine.hold;
              }
              break;
            case "refund":
              if (mine.redemption) {
                await send(`/v1/customers/${id}/refunds`, {
                  redemptionId: mine.redemption,
                  amount: o.amount,
                });
              }
              break;
            case "clawback":
              await send(`/v1/customers/${id}/clawbacks`, {
                kind: o.kind,
                amount: o.amount,
                ...(o.ofLastLot && mine.lot ? { lotId: mine.lot } : {}),
              });
              break;
            case "adjust":
              await send(`/v1/customers/${id}/adjustments`, {
                kind: o.kind,
                amount: o.amount,
                reason: "property",
              });
              break;
            case "advance":
              h.clock.set(new Date(Math.min(LAST.getTime(), h.clock.now().getTime() + o.hours * HOUR)));
              if (h.clock.now() > latest) latest = h.clock.now();
              break;
          }
        }
        // One customer brought up to date (what became due is written off), the other left as it is.
        await f.settle(at(0));

        const liability = await f.report("/v1/finance/liability");
        expect(liability.totals).toEqual(await balanceTotals(h));

        const from = monthContaining(START, "Europe/Moscow").month;
        const to = monthContaining(latest, "Europe/Moscow").month;
        const breakage = await f.report(`/v1/finance/breakage?from=${from}&to=${to}`);
        const expired = await sql<{ kind: Kind; points: number }>`
          select m.kind, sum(x.amount)::int as points
          from movements_readable as m, unnest(m.accounts, m.amounts) as x(account, amount)
          where x.account = 'sink:expired' group by m.kind`.execute(h.database.db);
        const expiredByKind = { bonus: 0, savings: 0, referral: 0 };
        for (const r of expired.rows) expiredByKind[r.kind] = r.points;
        expect(breakage.totals).toEqual(expiredByKind);

        const verify = await f.report("/v1/finance/verify");
        expect(verify.violations).toEqual([]);
        expect(verify).toMatchObject({ ok: true, postings: { total: 0 } });
        expect(await checkLedgerInvariants(h.database.db)).toEqual([]);
      }),
      { numRuns: 20 },
    );
  }, 240_000);
});
