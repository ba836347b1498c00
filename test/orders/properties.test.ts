import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { checkLedgerInvariants, checkLedgerInvariantsInSql } from "../support/invariants.js";
import { assertAsyncProperty } from "../support/property.js";
import {
  type Api,
  api,
  type Harness,
  KINDS,
  type Kind,
  type KindPoints,
  type Line,
  orderEvents,
  type PaymentMethod,
  totals,
} from "./helpers.js";

/**
 * Properties over the HTTP API (fast-check):
 *  (a) the quote never breaks a cap (R16-R19), never exceeds the balance, leaves ≥ 1 RUB per unit,
 *      and is the best combination;
 *  (b) random order lifecycles keep the ledger invariants, and a full return or a cancellation
 *      leaves the customer's balances exactly as they were before the order.
 * Runs are kept modest: every step is an HTTP request on a real (PGlite or PostgreSQL) database.
 */

const HOUR = 3_600_000;

const categoryArb = fc.constantFrom(
  "electronics",
  "household_appliances",
  "clothing_shoes",
  "groceries",
  "books",
  "toys",
  "constructor",
  "zz_unknown",
);

/** Prices: free lines, 1-RUB items, a few kopecks, ordinary and expensive goods. */
const priceArb = fc.oneof(
  fc.constant(0),
  fc.constant(100),
  fc.integer({ min: 1, max: 99 }),
  fc.integer({ min: 101, max: 2_000 }),
  fc.integer({ min: 2_000, max: 1_000_000 }),
);

const lineArb = (maxQuantity: number) =>
  fc.record({
    category: categoryArb,
    quantity: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: maxQuantity })),
    unitPriceKop: priceArb,
    promoKop: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: undefined }),
  });

function toLines(
  raw: { category: string; quantity: number; unitPriceKop: number; promoKop?: number | undefined }[],
) {
  return raw.map(
    (r, i): Line => ({
      lineId: `l${i}`,
      sku: `sku-${i}`,
      sellerId: "s-9",
      category: r.category,
      quantity: r.quantity,
      unitPriceKop: r.unitPriceKop,
      ...(r.promoKop === undefined ? {} : { originalUnitPriceKop: r.unitPriceKop + r.promoKop }),
    }),
  );
}

const amountArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 100 }),
  fc.integer({ min: 1, max: 20_000 }),
  fc.integer({ min: 1, max: 1_000_000 }),
);
const balancesArb = fc.record({ bonus: amountArb, savings: amountArb, referral: amountArb });

/** R16-R19 with the default configuration, computed here independently of src/. */
function expectedCaps(lines: Line[]) {
  const total = lines.reduce((s, l) => s + l.quantity * l.unitPriceKop, 0);
  const units = lines.reduce((s, l) => s + l.quantity, 0);
  const spendableKop = Math.max(0, total - units * 100);
  const capKop: KindPoints = {
    bonus: Math.floor((total * 5000) / 10_000),
    savings: Math.min(Math.floor((total * 9900) / 10_000), spendableKop),
    referral: Math.floor((total * 2500) / 10_000),
  };
  const cap: KindPoints = {
    bonus: Math.floor(capKop.bonus / 100),
    savings: Math.floor(capKop.savings / 100),
    referral: Math.floor(capKop.referral / 100),
  };
  return { total, units, cap, spendable: Math.floor(spendableKop / 100) };
}

describe("order properties through HTTP", () => {
  let h: Harness;
  let k: Api;
  beforeAll(async () => {
    h = await httpHarness();
    k = api(h);
  });
  afterAll(async () => {
    await h.close();
  });

  it("(a) the quote never breaks a cap, never exceeds the balance, leaves ≥ 1 RUB per unit, and pays the most", async () => {
    let run = 0;
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(lineArb(1000), { minLength: 1, maxLength: 6 }),
        balancesArb,
        fc.constantFrom<PaymentMethod>("marketplace_card", "other_card", "other"),
        async (raw, balances, paymentMethod) => {
          run += 1;
          const customerId = `qa-${run}`;
          const lines = toLines(raw);
          await k.creditAll(customerId, balances);
          const quote = await k.quote(customerId, lines, paymentMethod);
          const { total, units, cap, spendable } = expectedCaps(lines);
          const c = quote.combination;
          expect(quote.available).toEqual(balances);
          expect(quote.caps.capPoints).toEqual(cap);
          for (const kind of KINDS) {
            // The balance and the kind's own cap (R16, R17, R18).
            expect(c[kind]).toBeGreaterThanOrEqual(0);
            expect(c[kind]).toBeLessThanOrEqual(balances[kind]);
            expect(c[kind]).toBeLessThanOrEqual(cap[kind]);
            // R19: kinds whose cap is no larger than this kind's never exceed it together.
            const nested = KINDS.filter((other) => cap[other] <= cap[kind]).reduce((s, o) => s + c[o], 0);
            expect(nested).toBeLessThanOrEqual(cap[kind]);
            expect(quote.maxPerKind[kind]).toBe(Math.min(balances[kind], cap[kind], spendable));
          }
          const points = c.bonus + c.savings + c.referral;
          expect(quote.total).toBe(points);
          // R17, R19: every unit keeps at least 1 RUB of money.
          expect(points * 100).toBeLessThanOrEqual(Math.max(0, total - units * 100));
          expect(quote.moneyToPayKop).toBe(total - points * 100);
          if (points > 0) expect(quote.moneyToPayKop).toBeGreaterThanOrEqual(units * 100);
          // R19: the best combination — nested caps from the strictest to the loosest.
          const order = [...KINDS].sort((a, b) => cap[a] - cap[b]);
          let best = 0;
          for (const kind of order) best = Math.min(spendable, cap[kind], best + balances[kind]);
          expect(points).toBe(best);
          // R21: the split over the lines adds up and never pays more than a line costs.
          for (const kind of KINDS) {
            expect(quote.lines.reduce((s, l) => s + l.spend[kind], 0)).toBe(c[kind]);
          }
          quote.lines.forEach((l, i) => {
            const amount = (lines[i]?.quantity ?? 0) * (lines[i]?.unitPriceKop ?? 0);
            expect((l.spend.bonus + l.spend.savings + l.spend.referral) * 100).toBeLessThanOrEqual(amount);
            expect(l.accrualKop).toBeGreaterThanOrEqual(0);
          });
        },
      ),
      {
        numRuns: 100,
        // A loaded machine may not finish all 100 cases in time; fewer than half has not shown the property.
        minRuns: 50,
        interruptAfterTimeLimit: 30_000,
        markInterruptAsFailure: false,
      },
    );
  }, 180_000);

  it("(b) random lifecycles keep the ledger invariants; a full return or a cancellation restores every balance", async () => {
    let run = 0;
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(lineArb(6), { minLength: 1, maxLength: 4 }),
        fc.record({
          bonus: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
          savings: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
          referral: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
        }),
        fc.gen(),
        async (raw, balances, g) => {
          run += 1;
          const customerId = `lc-${run}`;
          const orderId = `o-${run}`;
          const lines = toLines(raw);
          await k.creditAll(customerId, balances);
          const before = totals(await k.balance(customerId));
          const quote = await k.quote(customerId, lines);
          // A random valid spend: a share of the best combination (caps are nested, so any less fits).
          const spend: KindPoints = { bonus: 0, savings: 0, referral: 0 };
          for (const kind of KINDS) {
            spend[kind] = Math.floor((quote.combination[kind] * g(fc.integer, { min: 0, max: 4 })) / 4);
          }
          const e = orderEvents(customerId, orderId, () => h.clock.now());
          const placed = await k.apply(
            e.placed(
              lines,
              spend,
              g(fc.constantFrom<PaymentMethod[]>, "marketplace_card", "other_card", "other"),
            ),
          );
          expect(placed.effect?.points).toEqual(spend);
          const held = await k.balance(customerId);
          for (const kind of KINDS) {
            expect(held[kind].held).toBe(spend[kind]);
            expect(held[kind].available).toBe(before[kind].available - spend[kind]);
          }

          const ending = g(fc.constantFrom<string[]>, "cancel-placed", "cancel-paid", "return");
          const shortfalls: number[] = [];
          let expectedState = "cancelled";
          if (ending === "cancel-placed") {
            await k.apply(e.cancelled());
          } else {
            await k.apply(e.paid());
            if (ending === "cancel-paid") {
              await k.apply(e.cancelled());
            } else {
              const returned = lines.map(() => 0);
              /** Returns some of `room` (units per line), or all of it; at least one unit. */
              const returnSome = async (room: number[], all: boolean) => {
                const take: number[] = all
                  ? [...room]
                  : room.map((n) => (n > 0 ? g(fc.integer, { min: 0, max: n }) : 0));
                if (!take.some((n) => n > 0)) take[room.findIndex((n) => n > 0)] = 1;
                const result = await k.apply(
                  e.returned(
                    lines.flatMap((l, i) =>
                      (take[i] ?? 0) > 0 ? [{ lineId: l.lineId, quantity: take[i] ?? 0 }] : [],
                    ),
                  ),
                );
                shortfalls.push(result.effect?.shortfall ?? -1);
                take.forEach((n, i) => {
                  returned[i] = (returned[i] ?? 0) + n;
                });
              };
              // Shipped in one or two parts; sometimes units of the first part come back before the second.
              const first = lines.map((l) =>
                g(fc.boolean) ? g(fc.integer, { min: 0, max: l.quantity }) : 0,
              );
              if (first.some((n) => n > 0) && first.some((n, i) => n < (lines[i]?.quantity ?? 0))) {
                await k.apply(
                  e.shipped(
                    lines.flatMap((l, i) =>
                      (first[i] ?? 0) > 0 ? [{ lineId: l.lineId, quantity: first[i] }] : [],
                    ),
                  ),
                );
                h.clock.set(
                  new Date(h.clock.now().getTime() + g(fc.constantFrom<number[]>, 0, 3, 25) * HOUR),
                );
                if (g(fc.integer, { min: 0, max: 3 }) === 0) await returnSome(first, false);
              }
              await k.apply(e.shipped());
              expectedState = "shipped";
              if (g(fc.boolean)) {
                await k.apply(e.delivered());
                expectedState = "delivered";
              }
              h.clock.set(new Date(h.clock.now().getTime() + g(fc.constantFrom<number[]>, 0, 5, 25) * HOUR));
              // Then returned in one to three steps, partly or in full.
              const steps = g(fc.integer, { min: 1, max: 3 });
              const full = g(fc.boolean);
              for (let step = 1; step <= steps; step++) {
                const left = lines.map((l, i) => l.quantity - (returned[i] ?? 0));
                if (left.every((n) => n === 0)) break;
                await returnSome(left, step === steps && full);
              }
              if (lines.every((l, i) => returned[i] === l.quantity)) expectedState = "returned";
            }
          }

          // The customer never spent the order's points elsewhere: nothing can be short (R14).
          expect(shortfalls.every((s) => s === 0)).toBe(true);
          expect(await checkLedgerInvariants(h.database.db, customerId)).toEqual([]);

          const view = await k.order(customerId, orderId);
          expect(view.state).toBe(expectedState);
          expect(view.shortfall).toBe(0);
          for (const l of view.lines) {
            for (const kind of KINDS) {
              // R15: spent points come back per returned unit, the cumulative share rounded down.
              // A cancelled unpaid order never spent its points: they were released, not refunded (R20).
              const back =
                ending === "cancel-placed"
                  ? 0
                  : ending === "cancel-paid"
                    ? l.spent[kind]
                    : Math.floor((l.spent[kind] * l.returnedQuantity) / l.quantity);
              expect(l.refunded[kind]).toBe(back);
            }
            if (expectedState !== "cancelled") {
              // R13: every unit shipped; returned units lose their share of the line's accrual.
              expect(l.earnedKop).toBe(l.accrualKop);
              expect(l.clawedBackKop).toBe(Math.floor((l.accrualKop * l.returnedQuantity) / l.quantity));
            }
          }
          const netKop = view.lines.reduce((s, l) => s + l.earnedKop - l.clawedBackKop, 0);
          expect(view.accrualPoints).toBe(Math.floor(netKop / 100));

          // After the pending delay, every balance is what the order's net effect says.
          h.clock.set(new Date(h.clock.now().getTime() + 25 * HOUR));
          const after = totals(await k.balance(customerId));
          const givenBack = (kind: Kind) =>
            ending === "cancel-placed" ? spend[kind] : view.lines.reduce((s, l) => s + l.refunded[kind], 0);
          for (const kind of KINDS) {
            const accrued = kind === "bonus" ? view.accrualPoints : 0;
            expect(after[kind]).toEqual({
              available: before[kind].available - spend[kind] + givenBack(kind) + accrued,
              pending: 0,
              held: 0,
              debt: 0,
            });
          }
          if (expectedState === "cancelled" || expectedState === "returned") expect(after).toEqual(before);
          expect(await checkLedgerInvariants(h.database.db, customerId)).toEqual([]);
        },
      ),
      {
        numRuns: 40,
        // As in (a): the time limit may cut the run short, but not below half of it.
        minRuns: 20,
        interruptAfterTimeLimit: 40_000,
        markInterruptAsFailure: false,
      },
    );
    // And the whole database, checked by the SQL implementation of the same invariants.
    expect(await checkLedgerInvariantsInSql(h.database.db)).toEqual([]);
  }, 180_000);
});
