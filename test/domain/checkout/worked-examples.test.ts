import { describe, expect, it } from "vitest";
import {
  allocateSpend,
  computeAccrual,
  DEFAULT_EARNING_CONFIG as config,
  quoteSpend,
} from "../../../src/domain/checkout/index.js";
import { balances, line } from "./fixtures.js";

const book = line({ lineId: "book", category: "books", unitPriceKop: 120_000 });
const accessory = line({ lineId: "accessory", category: "electronics", unitPriceKop: 79_999 });

describe("worked examples from rules.md", () => {
  it("W1 (R7, R12) a book and an accessory paid by an ordinary card earn 67 points", () => {
    const accrual = computeAccrual({
      orderId: "7781",
      lines: [book, accessory],
      paymentMethod: "other_card",
      config,
    });
    expect(accrual.lines.map((l) => l.accrualKop)).toEqual([6_000, 799]);
    expect(accrual.accrualKop).toBe(6_799);
    expect(accrual.points).toBe(67);
    expect(accrual.lines[0]?.explanation).toEqual({
      ru: "Заказ 7781, «Книги» 5% от 1 200 ₽ — 60 баллов",
      en: "Order 7781, Books 5% of 1,200 RUB — 60 points",
    });
  });

  it("W2 (R8) the same order paid with the marketplace card earns 99 points", () => {
    const accrual = computeAccrual({
      orderId: "7781",
      lines: [book, accessory],
      paymentMethod: "marketplace_card",
      config,
    });
    expect(accrual.lines.map((l) => [l.rateBp, l.cardBp, l.accrualKop])).toEqual([
      [500, 200, 8_400],
      [100, 100, 1_599],
    ]);
    expect(accrual.accrualKop).toBe(9_999);
    expect(accrual.points).toBe(99);
  });

  it("W3 (R9) a jacket on promotion accrues from its original price: 150 points", () => {
    const jacket = line({ category: "clothing_shoes", unitPriceKop: 350_000, originalUnitPriceKop: 500_000 });
    const accrual = computeAccrual({ orderId: "1", lines: [jacket], paymentMethod: "other", config });
    expect(accrual.lines[0]?.baseKop).toBe(500_000);
    expect(accrual.points).toBe(150);
  });

  it("W4 (R10, R16, R21) 1,000 of 1,500 bonus points allocated 750/250 leave 35 points of accrual", () => {
    const lines = [
      line({ lineId: "A", category: "clothing_shoes", unitPriceKop: 150_000 }),
      line({ lineId: "B", category: "books", unitPriceKop: 50_000 }),
    ];
    const quote = quoteSpend({ lines, config, balances: balances({ bonus: 1_500 }) });
    expect(quote.combination).toEqual({ bonus: 1_000, savings: 0, referral: 0 });
    const allocation = allocateSpend(lines, quote.combination);
    expect(allocation.map((share) => share.points.bonus)).toEqual([750, 250]);
    const accrual = computeAccrual({ orderId: "2", lines, paymentMethod: "other", config, allocation });
    expect(accrual.lines.map((l) => [l.baseKop, l.accrualKop])).toEqual([
      [75_000, 2_250],
      [25_000, 1_250],
    ]);
    expect(accrual.points).toBe(35);
  });

  it("W5 (R17) savings leave 1 RUB per unit and pay at most 99%: 297, and 49,500 for one unit", () => {
    const threeUnits = [line({ category: "toys", quantity: 3, unitPriceKop: 10_000 })];
    const small = quoteSpend({ lines: threeUnits, config, balances: balances({ savings: 1_000 }) });
    expect(small.maxPerKind.savings).toBe(297);
    expect(small.combination.savings).toBe(297);

    const oneUnit = [line({ category: "toys", unitPriceKop: 5_000_000 })];
    const large = quoteSpend({ lines: oneUnit, config, balances: balances({ savings: 100_000 }) });
    expect(large.maxPerKind.savings).toBe(49_500);
    expect(large.combination.savings).toBe(49_500);
  });

  it("W6 (R19) caps nest: 500 bonus + 490 savings = 990 and 10 RUB of money; with referral 250/250/490", () => {
    const lines = [
      line({ lineId: "a", category: "toys", unitPriceKop: 60_000 }),
      line({ lineId: "b", category: "toys", unitPriceKop: 40_000 }),
    ];
    const withoutReferral = quoteSpend({ lines, config, balances: balances({ bonus: 800, savings: 900 }) });
    expect(withoutReferral.combination).toEqual({ bonus: 500, savings: 490, referral: 0 });
    expect(withoutReferral.total).toBe(990);
    expect(withoutReferral.moneyToPayKop).toBe(1_000);
    expect(withoutReferral.reasons.map((r) => [r.kind, r.code])).toEqual([
      ["referral", "ZERO_BALANCE"],
      ["bonus", "KIND_CAP"],
      ["savings", "SHARED_CAP"],
    ]);

    const withReferral = quoteSpend({
      lines,
      config,
      balances: balances({ bonus: 800, savings: 900, referral: 400 }),
    });
    expect(withReferral.combination).toEqual({ bonus: 250, savings: 490, referral: 250 });
    expect(withReferral.total).toBe(990);
    expect(withReferral.reasons.map((r) => [r.kind, r.code])).toEqual([
      ["referral", "KIND_CAP"],
      ["bonus", "SHARED_CAP"],
      ["savings", "SHARED_CAP"],
    ]);
  });
});
