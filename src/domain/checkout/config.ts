import { BASIS_POINTS_PER_UNIT, KOPECKS_PER_POINT, MAX_AMOUNT } from "../kinds.js";
import type { LocalizedText } from "../text.js";
import { checkIntegerRange, checkNonEmptyString, type Problem } from "./problems.js";

/** The categories the rules name. Any other code is an unknown category and takes the default rates. */
export const KNOWN_CATEGORIES = [
  "electronics",
  "household_appliances",
  "clothing_shoes",
  "groceries",
  "books",
] as const;
export type KnownCategory = (typeof KNOWN_CATEGORIES)[number];

/** A value in basis points per category code, and the value for every code not listed. */
export interface CategoryRates {
  readonly byCategory: Readonly<Record<string, number>>;
  readonly otherwise: number;
}

/** Everything an operator can tune about earning and spending at checkout. */
export interface EarningConfig {
  /** Accrual rate, bp of the accrual base, per category. */
  readonly baseRateBp: CategoryRates;
  /** Extra accrual for paying with the marketplace's card, bp of the money paid, per category. */
  readonly cardBonusBp: CategoryRates;
  /** Share of the order total that `bonus` points may pay, bp. */
  readonly bonusCapBp: number;
  /** Share of the order total that `savings` points may pay, bp. */
  readonly savingsCapBp: number;
  /** Share of each category's amount that `referral` points may pay, bp. */
  readonly referralCapBp: CategoryRates;
  /** Money, in kopecks, that every unit in the cart must still be paid with. */
  readonly minMoneyPerUnitKop: number;
  /** Display names by category code; categoryName says how an unnamed code is shown. */
  readonly categoryNames: Readonly<Record<string, LocalizedText>>;
  /**
   * R28: extra accrual for a Premium subscriber, bp of each line's accrual base (the money-paid part,
   * like the card bonus). Versions stored before R28 have none: premiumBonusOf gives the default.
   */
  readonly premiumBonusBp?: number | undefined;
  /**
   * R28: a Premium subscriber's delivery is free from this order total, kopecks at the prices charged,
   * before points (inclusive). Absent (versions stored before R28): premiumFreeDeliveryThresholdOf.
   */
  readonly premiumFreeDeliveryThresholdKop?: number | undefined;
}

/** R28: +1% for Premium subscribers unless the version says otherwise. */
export const DEFAULT_PREMIUM_BONUS_BP = 100;
/** R28: free delivery from 1,000 RUB for Premium subscribers unless the version says otherwise. */
export const DEFAULT_PREMIUM_FREE_DELIVERY_THRESHOLD_KOP = 100_000;
/** R28 names no range; the card bonus's ceiling (R8, 5%) keeps an extra within what the card may add. */
export const MAX_PREMIUM_BONUS_BP = 500;

export function premiumBonusOf(config: EarningConfig): number {
  return config.premiumBonusBp ?? DEFAULT_PREMIUM_BONUS_BP;
}

export function premiumFreeDeliveryThresholdOf(config: EarningConfig): number {
  return config.premiumFreeDeliveryThresholdKop ?? DEFAULT_PREMIUM_FREE_DELIVERY_THRESHOLD_KOP;
}

export const DEFAULT_EARNING_CONFIG: EarningConfig = {
  // R7: base rates by category; unlisted categories earn 1%.
  baseRateBp: {
    byCategory: {
      electronics: 100,
      household_appliances: 200,
      clothing_shoes: 300,
      groceries: 500,
      books: 500,
    },
    otherwise: 100,
  },
  // R8: paying with the marketplace card adds +1%, books and groceries +2%.
  cardBonusBp: { byCategory: { books: 200, groceries: 200 }, otherwise: 100 },
  // R16: bonus points pay at most 50% of the order.
  bonusCapBp: 5_000,
  // R17: savings points pay at most 99% of the order (the 1 RUB per unit floor is below).
  savingsCapBp: 9_900,
  // R18: referral points pay 25% of the order by default; 25-100% per category.
  referralCapBp: { byCategory: {}, otherwise: 2_500 },
  // R17, R19: every unit is still paid at least 1 RUB with money.
  minMoneyPerUnitKop: 100,
  categoryNames: {
    electronics: { ru: "Электроника", en: "Electronics" },
    household_appliances: { ru: "Бытовая техника", en: "Household appliances" },
    clothing_shoes: { ru: "Одежда и обувь", en: "Clothing and shoes" },
    groceries: { ru: "Продукты", en: "Groceries" },
    books: { ru: "Книги", en: "Books" },
  },
  premiumBonusBp: DEFAULT_PREMIUM_BONUS_BP,
  premiumFreeDeliveryThresholdKop: DEFAULT_PREMIUM_FREE_DELIVERY_THRESHOLD_KOP,
};

/*
 * Lookups use own properties only: category codes come from outside, and a code such as
 * "constructor" must not find a member of Object.prototype.
 */
function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function rateForCategory(rates: CategoryRates, category: string): number {
  return ownValue(rates.byCategory, category) ?? rates.otherwise;
}

/**
 * A category the operator has not named reads «Прочие товары» in Russian, since a code such as
 * `toys` is English inside a Russian text (R33), and by its code in English.
 */
export function categoryName(config: EarningConfig, category: string): LocalizedText {
  return ownValue(config.categoryNames, category) ?? { ru: "Прочие товары", en: category };
}

/** R8 says the card adds 1-5%; 0 is allowed so that an operator can switch it off for a category. */
export const MAX_CARD_BONUS_BP = 500;
/** R18: referral points pay 25%-100% of an order, by category. */
export const MIN_REFERRAL_CAP_BP = 2_500;

function checkCategoryRates(
  problems: Problem[],
  field: string,
  rates: CategoryRates,
  min: number,
  max: number,
): void {
  checkIntegerRange(problems, `${field}.otherwise`, rates.otherwise, min, max);
  for (const [category, bp] of Object.entries(rates.byCategory)) {
    checkNonEmptyString(problems, `${field}.byCategory`, category);
    checkIntegerRange(problems, `${field}.byCategory.${category}`, bp, min, max);
  }
}

/** Every problem with a configuration; an empty list means it can be used. */
export function validateEarningConfig(config: EarningConfig): Problem[] {
  const problems: Problem[] = [];
  checkCategoryRates(problems, "baseRateBp", config.baseRateBp, 0, BASIS_POINTS_PER_UNIT);
  checkCategoryRates(problems, "cardBonusBp", config.cardBonusBp, 0, MAX_CARD_BONUS_BP);
  checkCategoryRates(
    problems,
    "referralCapBp",
    config.referralCapBp,
    MIN_REFERRAL_CAP_BP,
    BASIS_POINTS_PER_UNIT,
  );
  checkIntegerRange(problems, "bonusCapBp", config.bonusCapBp, 0, BASIS_POINTS_PER_UNIT);
  checkIntegerRange(problems, "savingsCapBp", config.savingsCapBp, 0, BASIS_POINTS_PER_UNIT);
  // The money floor may be raised but not lowered below 1 RUB: besides R19 itself, it guarantees
  // that the lines of a cart can always absorb an allowed spend in whole points (R21).
  checkIntegerRange(problems, "minMoneyPerUnitKop", config.minMoneyPerUnitKop, KOPECKS_PER_POINT, MAX_AMOUNT);
  // R28: absent in versions stored before it (the defaults apply); present, it must be in range.
  if (config.premiumBonusBp !== undefined)
    checkIntegerRange(problems, "premiumBonusBp", config.premiumBonusBp, 0, MAX_PREMIUM_BONUS_BP);
  if (config.premiumFreeDeliveryThresholdKop !== undefined)
    checkIntegerRange(
      problems,
      "premiumFreeDeliveryThresholdKop",
      config.premiumFreeDeliveryThresholdKop,
      0,
      MAX_AMOUNT,
    );
  for (const [category, name] of Object.entries(config.categoryNames)) {
    checkNonEmptyString(problems, `categoryNames.${category}.ru`, name.ru);
    checkNonEmptyString(problems, `categoryNames.${category}.en`, name.en);
  }
  return problems;
}
