/** R33: everything a customer or operator reads is given in Russian and English. */
export interface LocalizedText {
  readonly ru: string;
  readonly en: string;
}

export type Language = keyof LocalizedText;

/*
 * Russian groups thousands with a space (R33 writes «1 200 ₽» with a regular space, so we do too)
 * and uses a decimal comma; English uses commas and a decimal point.
 */
const SEPARATORS: Record<Language, { group: string; decimal: string }> = {
  ru: { group: " ", decimal: "," },
  en: { group: ",", decimal: "." },
};

function groupThousands(digits: string, separator: string): string {
  return digits.replace(/\B(?=(\d{3})+$)/g, separator);
}

/**
 * An integer count of hundredths (kopecks, or basis points of a percent) as a decimal string.
 * The fraction is left out when it is zero; `trimFraction` also drops a trailing zero (2,5%).
 */
function formatHundredths(hundredths: number, language: Language, trimFraction = false): string {
  const sign = hundredths < 0 ? "-" : "";
  const digits = String(Math.abs(hundredths)).padStart(3, "0");
  const whole = groupThousands(digits.slice(0, -2).replace(/^0+(?=\d)/, ""), SEPARATORS[language].group);
  const cents = digits.slice(-2);
  if (cents === "00") return `${sign}${whole}`;
  const fraction = trimFraction ? cents.replace(/0$/, "") : cents;
  return `${sign}${whole}${SEPARATORS[language].decimal}${fraction}`;
}

function formatCount(count: number, language: Language): string {
  return groupThousands(String(count), SEPARATORS[language].group);
}

/** An amount of money: «1 200 ₽», «799,99 ₽» / "1,200 RUB", "799.99 RUB". */
export function formatRoubles(kop: number): LocalizedText {
  return { ru: `${formatHundredths(kop, "ru")} ₽`, en: `${formatHundredths(kop, "en")} RUB` };
}

/** A rate in basis points: 500 → «5%», 250 → «2,5%» / "2.5%". */
export function formatPercent(bp: number): LocalizedText {
  return { ru: `${formatHundredths(bp, "ru", true)}%`, en: `${formatHundredths(bp, "en", true)}%` };
}

/** A bare number of points without a noun, grouped: «49 500» / "49,500". */
export function formatNumber(count: number): LocalizedText {
  return { ru: formatCount(count, "ru"), en: formatCount(count, "en") };
}

/** Picks the Russian noun form for an integer: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл. */
export function russianPlural(count: number, one: string, few: string, many: string): string {
  const lastTwo = Math.abs(count) % 100;
  const last = lastTwo % 10;
  if (lastTwo >= 11 && lastTwo <= 14) return many;
  if (last === 1) return one;
  if (last >= 2 && last <= 4) return few;
  return many;
}

/** Whole points with the noun: «1 балл», «60 баллов» / "1 point", "60 points". */
export function formatPoints(points: number): LocalizedText {
  return {
    ru: `${formatCount(points, "ru")} ${russianPlural(points, "балл", "балла", "баллов")}`,
    en: `${formatCount(points, "en")} ${points === 1 ? "point" : "points"}`,
  };
}

/**
 * Points given in kopecks of points, as a line's accrual is (R12): «60 баллов», «7,99 балла» /
 * "7.99 points". A fractional number takes the genitive singular in Russian.
 */
export function formatPointsFromKop(kop: number): LocalizedText {
  if (kop % 100 === 0) return formatPoints(kop / 100);
  return { ru: `${formatHundredths(kop, "ru")} балла`, en: `${formatHundredths(kop, "en")} points` };
}

/** An instant's date and time of day on the wall clocks of a time zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/*
 * Intl only reads the clock in the zone; the texts are assembled here, so that they do not change
 * with the ICU version Node ships (en-GB abbreviates September "Sept" in recent ones). Building a
 * formatter costs far more than using one, and a history page shows many dates: one per zone.
 */
const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

export function wallClock(instant: Date, timeZone: string): WallClock {
  let format = wallClockFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    wallClockFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: field("year"),
    month: field("month"),
    day: field("day"),
    hour: field("hour"),
    minute: field("minute"),
  };
}

/** Milliseconds the zone's wall clock is ahead of UTC at `instant` (whole minutes). */
function zoneOffsetMs(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - Math.floor(instant.getTime() / 60_000) * 60_000;
}

/**
 * The instant a zone's wall clocks show a date and time (the inverse of `wallClock`): two passes
 * settle a change of offset between the guess and the answer. `ms` counts from the wall's minute.
 */
export function instantOnWallClock(
  wall: { year: number; month: number; day: number; hour: number; minute: number; ms?: number },
  timeZone: string,
): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) + (wall.ms ?? 0);
  let t = asUtc - zoneOffsetMs(new Date(asUtc), timeZone);
  t = asUtc - zoneOffsetMs(new Date(t), timeZone);
  return new Date(t);
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const twoDigits = (n: number) => String(n).padStart(2, "0");

/**
 * The calendar date of an instant in an IANA time zone, as customers there read it:
 * 2026-03-01T23:30Z in Europe/Moscow → «02.03.2026» / "2 Mar 2026".
 */
export function formatDate(instant: Date, timeZone: string): LocalizedText {
  const { year, month, day } = wallClock(instant, timeZone);
  return {
    ru: `${twoDigits(day)}.${twoDigits(month)}.${year}`,
    en: `${day} ${MONTHS_EN[month - 1]} ${year}`,
  };
}

/** The time of day of an instant in an IANA time zone, 24-hour, the same in both languages: "02:30". */
export function formatTimeOfDay(instant: Date, timeZone: string): string {
  const { hour, minute } = wallClock(instant, timeZone);
  return `${twoDigits(hour)}:${twoDigits(minute)}`;
}
