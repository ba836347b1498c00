import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkSpendRequest,
  computeAccrual,
  formatPercent,
  formatPoints,
  formatPointsFromKop,
  formatRoubles,
  type LocalizedText,
  quoteSpend,
  russianPlural,
} from "../../../src/domain/checkout/index.js";
import { formatDate, formatTimeOfDay } from "../../../src/domain/text.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../../support/alphabets.js";
import { assertProperty } from "../../support/property.js";
import { balancesArb, cartArb, configArb } from "./fixtures.js";

describe("explanation texts (R33)", () => {
  it("picks the Russian plural form for any number", () => {
    const form = (n: number) => russianPlural(n, "балл", "балла", "баллов");
    expect([0, 1, 2, 4, 5, 11, 12, 14, 15, 21, 22, 25, 101, 111, 112, 1_001, 1_000_000].map(form)).toEqual([
      "баллов",
      "балл",
      "балла",
      "балла",
      "баллов",
      "баллов",
      "баллов",
      "баллов",
      "баллов",
      "балл",
      "балла",
      "баллов",
      "балл",
      "баллов",
      "баллов",
      "балл",
      "баллов",
    ]);
  });

  it("formats roubles with grouped thousands and kopecks only when there are some", () => {
    expect([0, 5, 100, 79_999, 120_000, 123_456_789].map(formatRoubles)).toEqual([
      { ru: "0 ₽", en: "0 RUB" },
      { ru: "0,05 ₽", en: "0.05 RUB" },
      { ru: "1 ₽", en: "1 RUB" },
      { ru: "799,99 ₽", en: "799.99 RUB" },
      { ru: "1 200 ₽", en: "1,200 RUB" },
      { ru: "1 234 567,89 ₽", en: "1,234,567.89 RUB" },
    ]);
  });

  it("formats rates in basis points as percents", () => {
    expect([500, 250, 5, 10_000].map(formatPercent)).toEqual([
      { ru: "5%", en: "5%" },
      { ru: "2,5%", en: "2.5%" },
      { ru: "0,05%", en: "0.05%" },
      { ru: "100%", en: "100%" },
    ]);
  });

  it("formats whole and fractional points", () => {
    expect(formatPoints(1)).toEqual({ ru: "1 балл", en: "1 point" });
    expect(formatPoints(49_500)).toEqual({ ru: "49 500 баллов", en: "49,500 points" });
    expect(formatPointsFromKop(6_000)).toEqual({ ru: "60 баллов", en: "60 points" });
    expect(formatPointsFromKop(2_100)).toEqual({ ru: "21 балл", en: "21 points" });
    expect(formatPointsFromKop(799)).toEqual({ ru: "7,99 балла", en: "7.99 points" });
  });

  it("shows an instant's date and time of day on the clocks of the given zone", () => {
    const nearMidnight = new Date("2026-03-01T23:30:00.000Z");
    expect(formatDate(nearMidnight, "Europe/Moscow")).toEqual({ ru: "02.03.2026", en: "2 Mar 2026" });
    expect(formatDate(nearMidnight, "UTC")).toEqual({ ru: "01.03.2026", en: "1 Mar 2026" });
    expect(formatTimeOfDay(nearMidnight, "Europe/Moscow")).toBe("02:30");
    expect(formatTimeOfDay(new Date("2026-03-01T21:00:00.000Z"), "Europe/Moscow")).toBe("00:00");
    // New York moves its clocks on 8 March 2026; Moscow does not.
    expect(formatTimeOfDay(new Date("2026-03-09T12:00:00.000Z"), "America/New_York")).toBe("08:00");
    expect(formatTimeOfDay(new Date("2026-03-07T12:00:00.000Z"), "America/New_York")).toBe("07:00");
    // The same month names whatever the ICU version (en-GB says "Sept" in recent ones).
    expect(formatDate(new Date("2026-09-01T12:00:00.000Z"), "UTC").en).toBe("1 Sep 2026");
  });
});

describe("R33: quotes and accruals have no English inside Russian texts, no Russian inside English ones", () => {
  /** Ids without letters, so that whatever letters a text has come from its template. */
  const noLetters = fc.stringMatching(/^[0-9 .:#№/_-]{1,12}$/);
  const cart = fc
    .tuple(
      cartArb({ maxLines: 4, maxQuantity: 5, maxPriceKop: 5_000_000 }),
      fc.array(noLetters, { minLength: 4 }),
    )
    .map(([lines, sellers]) => lines.map((l, i) => ({ ...l, sellerId: sellers[i] ?? "0" })));
  const spend = fc.record({ bonus: fc.nat(100_000), savings: fc.nat(100_000), referral: fc.nat(100_000) });
  const paymentMethod = fc.constantFrom("marketplace_card" as const, "other_card" as const, "other" as const);
  const inItsLanguage = (text: LocalizedText) => {
    expect(text.ru).not.toMatch(LATIN_LETTER);
    expect(text.en).not.toMatch(CYRILLIC_LETTER);
  };

  it("holds for every cap reason, refusal and accrual line, unknown categories included", () => {
    assertProperty(
      fc.property(
        cart,
        configArb,
        balancesArb(100_000),
        spend,
        paymentMethod,
        noLetters,
        (lines, config, balances, requested, method, orderId) => {
          for (const reason of quoteSpend({ lines, config, balances }).reasons) inItsLanguage(reason.text);
          const check = checkSpendRequest({ lines, config, balances }, requested);
          if (!check.ok) inItsLanguage(check.message);
          const accrual = computeAccrual({ orderId, lines, paymentMethod: method, config });
          inItsLanguage(accrual.explanation);
          for (const line of accrual.lines) {
            inItsLanguage(line.explanation);
            if (line.seller) inItsLanguage(line.seller.explanation);
          }
        },
      ),
    );
  });
});
