import { MAX_AMOUNT } from "../kinds.js";
import { checkIntegerRange, checkNonEmptyString, type Problem } from "./problems.js";

/** One line of a cart or order: `quantity` units of one product from one seller. */
export interface CartLine {
  readonly lineId: string;
  readonly sku: string;
  readonly sellerId: string;
  /** A category code such as `books`; unknown codes take the default rates. */
  readonly category: string;
  readonly quantity: number;
  /** The price actually charged per unit, kopecks. */
  readonly unitPriceKop: number;
  /** The price before a promotion, kopecks; set only for discounted items. */
  readonly originalUnitPriceKop?: number;
  /** Fixed points per unit set by the seller. */
  readonly sellerPointsPerUnit?: number;
}

/**
 * How the money part of an order is paid; only the marketplace's own card earns the card bonus (R8),
 * and only money from the customer's savings account earns savings cashback (R25, for customers whose
 * mechanic is cashback).
 */
export type PaymentMethod = "marketplace_card" | "other_card" | "other" | "savings_account";

export const MAX_CART_LINES = 10_000;
export const MAX_LINE_QUANTITY = 100_000;

/*
 * The amounts below are exact for a cart that passed validateCart, which bounds every line amount
 * and the order total (at original prices) by MAX_AMOUNT.
 */

export function lineAmountKop(line: CartLine): number {
  return line.quantity * line.unitPriceKop;
}

/** The amount a line would cost without its promotion; the accrual base of R9. */
export function originalLineAmountKop(line: CartLine): number {
  return line.quantity * (line.originalUnitPriceKop ?? line.unitPriceKop);
}

export function orderTotalKop(lines: readonly CartLine[]): number {
  return lines.reduce((sum, line) => sum + lineAmountKop(line), 0);
}

export function unitCount(lines: readonly CartLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}

/**
 * `quantity × perUnit`, or a problem on `field` when it goes beyond MAX_AMOUNT. A product already
 * reported counts as 0 in the order's sums, so one bad line is not reported twice.
 */
function checkedProduct(problems: Problem[], field: string, quantity: number, perUnit: number): bigint {
  const product = BigInt(quantity) * BigInt(perUnit);
  if (product <= BigInt(MAX_AMOUNT)) return product;
  problems.push({ field, message: `must not exceed ${MAX_AMOUNT}` });
  return 0n;
}

interface LineSums {
  readonly originalAmount: bigint;
  readonly sellerPoints: bigint;
}

function validateLine(problems: Problem[], line: CartLine, path: string): LineSums {
  checkNonEmptyString(problems, `${path}.lineId`, line.lineId);
  checkNonEmptyString(problems, `${path}.sku`, line.sku);
  checkNonEmptyString(problems, `${path}.sellerId`, line.sellerId);
  checkNonEmptyString(problems, `${path}.category`, line.category);
  const quantityOk = checkIntegerRange(problems, `${path}.quantity`, line.quantity, 1, MAX_LINE_QUANTITY);
  const priceOk = checkIntegerRange(problems, `${path}.unitPriceKop`, line.unitPriceKop, 0, MAX_AMOUNT);
  let originalOk = true;
  if (line.originalUnitPriceKop !== undefined) {
    originalOk = checkIntegerRange(
      problems,
      `${path}.originalUnitPriceKop`,
      line.originalUnitPriceKop,
      0,
      MAX_AMOUNT,
    );
    if (originalOk && priceOk && line.originalUnitPriceKop < line.unitPriceKop) {
      problems.push({ field: `${path}.originalUnitPriceKop`, message: "must not be below unitPriceKop" });
      originalOk = false;
    }
  }
  let sellerOk = true;
  if (line.sellerPointsPerUnit !== undefined) {
    sellerOk = checkIntegerRange(
      problems,
      `${path}.sellerPointsPerUnit`,
      line.sellerPointsPerUnit,
      0,
      MAX_AMOUNT,
    );
  }
  if (!quantityOk) return { originalAmount: 0n, sellerPoints: 0n };
  return {
    originalAmount:
      priceOk && originalOk
        ? checkedProduct(
            problems,
            `${path}.amount`,
            line.quantity,
            line.originalUnitPriceKop ?? line.unitPriceKop,
          )
        : 0n,
    sellerPoints: sellerOk
      ? checkedProduct(problems, `${path}.sellerPoints`, line.quantity, line.sellerPointsPerUnit ?? 0)
      : 0n,
  };
}

/** Every problem with a cart; an empty list means the arithmetic in this module is exact for it. */
export function validateCart(lines: readonly CartLine[]): Problem[] {
  if (lines.length === 0) return [{ field: "lines", message: "the cart is empty" }];
  if (lines.length > MAX_CART_LINES) {
    return [{ field: "lines", message: `a cart holds at most ${MAX_CART_LINES} lines` }];
  }
  const problems: Problem[] = [];
  const firstIndexById = new Map<string, number>();
  let originalTotal = 0n;
  let sellerPointsTotal = 0n;
  lines.forEach((line, index) => {
    const path = `lines[${index}]`;
    const sums = validateLine(problems, line, path);
    originalTotal += sums.originalAmount;
    sellerPointsTotal += sums.sellerPoints;
    const first = firstIndexById.get(line.lineId);
    if (first === undefined) firstIndexById.set(line.lineId, index);
    else problems.push({ field: `${path}.lineId`, message: `duplicates lines[${first}].lineId` });
  });
  // The total at original prices bounds the order total and every accrual base, so all sums of
  // amounts in checkout stay exact numbers.
  if (originalTotal > BigInt(MAX_AMOUNT)) {
    problems.push({ field: "lines", message: `the order total must not exceed ${MAX_AMOUNT} kopecks` });
  }
  if (sellerPointsTotal > BigInt(MAX_AMOUNT)) {
    problems.push({ field: "lines", message: `seller points must not exceed ${MAX_AMOUNT} in all` });
  }
  return problems;
}
