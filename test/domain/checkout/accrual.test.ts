import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateSpend,
  computeAccrual,
  DEFAULT_EARNING_CONFIG as config,
  type PaymentMethod,
  quoteSpend,
  rateForCategory,
} from "../../../src/domain/checkout/index.js";
import { assertProperty } from "../../support/property.js";
import { balancesArb, cartArb, configArb, isSafeCount, line } from "./fixtures.js";

const paymentArb = fc.constantFrom<PaymentMethod>("marketplace_card", "other_card", "other");

describe("computeAccrual (R7-R12)", () => {
  it("floors each line's exact accrual once and the order's sum to whole points", () => {
    const anyCart = cartArb({ maxLines: 15, maxQuantity: 5_000, maxPriceKop: 10_000_000 });
    assertProperty(
      fc.property(
        anyCart,
        configArb,
        balancesArb(50_000_000),
        paymentArb,
        (lines, caps, held, paymentMethod) => {
          const spend = quoteSpend({ lines, config: caps, balances: held }).combination;
          const allocation = allocateSpend(lines, spend);
          const accrual = computeAccrual({ orderId: "o", lines, paymentMethod, config, allocation });
          accrual.lines.forEach((result, index) => {
            const l = lines[index] ?? line({ unitPriceKop: 0 });
            const amount = BigInt(l.quantity * l.unitPriceKop);
            const money = amount - BigInt((allocation[index]?.total ?? 0) * 100);
            const original = BigInt(l.quantity * (l.originalUnitPriceKop ?? l.unitPriceKop));
            const card =
              paymentMethod === "marketplace_card" ? rateForCategory(config.cardBonusBp, l.category) : 0;
            const bp = BigInt(rateForCategory(config.baseRateBp, l.category) + card);
            // accrual = floor(original × money/amount × bp/10000): a ≤ exact < a + 1, cross-multiplied.
            const numerator = original * money * bp;
            const denominator = amount * 10_000n;
            const got = BigInt(result.accrualKop);
            if (amount === 0n) expect(got).toBe(0n);
            else {
              expect(got * denominator <= numerator).toBe(true);
              expect(numerator < (got + 1n) * denominator).toBe(true);
            }
            expect(isSafeCount(result.baseKop)).toBe(true);
          });
          const sum = accrual.lines.reduce((s, l) => s + l.accrualKop, 0);
          expect(accrual.accrualKop).toBe(sum);
          expect(accrual.points * 100).toBeLessThanOrEqual(sum);
          expect(sum).toBeLessThan((accrual.points + 1) * 100);
          expect(isSafeCount(accrual.points) && isSafeCount(accrual.sellerPoints)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("R8: the card bonus applies only to the marketplace card", () => {
    const lines = [line({ category: "groceries", unitPriceKop: 100_000 })];
    const byMethod = (paymentMethod: PaymentMethod) =>
      computeAccrual({ orderId: "1", lines, paymentMethod, config }).lines[0];
    expect(byMethod("marketplace_card")).toMatchObject({ rateBp: 500, cardBp: 200, accrualKop: 7_000 });
    expect(byMethod("other_card")).toMatchObject({ rateBp: 500, cardBp: 0, accrualKop: 5_000 });
    expect(byMethod("other")).toMatchObject({ rateBp: 500, cardBp: 0, accrualKop: 5_000 });
  });

  it("R7: an unknown category earns the default 1%; it reads «Прочие товары» in Russian, its code in English", () => {
    const lines = [line({ category: "toys", unitPriceKop: 250_050 })];
    const accrual = computeAccrual({ orderId: "9", lines, paymentMethod: "marketplace_card", config });
    expect(accrual.lines[0]).toMatchObject({
      rateBp: 100,
      cardBp: 100,
      accrualKop: 5_001,
      explanation: {
        ru: "Заказ 9, «Прочие товары» 1% + 1% по карте от 2 500,50 ₽ — 50,01 балла",
        en: "Order 9, toys 1% + 1% card bonus of 2,500.50 RUB — 50.01 points",
      },
    });
    expect(accrual.points).toBe(50);
  });

  it("R11: seller points are per unit, funded by the seller and untouched by points spent", () => {
    const lines = [
      line({ lineId: "a", sellerId: "S7", quantity: 3, unitPriceKop: 10_000, sellerPointsPerUnit: 25 }),
      line({ lineId: "b", sellerId: "S8", quantity: 1, unitPriceKop: 10_000 }),
    ];
    const allocation = allocateSpend(lines, { bonus: 200, savings: 0, referral: 0 });
    const accrual = computeAccrual({ orderId: "5", lines, paymentMethod: "other", config, allocation });
    expect(accrual.lines[0]?.seller).toEqual({
      account: "seller:S7",
      points: 75,
      explanation: {
        ru: "Заказ 5, баллы от продавца S7: 3 × 25 — 75 баллов",
        en: "Order 5, points from seller S7: 3 × 25 — 75 points",
      },
    });
    expect(accrual.lines[1]?.seller).toBeNull();
    expect(accrual.sellerPoints).toBe(75);
    // 400 RUB of books, 200 paid with points: 5% of 200 RUB = 10 points, plus the seller's 75.
    expect(accrual.points).toBe(10);
    expect(accrual.explanation).toEqual({
      ru: "Заказ 5: 10 баллов за покупку, ещё 75 баллов от продавцов",
      en: "Order 5: 10 points for the purchase, plus 75 points from sellers",
    });
  });

  it("a free line, 1-RUB items and an order paid fully in money never divide by zero", () => {
    const lines = [
      line({ lineId: "gift", unitPriceKop: 0, originalUnitPriceKop: 50_000 }),
      line({ lineId: "pins", category: "toys", quantity: 3_000, unitPriceKop: 100 }),
    ];
    const accrual = computeAccrual({ orderId: "3", lines, paymentMethod: "marketplace_card", config });
    expect(accrual.lines.map((l) => [l.baseKop, l.accrualKop])).toEqual([
      [0, 0],
      [300_000, 6_000],
    ]);
    expect(accrual.points).toBe(60);
    expect(accrual.explanation.ru).toBe("Заказ 3: 60 баллов за покупку");
  });

  it("refuses, as a bug, an allocation that does not match the lines", () => {
    const lines = [line({ lineId: "a", unitPriceKop: 10_000 })];
    const stranger = [{ lineId: "z", points: { bonus: 1, savings: 0, referral: 0 }, total: 1 }];
    const tooMuch = [{ lineId: "a", points: { bonus: 101, savings: 0, referral: 0 }, total: 101 }];
    const accrue = (allocation: typeof stranger) =>
      computeAccrual({ orderId: "1", lines, paymentMethod: "other", config, allocation });
    expect(() => accrue(stranger)).toThrow(RangeError);
    expect(() => accrue(tooMuch)).toThrow(RangeError);
  });
});
