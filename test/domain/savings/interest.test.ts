import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explainSavingsInterest } from "../../../src/domain/ledger/explain.js";
import { renderExplanation } from "../../../src/domain/ledger/index.js";
import { DEFAULT_PROGRAMME_CONFIG, validateProgrammeConfig } from "../../../src/domain/orders/index.js";
import {
  averageBalance,
  balanceDays,
  calendarMonth,
  interestSchedule,
  monthContaining,
  monthlyInterest,
  type SavingsEntry,
} from "../../../src/domain/savings/index.js";
import { assertProperty } from "../../support/property.js";

const MOSCOW = "Europe/Moscow";
const RUB = 100;

function deposit(amountRub: number, at: string): SavingsEntry {
  return { entryId: at, type: "deposit", amount: amountRub * RUB, occurredAt: new Date(at) };
}
function withdrawal(amountRub: number, at: string): SavingsEntry {
  return { entryId: at, type: "withdrawal", amount: amountRub * RUB, occurredAt: new Date(at) };
}

/**
 * The month's end-of-day balances one day at a time, as a person would count them: the balance at
 * the instant each local day ends (the next local midnight, found from the month's own start and
 * the offset Europe/Moscow has had since 2014, UTC+3). An independent model of `balanceDays`.
 */
function endOfDayBalancesMoscow(opening: number, entries: SavingsEntry[], month: string): number[] {
  const { start, days } = calendarMonth(month, MOSCOW);
  return Array.from({ length: days }, (_, d) => {
    const endOfDay = start.getTime() + (d + 1) * 86_400_000;
    return entries
      .filter((e) => e.occurredAt.getTime() < endOfDay)
      .reduce((sum, e) => sum + (e.type === "deposit" ? e.amount : -e.amount), opening);
  });
}

describe("R25 savings interest, pure", () => {
  it("W9 (R25): 50,000 kept a month at 12% pays 500 points, whatever the month's length (28-31 days)", () => {
    for (const [month, days] of [
      ["2026-02", 28],
      ["2028-02", 29],
      ["2026-11", 30],
      ["2026-12", 31],
    ] as const) {
      const m = calendarMonth(month, MOSCOW);
      expect(m.days).toBe(days);
      const sum = balanceDays(50_000 * RUB, [], m, MOSCOW);
      expect(sum).toBe(BigInt(50_000 * RUB * days));
      expect(monthlyInterest(sum, m.days, 1200)).toBe(500);
    }
  });

  it("W9 (R25): a 30-day month with 50,000 for 15 days and 20,000 for the other 15 averages 35,000 and pays 350", () => {
    const november = calendarMonth("2026-11", MOSCOW);
    // 30,000 withdrawn on 16 November, Moscow time: the end of the 16th already holds 20,000.
    const entries = [withdrawal(30_000, "2026-11-16T09:00:00Z")];
    const sum = balanceDays(50_000 * RUB, entries, november, MOSCOW);
    expect(averageBalance(sum, november.days)).toBe(35_000 * RUB);
    expect(monthlyInterest(sum, november.days, 1200)).toBe(350);
  });

  it("the same split in a 28-day and a 31-day month: half and half averages 35,000 → 350", () => {
    const february = calendarMonth("2026-02", MOSCOW);
    const feb = balanceDays(50_000 * RUB, [withdrawal(30_000, "2026-02-15T09:00:00Z")], february, MOSCOW);
    expect(monthlyInterest(feb, 28, 1200)).toBe(350);
    // 31 days: 50,000 for 16, 20,000 for 15 → average 35,483.87 → 354 points (floor once).
    const december = calendarMonth("2026-12", MOSCOW);
    const dec = balanceDays(50_000 * RUB, [withdrawal(30_000, "2026-12-17T09:00:00Z")], december, MOSCOW);
    expect(averageBalance(dec, 31)).toBe(3_548_387);
    expect(monthlyInterest(dec, 31, 1200)).toBe(354);
  });

  it("months begin at midnight Moscow time: November 2026 runs from 31 Oct 21:00 UTC to 30 Nov 21:00 UTC", () => {
    const m = calendarMonth("2026-11", MOSCOW);
    expect(m.start.toISOString()).toBe("2026-10-31T21:00:00.000Z");
    expect(m.end.toISOString()).toBe("2026-11-30T21:00:00.000Z");
    expect(monthContaining(new Date("2026-10-31T21:30:00Z"), MOSCOW).month).toBe("2026-11");
    expect(monthContaining(new Date("2026-10-31T20:59:59Z"), MOSCOW).month).toBe("2026-10");
    // A zone with summer time: Berlin's March has a 23-hour day and still 31 days.
    const march = calendarMonth("2026-03", "Europe/Berlin");
    expect(march.start.toISOString()).toBe("2026-02-28T23:00:00.000Z");
    expect(march.end.toISOString()).toBe("2026-03-31T22:00:00.000Z");
  });

  it("a deposit at 23:30 UTC counts for the next Moscow day (02:30 there)", () => {
    const november = calendarMonth("2026-11", MOSCOW);
    // 23:30 UTC on 15 November is 02:30 on the 16th in Moscow: it counts from the 16th, 15 days.
    const late = balanceDays(0, [deposit(30_000, "2026-11-15T23:30:00Z")], november, MOSCOW);
    expect(late).toBe(BigInt(30_000 * RUB * 15));
    // An hour earlier (23:30 in Moscow on the 15th) it counts from the 15th: 16 days.
    const early = balanceDays(0, [deposit(30_000, "2026-11-15T20:30:00Z")], november, MOSCOW);
    expect(early).toBe(BigInt(30_000 * RUB * 16));
  });

  it("the calculator: 50,000 at 12% for 12 months pays 500 a month, 6,000 in all", () => {
    const schedule = interestSchedule(50_000 * RUB, 1200, 12);
    expect(schedule.months.map((m) => m.points)).toEqual(Array(12).fill(500));
    expect(schedule.months.at(-1)?.total).toBe(6_000);
    expect(schedule.total).toBe(6_000);
  });

  it("explains itself in Russian and English (R33)", () => {
    const text = renderExplanation(explainSavingsInterest("2026-11", 35_000 * RUB, 1200, 350), {
      categoryNames: () => ({ ru: "", en: "" }),
      timeZone: MOSCOW,
    });
    expect(text).toEqual({
      ru: "Проценты на остаток за ноябрь: средний остаток 35 000 ₽ × 12% / 12 — 350 баллов",
      en: "Interest for November: average balance 35,000 RUB × 12% / 12 — 350 points",
    });
  });

  it("the programme's rate defaults to 12% and must lie within 0-18%", () => {
    expect(DEFAULT_PROGRAMME_CONFIG.savings?.annualRateBp).toBe(1200);
    const withRate = (annualRateBp: number) => ({ ...DEFAULT_PROGRAMME_CONFIG, savings: { annualRateBp } });
    expect(validateProgrammeConfig(withRate(1800))).toEqual([]);
    expect(validateProgrammeConfig(withRate(0))).toEqual([]);
    for (const bad of [1801, -1, 12.5]) {
      expect(validateProgrammeConfig(withRate(bad)).map((p) => p.field)).toEqual(["savings.annualRateBp"]);
    }
  });

  it("property: the interest is the formula floored once, never more than average × rate / 12", () => {
    const months = fc.constantFrom("2026-02", "2028-02", "2026-04", "2026-11", "2026-12", "2027-01");
    const entry = fc.record({
      type: fc.constantFrom("deposit" as const, "withdrawal" as const),
      amount: fc.integer({ min: 1, max: 1_000_000_000 }),
      offsetMs: fc.integer({ min: 0, max: 31 * 86_400_000 - 1 }),
    });
    assertProperty(
      fc.property(
        months,
        fc.integer({ min: 0, max: 5_000_000_000 }),
        fc.array(entry, { maxLength: 12 }),
        fc.integer({ min: 0, max: 1800 }),
        (month, opening, raw, rateBp) => {
          const m = calendarMonth(month, MOSCOW);
          const span = m.end.getTime() - m.start.getTime();
          const entries: SavingsEntry[] = raw.map((e, i) => ({
            entryId: String(i),
            type: e.type,
            amount: e.amount,
            occurredAt: new Date(m.start.getTime() + (e.offsetMs % span)),
          }));
          const sum = balanceDays(opening, entries, m, MOSCOW);
          const daily = endOfDayBalancesMoscow(opening, entries, month);
          expect(sum).toBe(daily.reduce((a, b) => a + BigInt(b), 0n));
          const points = monthlyInterest(sum, m.days, rateBp);
          expect(Number.isInteger(points)).toBe(true);
          expect(points).toBeGreaterThanOrEqual(0);
          // points ≤ average × rate / 12 exactly, in integers: points × days × 100 × 10 000 × 12 ≤ Σ × rate.
          const scale = BigInt(m.days) * 100n * 10_000n * 12n;
          if (sum > 0n) {
            expect(BigInt(points) * scale <= sum * BigInt(rateBp)).toBe(true);
            // …and floored once: one point more would exceed it.
            expect((BigInt(points) + 1n) * scale > sum * BigInt(rateBp)).toBe(true);
          } else {
            expect(points).toBe(0);
          }
        },
      ),
    );
  });
});
