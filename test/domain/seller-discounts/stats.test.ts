import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Order, OrderLine } from "../../../src/domain/orders/index.js";
import { monthContaining } from "../../../src/domain/savings/index.js";
import {
  addSellerStats,
  combineSellerStatsDeltas,
  type SellerStatsCounts,
  sellerStatsDeltas,
  sellerStatsIn,
} from "../../../src/domain/seller-discounts/stats.js";
import { assertProperty } from "../../support/property.js";

/** R27: the per-(customer, seller) statistics the loyalty discounts read, kept from order changes. */

const MOSCOW = "Europe/Moscow";

function orderLine(lineId: string, sellerId: string, quantity: number): OrderLine {
  return {
    lineId,
    sku: `sku-${lineId}`,
    sellerId,
    category: "books",
    quantity,
    unitPriceKop: 10_000,
    spent: { bonus: 0, savings: 0, referral: 0 },
    accrualKop: 0,
    accrualBaseKop: 0,
    accrualRateBp: 0,
    accrualCardBp: 0,
    shippedQuantity: 0,
    returnedQuantity: 0,
    accrualLotIds: [],
    sellerLotIds: [],
    refunded: { bonus: 0, savings: 0, referral: 0 },
    earnedKop: 0,
    removedKop: 0,
    sellerPointsEarned: 0,
    sellerPointsRemoved: 0,
  };
}

function order(orderId: string, placedAt: Date, lines: OrderLine[]): Order {
  return {
    customerId: "c-1",
    orderId,
    state: "placed",
    paymentMethod: "other_card",
    configVersion: 1,
    placedAt,
    spend: { bonus: 0, savings: 0, referral: 0 },
    lines,
    lastSequence: 0,
    accrualPoints: 0,
    shortfall: 0,
    updatedAt: placedAt,
  };
}

/** Ships (positive) or returns (negative) units of one line: accrual kopecks and seller points with them. */
function move(
  o: Order,
  lineIndex: number,
  units: number,
  kopPerUnit: number,
  sellerPointsPerUnit: number,
): Order {
  const lines = o.lines.map((l, i) => {
    if (i !== lineIndex) return l;
    return units > 0
      ? {
          ...l,
          shippedQuantity: l.shippedQuantity + units,
          earnedKop: l.earnedKop + units * kopPerUnit,
          sellerPointsEarned: l.sellerPointsEarned + units * sellerPointsPerUnit,
        }
      : {
          ...l,
          returnedQuantity: l.returnedQuantity - units,
          removedKop: l.removedKop - units * kopPerUnit,
          sellerPointsRemoved: l.sellerPointsRemoved - units * sellerPointsPerUnit,
        };
  });
  return { ...o, lines, state: units > 0 ? "shipped" : "returned" };
}

/** The stored row after the changes, as the SQL applies them (addSellerStats per write). */
function stored(rows: Map<string, SellerStatsCounts>, changes: ReturnType<typeof sellerStatsDeltas>) {
  for (const d of combineSellerStatsDeltas(changes)) {
    const prior = rows.get(d.sellerId);
    rows.set(d.sellerId, prior ? addSellerStats(prior, d) : d);
  }
}

describe("R27 statistics with a seller", () => {
  it("counts points (accrual kopecks and R11 seller points) and units at shipment, less returns", () => {
    const placed = order("o-1", new Date("2026-03-10T09:00:00Z"), [
      orderLine("1", "s-1", 5),
      orderLine("2", "s-2", 1),
    ]);
    const shipped = move(placed, 0, 5, 150, 2);
    expect(sellerStatsDeltas(placed, shipped, MOSCOW)).toEqual([
      { sellerId: "s-1", pointsKop: 5 * 150 + 5 * 2 * 100, month: "2026-03", units: 5 },
    ]);
    const returned = move(shipped, 0, -2, 150, 2);
    expect(sellerStatsDeltas(shipped, returned, MOSCOW)).toEqual([
      { sellerId: "s-1", pointsKop: -(2 * 150 + 2 * 2 * 100), month: "2026-03", units: -2 },
    ]);
    // Placed, then cancelled: nothing shipped, nothing counted.
    expect(sellerStatsDeltas(undefined, placed, MOSCOW)).toEqual([]);
    expect(sellerStatsDeltas(placed, { ...placed, state: "cancelled" }, MOSCOW)).toEqual([]);
  });

  it("puts units in the month the order was placed in, on Moscow's calendar", () => {
    // 2026-01-31T21:30Z is 00:30 on 1 February in Moscow.
    const placed = order("o-1", new Date("2026-01-31T21:30:00Z"), [orderLine("1", "s-1", 4)]);
    const [delta] = sellerStatsDeltas(placed, move(placed, 0, 4, 0, 0), MOSCOW);
    expect(delta?.month).toBe("2026-02");
    expect(sellerStatsIn(delta, "2026-02")).toEqual({ pointsFromSeller: 0, unitsThisMonth: 4 });
    expect(sellerStatsIn(delta, "2026-03")).toEqual({ pointsFromSeller: 0, unitsThisMonth: 0 });
  });

  it("a later month starts the units over; a change of an earlier month no longer counts; points always add", () => {
    const feb = { pointsKop: 100, month: "2026-02", units: 4 };
    expect(addSellerStats(feb, { pointsKop: 50, month: "2026-03", units: 1 })).toEqual({
      pointsKop: 150,
      month: "2026-03",
      units: 1,
    });
    expect(addSellerStats(feb, { pointsKop: -30, month: "2026-01", units: -2 })).toEqual({
      pointsKop: 70,
      month: "2026-02",
      units: 4,
    });
    expect(addSellerStats(feb, { pointsKop: 0, month: "2026-02", units: -1 })).toEqual({
      pointsKop: 100,
      month: "2026-02",
      units: 3,
    });
    // Whole points are floored from the kopecks.
    expect(sellerStatsIn({ pointsKop: 9_999, month: "2026-02", units: 0 }, "2026-02").pointsFromSeller).toBe(
      99,
    );
  });

  it("property: after any sequence of shipments and returns, the stats equal a recomputation from the orders", () => {
    const start = Date.UTC(2026, 0, 25);
    const step = fc.record({
      order: fc.nat(3),
      line: fc.nat(2),
      units: fc.integer({ min: -3, max: 3 }),
    });
    assertProperty(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 70 * 86_400 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.constantFrom("s-1", "s-2"), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 3, maxLength: 3 }),
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (offsets, sellers, kops, steps, perTransaction) => {
          let orders = offsets.map((s, i) =>
            order(
              `o-${i}`,
              new Date(start + s * 1000),
              sellers.map((seller, j) => orderLine(String(j), seller, 5)),
            ),
          );
          const rows = new Map<string, SellerStatsCounts>();
          let pending: ReturnType<typeof sellerStatsDeltas> = [];
          steps.forEach((s, n) => {
            const before = orders[s.order] as Order;
            const line = before.lines[s.line] as OrderLine;
            // Only what the lifecycle allows: ship what is not shipped yet, return what is kept.
            const units =
              s.units > 0
                ? Math.min(s.units, line.quantity - line.shippedQuantity)
                : -Math.min(-s.units, line.shippedQuantity - line.returnedQuantity);
            if (units === 0) return;
            const after = move(before, s.line, units, kops[s.line] ?? 0, s.line);
            orders = orders.map((o, i) => (i === s.order ? after : o));
            pending.push(...sellerStatsDeltas(before, after, MOSCOW));
            // Several works share a transaction: their changes are folded before they are written.
            if ((n + 1) % perTransaction === 0) {
              stored(rows, pending);
              pending = [];
            }
          });
          stored(rows, pending);
          const latest = orders
            .map((o) => monthContaining(o.placedAt, MOSCOW).month)
            .sort()
            .at(-1) as string;
          for (const seller of ["s-1", "s-2"]) {
            const lines = orders.flatMap((o) =>
              o.lines.filter((l) => l.sellerId === seller).map((l) => ({ o, l })),
            );
            const pointsKop = lines.reduce(
              (sum, { l }) =>
                sum + l.earnedKop - l.removedKop + (l.sellerPointsEarned - l.sellerPointsRemoved) * 100,
              0,
            );
            const units = lines
              .filter(({ o }) => monthContaining(o.placedAt, MOSCOW).month === latest)
              .reduce((sum, { l }) => sum + l.shippedQuantity - l.returnedQuantity, 0);
            expect(rows.get(seller)?.pointsKop ?? 0).toBe(pointsKop);
            expect(sellerStatsIn(rows.get(seller), latest).unitsThisMonth).toBe(units);
          }
        },
      ),
    );
  });
});
