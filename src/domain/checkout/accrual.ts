import { BASIS_POINTS_PER_UNIT, KOPECKS_PER_POINT } from "../kinds.js";
import { lineAccrualParams, renderLineAccrual } from "../ledger/explain.js";
import { formatNumber, formatPoints, type LocalizedText } from "../text.js";
import type { LineSpend } from "./allocation.js";
import { pointsFromKop } from "./arithmetic.js";
import { type CartLine, lineAmountKop, originalLineAmountKop, type PaymentMethod } from "./cart.js";
import { categoryName, type EarningConfig, premiumBonusOf, rateForCategory } from "./config.js";

export interface AccrualInput {
  readonly orderId: string;
  /** A validated cart (validateCart). */
  readonly lines: readonly CartLine[];
  readonly paymentMethod: PaymentMethod;
  readonly config: EarningConfig;
  /** The points spent on the order as allocateSpend split them; omitted when no points were spent. */
  readonly allocation?: readonly LineSpend[];
  /** R28: the customer was a Premium subscriber when the order was placed; omitted: not. */
  readonly premium?: boolean | undefined;
}

/** Points a seller funds for a line (R11), credited from the seller's account. */
export interface SellerPart {
  /** The funding account, `seller:<sellerId>`. */
  readonly account: string;
  readonly points: number;
  readonly explanation: LocalizedText;
}

export interface LineAccrual {
  readonly lineId: string;
  /** The money-paid part of the line at original prices, floored for display; accrual uses the exact value. */
  readonly baseKop: number;
  readonly rateBp: number;
  /** The card bonus, 0 unless the order is paid with the marketplace's card. */
  readonly cardBp: number;
  /** R28: the Premium extra, 0 unless the customer is a subscriber. */
  readonly premiumBp: number;
  /** Kopecks of points, floored once per line. */
  readonly accrualKop: number;
  /**
   * R28: what Premium adds to the line, kopecks of points: accrualKop less the line's accrual
   * without the extra (each floored once), so that the parts add up to the line's accrual.
   */
  readonly premiumKop: number;
  readonly explanation: LocalizedText;
  readonly seller: SellerPart | null;
}

export interface OrderAccrual {
  readonly orderId: string;
  readonly lines: readonly LineAccrual[];
  /** The sum of the lines' accruals, kopecks of points. */
  readonly accrualKop: number;
  /** The order's purchase accrual in whole points. */
  readonly points: number;
  /** R28: what Premium adds over all lines, kopecks of points (0 for a customer not subscribed). */
  readonly premiumKop: number;
  /** R28: what Premium adds to the order's whole points. */
  readonly premiumPoints: number;
  /** Seller-funded points over all lines (R11), credited separately. */
  readonly sellerPoints: number;
  readonly explanation: LocalizedText;
}

interface OrderContext {
  readonly orderId: string;
  readonly paymentMethod: PaymentMethod;
  readonly config: EarningConfig;
  readonly premium?: boolean | undefined;
}

/**
 * R9, R10: a line's accrual base, exactly: the (original) line amount times the money-paid share,
 * as numerator / denominator (the line amount). Campaigns (R26) accrue on the same base.
 */
export function accrualBaseOf(
  line: CartLine,
  spentPoints: number,
): { numerator: bigint; denominator: bigint } {
  const amountKop = lineAmountKop(line);
  // R10: only the part of the line paid with money accrues; R21 decided how many points it carries.
  const moneyKop = amountKop - spentPoints * KOPECKS_PER_POINT;
  if (moneyKop < 0) throw new RangeError(`line ${line.lineId} carries more points than its amount`);
  // R9: a discounted item accrues from its original price.
  return {
    numerator: BigInt(originalLineAmountKop(line)) * BigInt(moneyKop),
    denominator: BigInt(amountKop),
  };
}

function accrueLine(line: CartLine, spentPoints: number, order: OrderContext): LineAccrual {
  const amountKop = lineAmountKop(line);
  // R7: the category's base rate.
  const rateBp = rateForCategory(order.config.baseRateBp, line.category);
  // R8: the card bonus applies to the money paid with the marketplace's card, i.e. the same base.
  const cardBp =
    order.paymentMethod === "marketplace_card" ? rateForCategory(order.config.cardBonusBp, line.category) : 0;
  // R28: the Premium extra applies to the same money-paid base as the card bonus.
  const premiumBp = order.premium ? premiumBonusOf(order.config) : 0;
  // The exact base; a free line was paid with no money, so it accrues nothing rather than
  // dividing 0 by 0.
  const { numerator: baseNumerator, denominator: amount } = accrualBaseOf(line, spentPoints);
  const baseKop = amountKop === 0 ? 0 : Number(baseNumerator / amount);
  // R12: base × rate in kopecks of points, computed exactly and floored once.
  const accrue = (bp: number) =>
    amountKop === 0 ? 0 : Number((baseNumerator * BigInt(bp)) / (amount * BigInt(BASIS_POINTS_PER_UNIT)));
  const accrualKop = accrue(rateBp + cardBp + premiumBp);
  const premiumKop = premiumBp === 0 ? 0 : accrualKop - accrue(rateBp + cardBp);
  return {
    lineId: line.lineId,
    baseKop,
    rateBp,
    cardBp,
    premiumBp,
    accrualKop,
    premiumKop,
    explanation: renderLineAccrual(
      order.orderId,
      categoryName(order.config, line.category),
      lineAccrualParams(line.category, baseKop, rateBp, cardBp, accrualKop, premiumBp),
    ),
    seller: sellerPart(line, order.orderId),
  };
}

/** R11: fixed points per unit set by the seller, funded by that seller, explained on their own line. */
function sellerPart(line: CartLine, orderId: string): SellerPart | null {
  const perUnit = line.sellerPointsPerUnit ?? 0;
  if (perUnit === 0) return null;
  const points = perUnit * line.quantity;
  const each = formatNumber(perUnit);
  const total = formatPoints(points);
  return {
    account: `seller:${line.sellerId}`,
    points,
    explanation: {
      ru: `Заказ ${orderId}, баллы от продавца ${line.sellerId}: ${line.quantity} × ${each.ru} — ${total.ru}`,
      en: `Order ${orderId}, points from seller ${line.sellerId}: ${line.quantity} × ${each.en} — ${total.en}`,
    },
  };
}

function spentPointsByLine(input: AccrualInput): (line: CartLine) => number {
  if (input.allocation === undefined) return () => 0;
  const byLine = new Map(input.allocation.map((share) => [share.lineId, share.total]));
  return (line) => {
    const spent = byLine.get(line.lineId);
    if (spent === undefined) throw new RangeError(`the allocation has no share for line ${line.lineId}`);
    return spent;
  };
}

/** R7-R12: what an order earns, per line and in all. */
export function computeAccrual(input: AccrualInput): OrderAccrual {
  const spentOn = spentPointsByLine(input);
  const lines = input.lines.map((line) => accrueLine(line, spentOn(line), input));
  const accrualKop = lines.reduce((sum, line) => sum + line.accrualKop, 0);
  // R12: the order's accrual is the lines' sum rounded down to whole points, never up.
  const points = pointsFromKop(accrualKop);
  const sellerPoints = lines.reduce((sum, line) => sum + (line.seller?.points ?? 0), 0);
  const premiumKop = lines.reduce((sum, line) => sum + line.premiumKop, 0);
  const earned = formatPoints(points);
  const fromSellers = formatPoints(sellerPoints);
  return {
    orderId: input.orderId,
    lines,
    accrualKop,
    points,
    premiumKop,
    // R12, R28: the order's points less what they would be without the extra, both floored once.
    premiumPoints: points - pointsFromKop(accrualKop - premiumKop),
    sellerPoints,
    explanation: {
      ru: `Заказ ${input.orderId}: ${earned.ru} за покупку${sellerPoints > 0 ? `, ещё ${fromSellers.ru} от продавцов` : ""}`,
      en: `Order ${input.orderId}: ${earned.en} for the purchase${sellerPoints > 0 ? `, plus ${fromSellers.en} from sellers` : ""}`,
    },
  };
}
