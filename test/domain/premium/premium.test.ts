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
import { renderLineAccrual } from "../../../src/domain/ledger/index.js";
import { coverageOf, deliveryFor, intervalAt, reportPeriod } from "../../../src/domain/premium/index.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../../support/alphabets.js";
import { assertProperty } from "../../support/property.js";
import { balancesArb, cartArb, configArb, line } from "../checkout/fixtures.js";

const paymentArb = fc.constantFrom<PaymentMethod>("marketplace_card", "other_card", "other");

describe("R28: the Premium extra accrual", () => {
  it("property: with Premium = without + per line the extra's lift, floored once, never negative, integers", () => {
    const anyCart = cartArb({ maxLines: 12, maxQuantity: 2_000, maxPriceKop: 10_000_000 });
    const premiumBp = fc.integer({ min: 0, max: 500 });
    assertProperty(
      fc.property(
        anyCart,
        configArb,
        balancesArb(50_000_000),
        paymentArb,
        premiumBp,
        (lines, caps, held, paymentMethod, bp) => {
          const earning = { ...config, premiumBonusBp: bp };
          const allocation = allocateSpend(
            lines,
            quoteSpend({ lines, config: caps, balances: held }).combination,
          );
          const input = { orderId: "o", lines, paymentMethod, config: earning, allocation };
          const without = computeAccrual(input);
          const withPremium = computeAccrual({ ...input, premium: true });
          withPremium.lines.forEach((result, i) => {
            const plain = without.lines[i];
            const l = lines[i];
            if (!plain || !l) throw new Error("a line is missing");
            // R12: one exact computation per line with every rate, floored once (no second floor).
            const amount = BigInt(l.quantity * l.unitPriceKop);
            const money = amount - BigInt((allocation[i]?.total ?? 0) * 100);
            const original = BigInt(l.quantity * (l.originalUnitPriceKop ?? l.unitPriceKop));
            const card =
              paymentMethod === "marketplace_card" ? rateForCategory(config.cardBonusBp, l.category) : 0;
            const rates = BigInt(rateForCategory(config.baseRateBp, l.category) + card + bp);
            const exact = amount === 0n ? 0n : (original * money * rates) / (amount * 10_000n);
            expect(BigInt(result.accrualKop)).toBe(exact);
            // The lift is the extra floored, or one kopeck more where the two fractions carry.
            const extra = amount === 0n ? 0n : (original * money * BigInt(bp)) / (amount * 10_000n);
            const lift = BigInt(result.premiumKop);
            expect(lift === extra || lift === extra + 1n).toBe(true);
            expect(result.accrualKop).toBe(plain.accrualKop + result.premiumKop);
            expect(result.premiumKop).toBeGreaterThanOrEqual(0);
            expect(Number.isSafeInteger(result.premiumKop)).toBe(true);
            expect(result.premiumBp).toBe(bp);
            expect(plain.premiumKop).toBe(0);
            expect(plain.premiumBp).toBe(0);
          });
          expect(withPremium.premiumKop).toBe(withPremium.accrualKop - without.accrualKop);
          expect(withPremium.premiumPoints).toBe(withPremium.points - without.points);
          expect(withPremium.premiumPoints).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("R28, R33: a book at 1,000.00 earns 5% + 1% Premium = 60 points, said in both languages", () => {
    const lines = [line({ lineId: "b", category: "books", unitPriceKop: 100_000 })];
    const accrual = computeAccrual({
      orderId: "7781",
      lines,
      paymentMethod: "other_card",
      config,
      premium: true,
    });
    expect(accrual.lines[0]).toMatchObject({
      rateBp: 500,
      cardBp: 0,
      premiumBp: 100,
      accrualKop: 6_000,
      premiumKop: 1_000,
    });
    expect(accrual.points).toBe(60);
    expect(accrual.premiumPoints).toBe(10);
    expect(accrual.lines[0]?.explanation).toEqual({
      ru: "Заказ 7781, «Книги» 5% + 1% Премиум от 1 000 ₽ — 60 баллов",
      en: "Order 7781, Books 5% + 1% Premium of 1,000 RUB — 60 points",
    });
    expect(accrual.lines[0]?.explanation.ru).not.toMatch(LATIN_LETTER);
    expect(accrual.lines[0]?.explanation.en).not.toMatch(CYRILLIC_LETTER);
    const card = computeAccrual({
      orderId: "7781",
      lines,
      paymentMethod: "marketplace_card",
      config,
      premium: true,
    });
    expect(card.lines[0]?.explanation.ru).toBe(
      "Заказ 7781, «Книги» 5% + 2% по карте + 1% Премиум от 1 000 ₽ — 80 баллов",
    );
  });

  it("R33: a stored five-element tuple (no Premium) renders exactly as before", () => {
    const name = { ru: "Книги", en: "Books" };
    expect(renderLineAccrual("1", name, ["books", 120_000, 500, 0, 6_000])).toEqual({
      ru: "Заказ 1, «Книги» 5% от 1 200 ₽ — 60 баллов",
      en: "Order 1, Books 5% of 1,200 RUB — 60 points",
    });
  });
});

describe("R28: periods and coverage", () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000);

  it("property: the coverage holds an instant exactly when some period does (start in, end out)", () => {
    const periodArb = fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 60 }))
      .map(([start, length]) => ({ startsAt: at(start), endsAt: at(start + length) }));
    assertProperty(
      fc.property(fc.array(periodArb, { maxLength: 8 }), fc.integer({ min: -5, max: 270 }), (periods, t) => {
        const coverage = coverageOf(periods);
        const instant = at(t);
        const covered = periods.some((p) => p.startsAt <= instant && instant < p.endsAt);
        expect(intervalAt(coverage, instant) !== undefined).toBe(covered);
        // Disjoint and in order, with a gap between neighbours (touching periods are joined).
        for (let i = 1; i < coverage.length; i++)
          expect((coverage[i]?.startsAt.getTime() ?? 0) > (coverage[i - 1]?.endsAt.getTime() ?? 0)).toBe(
            true,
          );
      }),
      { numRuns: 300 },
    );
  });

  it("a report with the dates in force changes nothing; other dates make the next version", () => {
    const report = { periodId: "p", startsAt: at(0), endsAt: at(60), actor: "key_1", at: at(0) };
    const first = reportPeriod(undefined, report);
    expect(first).toMatchObject({ changed: true, period: { version: 1 } });
    expect(reportPeriod(first.period, { ...report, actor: "key_2" })).toEqual({
      changed: false,
      period: first.period,
    });
    expect(reportPeriod(first.period, { ...report, endsAt: at(90) })).toMatchObject({
      changed: true,
      period: { version: 2, endsAt: at(90) },
    });
  });
});

describe("R28: free delivery", () => {
  it("free for a subscriber from the threshold inclusive; a reason in both languages in every case", () => {
    const thresholdKop = 100_000;
    expect(deliveryFor({ premium: true, orderTotalKop: 100_000, thresholdKop })).toEqual({
      free: true,
      thresholdKop,
      reason: {
        ru: "Доставка бесплатна с Премиум: заказ от 1 000 ₽",
        en: "Free delivery with Premium: the order is at least 1,000 RUB",
      },
    });
    expect(deliveryFor({ premium: true, orderTotalKop: 99_999, thresholdKop })).toEqual({
      free: false,
      thresholdKop,
      reason: {
        ru: "До бесплатной доставки с Премиум не хватает 0,01 ₽: она от 1 000 ₽",
        en: "0.01 RUB short of free Premium delivery, which starts at 1,000 RUB",
      },
    });
    const notSubscribed = deliveryFor({ premium: false, orderTotalKop: 500_000, thresholdKop });
    expect(notSubscribed.free).toBe(false);
    for (const d of [notSubscribed, deliveryFor({ premium: true, orderTotalKop: 1, thresholdKop })]) {
      expect(d.reason.ru).not.toMatch(LATIN_LETTER);
      expect(d.reason.en).not.toMatch(CYRILLIC_LETTER);
    }
  });
});
