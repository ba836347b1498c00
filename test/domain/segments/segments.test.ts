import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Order } from "../../../src/domain/orders/index.js";
import { matchesRule, type SegmentRule, validateSegmentRule } from "../../../src/domain/segments/rule.js";
import {
  addCalendarDays,
  customerStats,
  dayOf,
  type OrderDay,
  orderDayDelta,
} from "../../../src/domain/segments/stats.js";
import { assertProperty } from "../../support/property.js";

/** R29: the customer statistics kept from order events, and the rule language of segments. */

const MOSCOW = "Europe/Moscow";
const NO_FACTS = { premium: false, balancePoints: 0, holdsSavings: false };

function order(
  orderId: string,
  placedAt: Date,
  totalKop: number,
  paymentMethod: Order["paymentMethod"],
  state: Order["state"],
) {
  return {
    orderId,
    placedAt,
    paymentMethod,
    state,
    lines: [
      { lineId: "l1", sku: "s", sellerId: "s-1", category: "books", quantity: 1, unitPriceKop: totalKop },
    ],
  } as unknown as Order;
}

/** The stored rows after these changes, as the additive upsert leaves them. */
function fold(days: OrderDay[]): OrderDay[] {
  const byDay = new Map<string, OrderDay>();
  for (const d of days) {
    const p = byDay.get(d.day);
    byDay.set(d.day, {
      day: d.day,
      orders: (p?.orders ?? 0) + d.orders,
      totalKop: (p?.totalKop ?? 0) + d.totalKop,
      cardOrders: (p?.cardOrders ?? 0) + d.cardOrders,
      savingsOrders: (p?.savingsOrders ?? 0) + d.savingsOrders,
    });
  }
  return [...byDay.values()];
}

describe("R29: customer statistics", () => {
  it("counts days in Moscow: 20:59:59Z is still the 1st, 21:00:00Z is the 2nd", () => {
    expect(dayOf(new Date("2026-03-01T20:59:59Z"), MOSCOW)).toBe("2026-03-01");
    expect(dayOf(new Date("2026-03-01T21:00:00Z"), MOSCOW)).toBe("2026-03-02");
    expect(addCalendarDays("2026-03-01", -1)).toBe("2026-02-28");
  });

  it("windows of 30 and 90 days end today and include it; an order 90 days old no longer counts", () => {
    const today = "2026-06-30";
    const day = (back: number, totalKop: number): OrderDay => ({
      day: addCalendarDays(today, -back),
      orders: 1,
      totalKop,
      cardOrders: back === 50 ? 1 : 0,
      savingsOrders: 0,
    });
    const stats = customerStats(
      [day(0, 100_000), day(29, 200_000), day(30, 300_000), day(89, 401), day(90, 999_999), day(-1, 5)],
      today,
      NO_FACTS,
    );
    // 0 and 29 days back are within 30; 30 and 89 within 90; 90 back and tomorrow are out.
    expect(stats).toMatchObject({
      orders30: 2,
      orders90: 4,
      aov90Kop: Math.floor(600_401 / 4),
      usesCard: false,
    });
    expect(customerStats([day(50, 100)], today, NO_FACTS).usesCard).toBe(true);
    expect(customerStats([], today, { ...NO_FACTS, holdsSavings: true }).usesSavingsAccount).toBe(true);
    expect(customerStats([], today, NO_FACTS).aov90Kop).toBe(0);
  });

  it("property: the days kept from random placements and cancellations equal a recomputation from the orders", () => {
    const eventArb = fc.record({
      order: fc.integer({ min: 0, max: 5 }),
      cancel: fc.boolean(),
      dayOffset: fc.integer({ min: 0, max: 120 }),
      totalKop: fc.integer({ min: 1, max: 10_000_000 }),
      payment: fc.constantFrom("marketplace_card", "other_card", "savings_account" as const),
    });
    assertProperty(
      fc.property(fc.array(eventArb, { maxLength: 40 }), (events) => {
        const orders = new Map<string, Order>();
        const kept: OrderDay[] = [];
        for (const e of events) {
          const id = `o${e.order}`;
          const before = orders.get(id);
          let after: Order;
          if (!before) {
            const placedAt = new Date(Date.UTC(2026, 0, 1) + e.dayOffset * 86_400_000 + 20 * 3_600_000);
            after = order(id, placedAt, e.totalKop, e.payment as Order["paymentMethod"], "placed");
          } else if (e.cancel && before.state !== "cancelled") after = { ...before, state: "cancelled" };
          else continue;
          const delta = orderDayDelta(before, after, MOSCOW);
          if (delta) kept.push(delta);
          orders.set(id, after);
        }
        const live = [...orders.values()].filter((o) => o.state !== "cancelled");
        const today = "2026-05-01";
        const recomputed = customerStats(
          live.map((o) => ({
            day: dayOf(o.placedAt, MOSCOW),
            orders: 1,
            totalKop: o.lines[0]?.unitPriceKop ?? 0,
            cardOrders: o.paymentMethod === "marketplace_card" ? 1 : 0,
            savingsOrders: o.paymentMethod === "savings_account" ? 1 : 0,
          })),
          today,
          NO_FACTS,
        );
        expect(customerStats(fold(kept), today, NO_FACTS)).toEqual(recomputed);
        for (const d of fold(kept)) expect(d.orders).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("R29: segment rules", () => {
  const stats = {
    aov90Kop: 350_000,
    orders30: 2,
    orders90: 5,
    usesCard: false,
    usesSavingsAccount: true,
    premium: false,
    balancePoints: 120,
  };

  it("all / any of comparisons, at the boundaries", () => {
    const loyal: SegmentRule = {
      any: [
        {
          all: [
            { stat: "aov90Kop", op: "gte", value: 350_000 },
            { stat: "orders30", op: "gte", value: 2 },
          ],
        },
        { stat: "usesCard", op: "eq", value: true },
      ],
    };
    expect(matchesRule(loyal, stats)).toBe(true);
    expect(matchesRule(loyal, { ...stats, aov90Kop: 349_999 })).toBe(false);
    expect(matchesRule(loyal, { ...stats, aov90Kop: 1, usesCard: true })).toBe(true);
    expect(matchesRule({ stat: "balancePoints", op: "lt", value: 120 }, stats)).toBe(false);
    expect(matchesRule({ stat: "premium", op: "ne", value: true }, stats)).toBe(true);
  });

  it("bad rules are refused naming the field", () => {
    const fields = (rule: unknown) => validateSegmentRule(rule).map((p) => p.field);
    expect(fields({ all: [{ stat: "lifetimeValue", op: "gt", value: 1 }] })).toEqual(["rule.all[0].stat"]);
    expect(fields({ stat: "usesCard", op: "gt", value: true })).toEqual(["rule.op"]);
    expect(fields({ stat: "orders30", op: "gte", value: -1 })).toEqual(["rule.value"]);
    expect(fields({ stat: "premium", op: "eq", value: 1 })).toEqual(["rule.value"]);
    expect(fields({ any: [] })).toEqual(["rule.any"]);
    expect(
      fields({ all: [{ all: [{ all: [{ all: [{ stat: "orders30", op: "eq", value: 1 }] }] }] }] }),
    ).toEqual(["rule.all[0].all[0].all[0].all"]);
    expect(fields({ stat: "orders30", op: "eq", value: 1, extra: 2 })).toEqual(["rule.extra"]);
    expect(fields("orders30 > 1")).toEqual(["rule"]);
    expect(fields({ stat: "orders30", op: "eq", value: 1 })).toEqual([]);
  });
});
