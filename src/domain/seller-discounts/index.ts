/**
 * R27: sellers' loyalty discounts. A seller offers a discount to its loyal customers — e.g. 10% once
 * a customer has accumulated 100 points from the seller's products, 20% for customers who bought
 * more than 3 of its items this month. Each condition reads the customer's statistics with that
 * seller (kept from order events in the customer's own rows). Per seller, the largest discount the
 * customer qualifies for applies to that seller's lines (discounts of one seller do not stack); the
 * quote lists every discount and why it applies or not. The marketplace applies it to the prices
 * before the points caps (R16-R19), so the caps and the accrual see the prices the customer pays.
 */

import type { CartLine } from "../checkout/cart.js";
import { BASIS_POINTS_PER_UNIT } from "../kinds.js";
import { formatNumber, formatPercent, formatPoints, type LocalizedText, russianPlural } from "../text.js";

export type LoyaltyCondition =
  /** Points the customer earned from the seller's products (credited, net of returns), at least. */
  | { readonly type: "points_from_seller"; readonly atLeast: number }
  /** Units of the seller's products the customer bought (shipped and kept) this calendar month, more than. */
  | { readonly type: "units_this_month"; readonly moreThan: number };

export interface SellerDiscount {
  readonly discountId: string;
  readonly sellerId: string;
  /** Of the line amount, bp: 10% is 1,000. */
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
  /** Kopecks off each of the seller's lines (floored per line), and in all. */
  readonly lines: readonly { readonly lineId: string; readonly discountKop: number }[];
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
      .map((l) => ({
        lineId: l.lineId,
        // Exact: a line amount times a rate can pass 2^53.
        discountKop: Number(
          (BigInt(l.quantity) * BigInt(l.unitPriceKop) * BigInt(percentBp)) / BigInt(BASIS_POINTS_PER_UNIT),
        ),
      }));
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
