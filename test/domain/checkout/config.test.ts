import { describe, expect, it } from "vitest";
import {
  categoryName,
  DEFAULT_EARNING_CONFIG,
  type EarningConfig,
  rateForCategory,
  validateEarningConfig,
} from "../../../src/domain/checkout/index.js";

describe("earning configuration", () => {
  it("holds the defaults of R7, R8 and R16-R19", () => {
    const rates = (table: EarningConfig["baseRateBp"]) =>
      ["electronics", "household_appliances", "clothing_shoes", "groceries", "books", "toys"].map((c) =>
        rateForCategory(table, c),
      );
    expect(rates(DEFAULT_EARNING_CONFIG.baseRateBp)).toEqual([100, 200, 300, 500, 500, 100]);
    expect(rates(DEFAULT_EARNING_CONFIG.cardBonusBp)).toEqual([100, 100, 100, 200, 200, 100]);
    expect(rates(DEFAULT_EARNING_CONFIG.referralCapBp)).toEqual([2_500, 2_500, 2_500, 2_500, 2_500, 2_500]);
    expect(DEFAULT_EARNING_CONFIG.bonusCapBp).toBe(5_000);
    expect(DEFAULT_EARNING_CONFIG.savingsCapBp).toBe(9_900);
    expect(DEFAULT_EARNING_CONFIG.minMoneyPerUnitKop).toBe(100);
    expect(validateEarningConfig(DEFAULT_EARNING_CONFIG)).toEqual([]);
  });

  it("treats codes that name Object.prototype members as unknown categories", () => {
    for (const code of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(rateForCategory(DEFAULT_EARNING_CONFIG.baseRateBp, code)).toBe(100);
      expect(categoryName(DEFAULT_EARNING_CONFIG, code)).toEqual({ ru: "Прочие товары", en: code });
    }
  });

  it("names categories in Russian and English", () => {
    expect(categoryName(DEFAULT_EARNING_CONFIG, "household_appliances")).toEqual({
      ru: "Бытовая техника",
      en: "Household appliances",
    });
  });

  it("reports every out-of-range value with its path", () => {
    const broken: EarningConfig = {
      baseRateBp: { byCategory: { books: 10_001 }, otherwise: -1 },
      cardBonusBp: { byCategory: { books: 600 }, otherwise: 100 },
      bonusCapBp: 50.5,
      savingsCapBp: 9_900,
      referralCapBp: { byCategory: { books: 2_000, groceries: 10_000 }, otherwise: 2_500 },
      minMoneyPerUnitKop: 50,
      categoryNames: { books: { ru: "Книги", en: "" } },
    };
    expect(validateEarningConfig(broken).map((p) => p.field)).toEqual([
      "baseRateBp.otherwise",
      "baseRateBp.byCategory.books",
      "cardBonusBp.byCategory.books",
      "referralCapBp.byCategory.books",
      "bonusCapBp",
      "minMoneyPerUnitKop",
      "categoryNames.books.en",
    ]);
    expect(validateEarningConfig(broken)[2]?.message).toBe("must be an integer from 0 to 500");
  });
});
