import { calendarMonth, monthContaining } from "../savings/index.js";

/**
 * The calendar months finance reports are kept by: `YYYY-MM` in the operator's time zone
 * (KOPILKA_TIME_ZONE, Europe/Moscow by default), as every "month" of the rules is.
 */

/** The most months one report spans: ten years. */
export const MAX_REPORT_MONTHS = 120;

/** R3 points expire a year after they become available: the forecast looks that far ahead. */
export const FORECAST_MONTHS = 12;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

function ordinal(month: string): number {
  const match = MONTH.exec(month);
  if (!match) throw new Error(`not a month: ${month}`);
  return Number(match[1]) * 12 + Number(match[2]) - 1;
}

function monthOfOrdinal(n: number): string {
  return `${String(Math.floor(n / 12)).padStart(4, "0")}-${String((n % 12) + 1).padStart(2, "0")}`;
}

/** The month `n` months after `month` (`2026-12` + 1 = `2027-01`). */
export function addMonths(month: string, n: number): string {
  return monthOfOrdinal(ordinal(month) + n);
}

/** A run of whole months and the instants it spans: [start, end), its months in order. */
export interface MonthSpan {
  readonly months: readonly string[];
  readonly start: Date;
  readonly end: Date;
}

function span(first: string, count: number, timeZone: string): MonthSpan {
  const months = Array.from({ length: count }, (_, i) => addMonths(first, i));
  return {
    months,
    start: calendarMonth(first, timeZone).start,
    end: calendarMonth(months[months.length - 1] ?? first, timeZone).end,
  };
}

/**
 * The months from `from` through `to`, both included; a refusal names `to` when it is before
 * `from` or more than MAX_REPORT_MONTHS away.
 */
export function monthsFromTo(
  from: string,
  to: string,
  timeZone: string,
): { ok: true; span: MonthSpan } | { ok: false; message: string } {
  const count = ordinal(to) - ordinal(from) + 1;
  if (count < 1) return { ok: false, message: `must not be before from (${from})` };
  if (count > MAX_REPORT_MONTHS) {
    return {
      ok: false,
      message: `must be at most ${MAX_REPORT_MONTHS} months from ${from} (it is ${count})`,
    };
  }
  return { ok: true, span: span(from, count, timeZone) };
}

/** The month `now` is in and the ones after it, FORECAST_MONTHS in all. */
export function forecastMonths(now: Date, timeZone: string): MonthSpan {
  return span(monthContaining(now, timeZone).month, FORECAST_MONTHS, timeZone);
}
