import type { Problem } from "../checkout/problems.js";

/**
 * R28: Premium subscription periods as the marketplace reports them. A period covers the instants
 * from startsAt (inclusive) to endsAt (exclusive); periods may overlap, and the customer is Premium
 * at an instant when any period covers it.
 */
export interface PremiumPeriod {
  readonly periodId: string;
  /** 1 when first reported; each correction (other dates under the same id) is the next version. */
  readonly version: number;
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Who reported this version (the API key), and when. */
  readonly recordedBy: string;
  readonly recordedAt: Date;
}

/** An interval of the customer's coverage: [startsAt, endsAt). */
export interface PremiumInterval {
  readonly startsAt: Date;
  readonly endsAt: Date;
}

/** What a report asks: a period's dates. */
export interface PremiumPeriodDates {
  readonly startsAt: Date;
  readonly endsAt: Date;
}

/** Every problem with a report's dates, by field; none: it can be recorded. */
export function validatePeriodDates(dates: PremiumPeriodDates): Problem[] {
  if (dates.endsAt.getTime() > dates.startsAt.getTime()) return [];
  return [
    { field: "body.endsAt", message: "must be after startsAt (a period ends where the next instant starts)" },
  ];
}

/**
 * A report of a period: the same dates as the version in force change nothing (it is answered as it
 * is); other dates are the next version (a correction, audited by the caller).
 */
export function reportPeriod(
  current: PremiumPeriod | undefined,
  report: PremiumPeriodDates & { periodId: string; actor: string; at: Date },
): { changed: false; period: PremiumPeriod } | { changed: true; period: PremiumPeriod } {
  if (
    current &&
    current.startsAt.getTime() === report.startsAt.getTime() &&
    current.endsAt.getTime() === report.endsAt.getTime()
  )
    return { changed: false, period: current };
  return {
    changed: true,
    period: {
      periodId: report.periodId,
      version: (current?.version ?? 0) + 1,
      startsAt: report.startsAt,
      endsAt: report.endsAt,
      recordedBy: report.actor,
      recordedAt: report.at,
    },
  };
}

/**
 * The union of periods as disjoint intervals in time order; periods that overlap or touch (one ends
 * where the next starts) are one interval, since no instant between them is left uncovered.
 */
export function coverageOf(periods: Iterable<PremiumPeriodDates>): PremiumInterval[] {
  const sorted = [...periods].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  const merged: { startsAt: Date; endsAt: Date }[] = [];
  for (const p of sorted) {
    const last = merged[merged.length - 1];
    if (last && p.startsAt.getTime() <= last.endsAt.getTime()) {
      if (p.endsAt.getTime() > last.endsAt.getTime()) last.endsAt = p.endsAt;
    } else {
      merged.push({ startsAt: p.startsAt, endsAt: p.endsAt });
    }
  }
  return merged;
}

/** The interval covering `at`, if any: start inclusive, end exclusive. */
export function intervalAt(coverage: readonly PremiumInterval[], at: Date): PremiumInterval | undefined {
  const t = at.getTime();
  return coverage.find((i) => i.startsAt.getTime() <= t && t < i.endsAt.getTime());
}
