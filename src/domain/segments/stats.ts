import { lineAmountKop } from "../checkout/cart.js";
import type { Order } from "../orders/index.js";
import { wallClock } from "../text.js";

/**
 * R29: the statistics segments are defined over, per customer, kept from the customer's own order
 * events in the same work (migration 19 `customer_order_days`, one row per customer and day with
 * orders, changed by adding: a placed order adds itself to the day it was placed on, a cancellation
 * takes it off again). Read over the last 90 days only (at most 90 rows, whatever the history), with
 * the balance cache and the Premium coverage:
 *
 * - `orders30`, `orders90`: orders placed in the last 30 / 90 days — today and the 29 / 89 days
 *   before it, as days in the operator's time zone — less those cancelled;
 * - `aov90Kop`: their average value, kopecks at the prices charged (before points), rounded down;
 *   0 without orders;
 * - `usesCard`: one of them was paid with the marketplace's card (R8);
 * - `usesSavingsAccount`: one of them was paid from the savings account, or the customer holds
 *   savings points (R25);
 * - `premium`: a Premium subscriber now (R28);
 * - `balancePoints`: the points available now, all kinds together.
 *
 * Returns do not take an order back out: it was placed, and its value was what it was.
 */
export interface CustomerStats {
  readonly aov90Kop: number;
  readonly orders30: number;
  readonly orders90: number;
  readonly usesCard: boolean;
  readonly usesSavingsAccount: boolean;
  readonly premium: boolean;
  readonly balancePoints: number;
}

/** One day's orders of a customer, or a change to them (signed). */
export interface OrderDay {
  /** The day in the operator's time zone, YYYY-MM-DD. */
  readonly day: string;
  readonly orders: number;
  readonly totalKop: number;
  readonly cardOrders: number;
  readonly savingsOrders: number;
}

export const STATS_WINDOW_DAYS = 90;

/** The operator's calendar day an instant falls on, YYYY-MM-DD. */
export function dayOf(instant: Date, timeZone: string): string {
  const w = wallClock(instant, timeZone);
  return `${String(w.year).padStart(4, "0")}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** `day` moved by `days` (calendar arithmetic on the date alone). */
export function addCalendarDays(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The first day of the window of `days` days that ends today. */
export function windowStart(today: string, days: number): string {
  return addCalendarDays(today, 1 - days);
}

function orderDay(order: Order, timeZone: string, sign: 1 | -1): OrderDay {
  const totalKop = order.lines.reduce((sum, l) => sum + lineAmountKop(l), 0);
  return {
    day: dayOf(order.placedAt, timeZone),
    orders: sign,
    totalKop: sign * totalKop,
    cardOrders: order.paymentMethod === "marketplace_card" ? sign : 0,
    savingsOrders: order.paymentMethod === "savings_account" ? sign : 0,
  };
}

const counts = (order: Order | undefined) => order !== undefined && order.state !== "cancelled";

/** R29: what an order's events (the order before them, and after) change in the customer's days. */
export function orderDayDelta(before: Order | undefined, after: Order, timeZone: string): OrderDay | null {
  const was = counts(before);
  const is = counts(after);
  if (was === is) return null;
  return orderDay(after, timeZone, is ? 1 : -1);
}

/** R29: the statistics from the customer's days (any, older ones are left out) on `today`. */
export function customerStats(
  days: readonly OrderDay[],
  today: string,
  facts: { premium: boolean; balancePoints: number; holdsSavings: boolean },
): CustomerStats {
  const from90 = windowStart(today, STATS_WINDOW_DAYS);
  const from30 = windowStart(today, 30);
  let orders90 = 0;
  let orders30 = 0;
  let totalKop = 0;
  let card = 0;
  let savings = 0;
  for (const d of days) {
    if (d.day < from90 || d.day > today) continue;
    orders90 += d.orders;
    totalKop += d.totalKop;
    card += d.cardOrders;
    savings += d.savingsOrders;
    if (d.day >= from30) orders30 += d.orders;
  }
  return {
    aov90Kop: orders90 > 0 ? Math.floor(totalKop / orders90) : 0,
    orders30,
    orders90,
    usesCard: card > 0,
    usesSavingsAccount: savings > 0 || facts.holdsSavings,
    premium: facts.premium,
    balancePoints: facts.balancePoints,
  };
}
