import { instantOnWallClock, wallClock } from "../text.js";

/**
 * R25: the savings account's interest. The marketplace reports money deposited and withdrawn (in
 * kopecks); a month pays floor(average end-of-day balance × yearly rate / 12) `savings` points, one
 * point per rouble. "End of day" is midnight in the operator's time zone, and the month is a calendar
 * month there (28-31 days). Everything is integer arithmetic: the month's balance-days (Σ end-of-day
 * balance over its days, in kopeck-days) are a BigInt, and the one division that rounds is the last
 * one, floor, once: points = ⌊balanceDays × rateBp / (days × 100 kop × 10 000 bp × 12)⌋. The average
 * a customer reads is rounded down to the kopeck for display only; it never feeds the points.
 */

/** R25: the yearly rate when the programme says nothing, in basis points (12%). */
export const DEFAULT_SAVINGS_RATE_BP = 1200;
/** R25: the highest yearly rate allowed, in basis points (18%). */
export const MAX_SAVINGS_RATE_BP = 1800;

export type SavingsEntryType = "deposit" | "withdrawal";

/** A deposit or withdrawal as the marketplace reported it. */
export interface SavingsEntry {
  entryId: string;
  type: SavingsEntryType;
  /** Kopecks, > 0. */
  amount: number;
  occurredAt: Date;
}

/** A calendar month in a time zone: `YYYY-MM`, its first instant, the first instant after it, its days. */
export interface CalendarMonth {
  month: string;
  start: Date;
  end: Date;
  days: number;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** The instant a local date's midnight is in a zone. */
function localMidnight(year: number, month: number, day: number, timeZone: string): Date {
  return instantOnWallClock({ year, month, day, hour: 0, minute: 0 }, timeZone);
}

/** The calendar month `YYYY-MM` in a time zone. */
export function calendarMonth(month: string, timeZone: string): CalendarMonth {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) throw new Error(`not a month: ${month}`);
  const year = Number(match[1]);
  const m = Number(match[2]);
  const next = m === 12 ? { year: year + 1, m: 1 } : { year, m: m + 1 };
  return {
    month,
    start: localMidnight(year, m, 1, timeZone),
    end: localMidnight(next.year, next.m, 1, timeZone),
    days: new Date(Date.UTC(year, m, 0)).getUTCDate(),
  };
}

/** The calendar month an instant falls in, in a time zone. */
export function monthContaining(instant: Date, timeZone: string): CalendarMonth {
  const w = wallClock(instant, timeZone);
  return calendarMonth(`${w.year}-${pad(w.month)}`, timeZone);
}

/** The month before `month`. */
export function previousMonth(month: string): string {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return m === 1 ? `${year - 1}-12` : `${year}-${pad(m - 1)}`;
}

/** A month as a number (year × 12 + month − 1): the slot a month's run is claimed under. */
export function monthSlot(month: string): number {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return year * 12 + m - 1;
}

/** Which day of its month (1-31) an instant is in a time zone. */
export function dayOfMonth(instant: Date, timeZone: string): number {
  return wallClock(instant, timeZone).day;
}

function signed(entry: Pick<SavingsEntry, "type" | "amount">): bigint {
  return entry.type === "deposit" ? BigInt(entry.amount) : -BigInt(entry.amount);
}

/**
 * R25: Σ end-of-day balance over the month's days 1..`throughDay` (default: all of them), in
 * kopeck-days. `opening` is the balance at the month's start; `entries` are those of the month
 * (start ≤ occurredAt < end), any order. An entry on local day d counts at the end of day d and of
 * every day after it: a deposit at 23:30 UTC is on the next day in Moscow, and counts from then.
 */
export function balanceDays(
  opening: number,
  entries: readonly Pick<SavingsEntry, "type" | "amount" | "occurredAt">[],
  month: CalendarMonth,
  timeZone: string,
  throughDay = month.days,
): bigint {
  let sum = BigInt(opening) * BigInt(throughDay);
  for (const entry of entries) {
    const day = dayOfMonth(entry.occurredAt, timeZone);
    if (day <= throughDay) sum += signed(entry) * BigInt(throughDay - day + 1);
  }
  return sum;
}

const KOPECKS_PER_POINT = 100n;
const BP_PER_UNIT = 10_000n;
const MONTHS_PER_YEAR = 12n;

/**
 * R25: floor(average end-of-day balance × rate / 12) points, with the average taken over all `days`
 * of the month: ⌊balanceDays × rateBp / (days × 100 × 10 000 × 12)⌋, rounded down once, at the end.
 * A month whose balance-days are not positive pays nothing.
 */
export function monthlyInterest(balanceDaysKop: bigint, days: number, rateBp: number): number {
  if (balanceDaysKop <= 0n || rateBp <= 0) return 0;
  const denominator = BigInt(days) * KOPECKS_PER_POINT * BP_PER_UNIT * MONTHS_PER_YEAR;
  return Number((balanceDaysKop * BigInt(rateBp)) / denominator);
}

/** The month's average end-of-day balance in whole kopecks, rounded down: what an explanation shows. */
export function averageBalance(balanceDaysKop: bigint, days: number): number {
  if (balanceDaysKop <= 0n) return 0;
  return Number(balanceDaysKop / BigInt(days));
}

/** The balance after entries, from an opening balance. */
export function balanceAfter(opening: number, entries: readonly Pick<SavingsEntry, "type" | "amount">[]) {
  return entries.reduce((sum, e) => sum + Number(signed(e)), opening);
}

/**
 * R25, late reports: the lowest the balance is at `instant` or at any later instant, given the balance
 * now and the entries that occurred after `instant` (any others are ignored): the balance right after
 * `instant` is today's less what came later, and then it moves by each later entry in time order. A
 * withdrawal reported late may take at most this, so that no balance from its instant on goes below
 * zero; with no later entry it is the balance now.
 */
export function lowestBalanceFrom(
  balance: number,
  entries: readonly Pick<SavingsEntry, "entryId" | "type" | "amount" | "occurredAt">[],
  instant: Date,
): number {
  const later = entries
    .filter((e) => e.occurredAt.getTime() > instant.getTime())
    .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.entryId < b.entryId ? -1 : 1));
  let running = balance - later.reduce((sum, e) => sum + Number(signed(e)), 0);
  let lowest = running;
  for (const e of later) {
    running += Number(signed(e));
    lowest = Math.min(lowest, running);
  }
  return lowest;
}

export interface ScheduleMonth {
  /** 1 for the first month of the term. */
  month: number;
  points: number;
  /** Points paid up to and including this month. */
  total: number;
}

/**
 * R25's calculator: `amount` kopecks kept for `months` months at `rateBp` a year. The balance is
 * constant, so every month's average is the amount whatever its length, and each month pays
 * ⌊amount × rateBp / (100 × 10 000 × 12)⌋. Interest is paid in points, not added to the money, so
 * nothing compounds.
 */
export function interestSchedule(
  amount: number,
  rateBp: number,
  months: number,
): { months: ScheduleMonth[]; total: number } {
  const each = monthlyInterest(BigInt(amount) * 30n, 30, rateBp);
  const schedule = Array.from({ length: months }, (_, i) => ({
    month: i + 1,
    points: each,
    total: each * (i + 1),
  }));
  return { months: schedule, total: each * months };
}
