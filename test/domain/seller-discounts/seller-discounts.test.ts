import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CartLine } from "../../../src/domain/checkout/cart.js";
import {
  discountedLines,
  NO_STATS,
  quoteSellerDiscounts,
  type SellerDiscount,
  type SellerStats,
  validateSellerDiscount,
} from "../../../src/domain/seller-discounts/index.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../../support/alphabets.js";
import { assertProperty } from "../../support/property.js";

/** R27: sellers' loyalty discounts in a quote. */

const ten: SellerDiscount = {
  discountId: "loyal-100",
  sellerId: "s-1",
  percentBp: 1_000,
  condition: { type: "points_from_seller", atLeast: 100 },
};
const twenty: SellerDiscount = {
  discountId: "month-3",
  sellerId: "s-1",
  percentBp: 2_000,
  condition: { type: "units_this_month", moreThan: 3 },
};
const line = (lineId: string, sellerId: string, unitPriceKop: number, quantity = 1): CartLine => ({
  lineId,
  sku: `sku-${lineId}`,
  sellerId,
  category: "books",
  quantity,
  unitPriceKop,
});

describe("R27 sellers' loyalty discounts", () => {
  it("10% from 100 points earned on the seller's products; 20% for more than 3 of its items this month; the larger applies", () => {
    const cart = [line("1", "s-1", 99_999), line("2", "s-2", 50_000)];
    const quote = (stats: SellerStats) => quoteSellerDiscounts([ten, twenty], () => stats, cart);
    expect(quote({ pointsFromSeller: 99, unitsThisMonth: 3 })[0]).toMatchObject({
      sellerId: "s-1",
      discountKop: 0,
      discounts: [
        { discountId: "loyal-100", qualifies: false, applied: false },
        { discountId: "month-3", qualifies: false, applied: false },
      ],
    });
    // 10% of 999.99 RUB, floored to the kopeck: 99.99.
    expect(quote({ pointsFromSeller: 100, unitsThisMonth: 3 })[0]).toMatchObject({
      discountKop: 9_999,
      lines: [{ lineId: "1", unitDiscountKop: 9_999, discountKop: 9_999 }],
      discounts: [{ applied: true }, { applied: false }],
    });
    expect(quote({ pointsFromSeller: 100, unitsThisMonth: 4 })[0]).toMatchObject({
      discountKop: 19_999,
      discounts: [
        { qualifies: true, applied: false },
        { qualifies: true, applied: true },
      ],
    });
    // Another seller's lines are untouched: it offers nothing.
    expect(quote({ pointsFromSeller: 1_000, unitsThisMonth: 10 }).map((q) => q.sellerId)).toEqual(["s-1"]);
  });

  it("takes the discount off each unit, floored, so discounted unit prices stay whole kopecks", () => {
    // 10% of 9.99 RUB is 99.9 kop: 99 off each unit, 297 off 3 units (not floor(2,997 × 10%) = 299).
    const cart = [line("1", "s-1", 999, 3), line("2", "s-2", 999, 3)];
    const [q] = quoteSellerDiscounts([ten], () => ({ pointsFromSeller: 100, unitsThisMonth: 0 }), cart);
    expect(q?.lines).toEqual([{ lineId: "1", unitDiscountKop: 99, discountKop: 297 }]);
    expect(discountedLines(cart, q ? [q] : []).map((l) => l.unitPriceKop)).toEqual([900, 999]);
  });

  it("refuses a definition out of bounds, naming the field", () => {
    expect(
      validateSellerDiscount({ percentBp: 9_000, condition: { type: "units_this_month", moreThan: 0 } }),
    ).toEqual([]);
    expect(
      validateSellerDiscount({ percentBp: 9_001, condition: { type: "points_from_seller", atLeast: 0 } }).map(
        (p) => p.field,
      ),
    ).toEqual(["percentBp", "condition.atLeast"]);
    expect(
      validateSellerDiscount({ percentBp: 0, condition: { type: "units_this_month", moreThan: -1 } }).map(
        (p) => p.field,
      ),
    ).toEqual(["percentBp", "condition.moreThan"]);
  });

  it("says why in Russian and English", () => {
    const [q] = quoteSellerDiscounts([ten, twenty], () => NO_STATS, [line("1", "s-1", 10_000)]);
    for (const d of q?.discounts ?? []) {
      expect(d.reason.ru).toMatch(CYRILLIC_LETTER);
      expect(d.reason.ru).not.toMatch(LATIN_LETTER);
      expect(d.reason.en).not.toMatch(CYRILLIC_LETTER);
    }
    expect(q?.discounts[1]?.reason.ru).toBe(
      "Скидка 20% при покупке больше 3 товаров продавца в этом месяце: у вас 0",
    );
  });

  it("property: a discount is exact to the kopeck, never more than the line, and the best qualifying one applies", () => {
    assertProperty(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000_000 }), fc.integer({ min: 1, max: 100_000 })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.nat(500),
        (rates, prices, points) => {
          const discounts = rates.map((percentBp, i) => ({
            discountId: `d${i}`,
            sellerId: "s-1",
            percentBp,
            condition: { type: "points_from_seller" as const, atLeast: i * 50 },
          }));
          const cart = prices.map(([price, quantity], i) => line(String(i), "s-1", price, quantity));
          const [q] = quoteSellerDiscounts(
            discounts,
            () => ({ pointsFromSeller: points, unitsThisMonth: 0 }),
            cart,
          );
          const best = Math.max(
            0,
            ...discounts.filter((d) => points >= d.condition.atLeast).map((d) => d.percentBp),
          );
          for (const [i, l] of (q?.lines ?? []).entries()) {
            const price = BigInt(cart[i]?.unitPriceKop ?? 0);
            const quantity = BigInt(cart[i]?.quantity ?? 0);
            expect(BigInt(l.unitDiscountKop)).toBe((price * BigInt(best)) / 10_000n);
            expect(BigInt(l.discountKop)).toBe(quantity * BigInt(l.unitDiscountKop));
            expect(BigInt(l.discountKop)).toBeLessThanOrEqual(price * quantity);
          }
          expect(q?.discounts.filter((d) => d.applied).length).toBe(best > 0 ? 1 : 0);
        },
      ),
    );
  });
});
