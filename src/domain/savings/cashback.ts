import { type KindPoints, mulDivFloor, pointsFromKop, totalPoints } from "../checkout/index.js";
import { BASIS_POINTS_PER_UNIT, KOPECKS_PER_POINT } from "../kinds.js";

/**
 * R25, the variant: instead of monthly interest, a customer may earn cashback — a percentage of the
 * money paid from the savings account for purchases, as `savings` points. Which of the two a customer
 * gets is a per-customer setting (the mechanic), interest by default. Cashback follows the order
 * lifecycle of purchase accruals (R13): credited pending when units ship, available after the pending
 * delay, taken back in proportion when units come back.
 *
 * The arithmetic is R12's: each line's cashback is computed exactly in integer kopecks of points and
 * rounded down, shipments and returns take cumulative floors of that line total (so any split of a line
 * into shipments and returns never rounds up), and the order's points are its net kopecks rounded down
 * to whole points. Hence an order's cashback never exceeds ⌊money paid × rate⌋ in points.
 */

/** R25: the cashback rate when the programme says nothing, basis points of the money paid (3%). */
export const DEFAULT_SAVINGS_CASHBACK_BP = 300;
/** R25: the highest cashback rate a programme version may set, basis points (10%). */
export const MAX_SAVINGS_CASHBACK_BP = 1_000;

/** R25: what a customer's savings account earns: monthly interest (the default) or purchase cashback. */
export const SAVINGS_MECHANICS = ["interest", "cashback"] as const;
export type SavingsMechanic = (typeof SAVINGS_MECHANICS)[number];
export const DEFAULT_SAVINGS_MECHANIC: SavingsMechanic = "interest";

/** What of an order line the cashback is computed from. */
export interface CashbackLine {
  readonly quantity: number;
  readonly unitPriceKop: number;
  /** R21: the points spent on the order that this line carries: those kopecks were not money. */
  readonly spent: KindPoints;
  readonly shippedQuantity: number;
  readonly returnedQuantity: number;
}

/** The money a line was paid with, kopecks: its amount at the price charged, less the points spent on it. */
export function lineMoneyKop(line: Pick<CashbackLine, "quantity" | "unitPriceKop" | "spent">): number {
  return line.quantity * line.unitPriceKop - totalPoints(line.spent) * KOPECKS_PER_POINT;
}

/** The cashback of a whole line, kopecks of points: ⌊money × rate⌋, exact. */
export function lineCashbackKop(
  line: Pick<CashbackLine, "quantity" | "unitPriceKop" | "spent">,
  rateBp: number,
) {
  return mulDivFloor(lineMoneyKop(line), rateBp, BASIS_POINTS_PER_UNIT);
}

/** The share of `amount` that `units` of `quantity` carry, rounded down: a cumulative floor. */
function shareOf(amount: number, units: number, quantity: number): number {
  return mulDivFloor(amount, units, quantity);
}

/**
 * R25: the order's cashback, kopecks of points, for what has shipped and not come back: per line
 * ⌊line cashback × shipped / quantity⌋ − ⌊line cashback × returned / quantity⌋.
 */
export function netCashbackKop(lines: readonly CashbackLine[], rateBp: number): number {
  return lines.reduce((sum, line) => {
    const whole = lineCashbackKop(line, rateBp);
    return (
      sum +
      shareOf(whole, line.shippedQuantity, line.quantity) -
      shareOf(whole, line.returnedQuantity, line.quantity)
    );
  }, 0);
}

/** R25: the order's cashback in whole points for what has shipped and not come back (R12: rounded down). */
export function cashbackPoints(lines: readonly CashbackLine[], rateBp: number): number {
  return pointsFromKop(netCashbackKop(lines, rateBp));
}

/** R25: what the whole order would earn if every unit shipped (shown when it is placed). */
export function expectedCashbackPoints(lines: readonly CashbackLine[], rateBp: number): number {
  return cashbackPoints(
    lines.map((l) => ({ ...l, shippedQuantity: l.quantity, returnedQuantity: 0 })),
    rateBp,
  );
}

/** The money of the units shipped so far, kopecks (cumulative floors): what a shipment's cashback is of. */
export function shippedMoneyKop(lines: readonly CashbackLine[]): number {
  return lines.reduce(
    (sum, line) => sum + shareOf(lineMoneyKop(line), line.shippedQuantity, line.quantity),
    0,
  );
}
