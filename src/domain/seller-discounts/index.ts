/**
 * R27: sellers' loyalty discounts. A seller offers a discount to its loyal customers — e.g. 10% once
 * a customer has accumulated 100 points from the seller's products, 20% for customers who bought
 * more than 3 of its items this month. Each condition reads the customer's statistics with that
 * seller (kept from order events in the customer's own rows). Per seller, the largest discount the
 * customer qualifies for applies to that seller's lines (discounts of one seller do not stack); the
 * quote lists every discount and why it applies or not. The marketplace applies it to the prices
 * before the points caps (R16-R19), so the caps and the accrual see the prices the customer pays.
 *
 * A discount is taken off each unit, floor(unit price × bp / 10,000), so that the discounted unit
 * price stays whole kopecks (the order placed carries it as `unitPriceKop`); a line's discount is its
 * quantity times that. The statistics the conditions read: ./stats.ts.
 */

import type { CartLine } from "../checkout/cart.js";
import { checkIntegerRange, type Problem } from "../checkout/problems.js";
import { BASIS_POINTS_PER_UNIT } from "../kinds.js";
import { formatNumber, formatPercent, formatPoints, type LocalizedText, russianPlural } from "../text.js";

export type LoyaltyCondition =
  /** Points the customer earned from the seller's products (credited, net of returns), at least. */
  | { readonly type: "points_from_seller"; readonly atLeast: number }
  /** Units of the seller's products the customer bought (shipped and kept) this calendar month, more than. */
  | { readonly type: "units_this_month"; readonly moreThan: number };

/** R27's limits: the largest discount (90%: a unit is never given away), and conditions' bounds. */
export const MAX_DISCOUNT_BP = 9_000;
export const MAX_POINTS_CONDITION = 1_000_000_000;
export const MAX_UNITS_CONDITION = 1_000_000;
/** The most discounts a seller may have in force at once (the quote weighs every one). */
export const MAX_DISCOUNTS_PER_SELLER = 20;

export interface SellerDiscount {
  readonly discountId: string;
  readonly sellerId: string;
  /** Of each unit's price, bp: 10% is 1,000; 1-MAX_DISCOUNT_BP. */
  readonly percentBp: number;
  readonly condition: LoyaltyCondition;
}

/** A customer's history with one seller, as the order events left it. */
export interface SellerStats {
  readonly pointsFromSeller: number;
  /** Units bought this calendar month (operator's time zone). */
  readonly unitsThisMonth: number;
}

export const NO_STATS: SellerStats = { pointsFromSeller: 0, unitsThisMonth: 0 };

export interface DiscountVerdict {
  readonly discountId: string;
  readonly percentBp: number;
  readonly qualifies: boolean;
  /** Whether it is the one applied to the seller's lines (the largest the customer qualifies for). */
  readonly applied: boolean;
  readonly reason: LocalizedText;
}

export interface SellerDiscountQuote {
  readonly sellerId: string;
  readonly discounts: readonly DiscountVerdict[];
  /** Kopecks off each unit of the seller's lines (floored per unit) and off each line, and in all. */
  readonly lines: readonly {
    readonly lineId: string;
    readonly unitDiscountKop: number;
    readonly discountKop: number;
  }[];
  readonly discountKop: number;
}

function verdict(d: SellerDiscount, stats: SellerStats): Omit<DiscountVerdict, "applied"> {
  const pct = formatPercent(d.percentBp);
  if (d.condition.type === "points_from_seller") {
    const need = formatPoints(d.condition.atLeast);
    const have = formatPoints(stats.pointsFromSeller);
    const qualifies = stats.pointsFromSeller >= d.condition.atLeast;
    return {
      discountId: d.discountId,
      percentBp: d.percentBp,
      qualifies,
      reason: {
        ru: `Скидка ${pct.ru} от ${need.ru}, накопленных за товары продавца: у вас ${have.ru}`,
        en: `${pct.en} off from ${need.en} earned on the seller's products: you have ${have.en}`,
      },
    };
  }
  const limit = d.condition.moreThan;
  const units = stats.unitsThisMonth;
  const noun = (n: number) => russianPlural(n, "товара", "товаров", "товаров");
  const qualifies = units > limit;
  return {
    discountId: d.discountId,
    percentBp: d.percentBp,
    qualifies,
    reason: {
      ru: `Скидка ${pct.ru} при покупке больше ${formatNumber(limit).ru} ${noun(limit)} продавца в этом месяце: у вас ${formatNumber(units).ru}`,
      en: `${pct.en} off for buying more than ${formatNumber(limit).en} of the seller's items this month: you bought ${formatNumber(units).en}`,
    },
  };
}

/** R27: each seller's discounts for a cart: which apply, why, and how much they take off its lines. */
export function quoteSellerDiscounts(
  discounts: readonly SellerDiscount[],
  statsOf: (sellerId: string) => SellerStats,
  lines: readonly CartLine[],
): SellerDiscountQuote[] {
  const sellers = [...new Set(lines.map((l) => l.sellerId))];
  return sellers.flatMap((sellerId): SellerDiscountQuote[] => {
    const own = discounts.filter((d) => d.sellerId === sellerId);
    if (own.length === 0) return [];
    const verdicts = own.map((d) => verdict(d, statsOf(sellerId)));
    // The largest the customer qualifies for; a tie goes to the smaller id, so the choice is stable.
    const best = verdicts
      .filter((v) => v.qualifies)
      .sort((a, b) => b.percentBp - a.percentBp || (a.discountId < b.discountId ? -1 : 1))[0];
    const percentBp = best?.percentBp ?? 0;
    const sellerLines = lines
      .filter((l) => l.sellerId === sellerId)
      .map((l) => {
        const unitDiscountKop = unitDiscountOf(l.unitPriceKop, percentBp);
        return { lineId: l.lineId, unitDiscountKop, discountKop: l.quantity * unitDiscountKop };
      });
    return [
      {
        sellerId,
        discounts: verdicts.map((v) => ({ ...v, applied: v.discountId === best?.discountId })),
        lines: sellerLines,
        discountKop: sellerLines.reduce((s, l) => s + l.discountKop, 0),
      },
    ];
  });
}

/** Kopecks off one unit: floor(price × bp / 10,000), exact (a price times a rate can pass 2^53). */
function unitDiscountOf(unitPriceKop: number, percentBp: number): number {
  return Number((BigInt(unitPriceKop) * BigInt(percentBp)) / BigInt(BASIS_POINTS_PER_UNIT));
}

/** The cart at the prices the customer pays: each unit's price less its seller's discount. */
export function discountedLines(
  lines: readonly CartLine[],
  quotes: readonly SellerDiscountQuote[],
): CartLine[] {
  const off = new Map(quotes.flatMap((q) => q.lines.map((l) => [l.lineId, l.unitDiscountKop] as const)));
  return lines.map((l) => {
    const unitDiscountKop = off.get(l.lineId) ?? 0;
    return unitDiscountKop === 0 ? l : { ...l, unitPriceKop: l.unitPriceKop - unitDiscountKop };
  });
}

/** What is wrong with a discount's definition, by field (`percentBp`, `condition.atLeast` …). */
export function validateSellerDiscount(d: Pick<SellerDiscount, "percentBp" | "condition">): Problem[] {
  const problems: Problem[] = [];
  checkIntegerRange(problems, "percentBp", d.percentBp, 1, MAX_DISCOUNT_BP);
  if (d.condition.type === "points_from_seller")
    checkIntegerRange(problems, "condition.atLeast", d.condition.atLeast, 1, MAX_POINTS_CONDITION);
  else checkIntegerRange(problems, "condition.moreThan", d.condition.moreThan, 0, MAX_UNITS_CONDITION);
  return problems;
}
