/** Formatting for customer-facing text in Russian and English (R33). Pure: no Intl locale data needed. */

function groupThousands(digits: string, separator: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

/** Russian plural: 1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл. */
export function pluralRu(n: number, one: string, few: string, many: string): string {
  const abs = Math.abs(n);
  const lastTwo = abs % 100;
  const last = abs % 10;
  if (lastTwo >= 11 && lastTwo <= 14) return many;
  if (last === 1) return one;
  if (last >= 2 && last <= 4) return few;
  return many;
}

export function pointsRu(n: number): string {
  return `${groupThousands(String(n), "\u00a0")} ${pluralRu(n, "балл", "балла", "баллов")}`;
}

export function pointsEn(n: number): string {
  return `${groupThousands(String(n), ",")} ${Math.abs(n) === 1 ? "point" : "points"}`;
}

/** 120000 → "1 200 ₽", 79999 → "799,99 ₽". Kopecks shown only when there are some. */
export function rublesRu(kopecks: number): string {
  const whole = groupThousands(String(Math.trunc(kopecks / 100)), "\u00a0");
  const kop = kopecks % 100;
  return kop === 0 ? `${whole} ₽` : `${whole},${String(kop).padStart(2, "0")} ₽`;
}

/** 120000 → "1,200 RUB", 79999 → "799.99 RUB". */
export function rublesEn(kopecks: number): string {
  const whole = groupThousands(String(Math.trunc(kopecks / 100)), ",");
  const kop = kopecks % 100;
  return kop === 0 ? `${whole} RUB` : `${whole}.${String(kop).padStart(2, "0")} RUB`;
}

/** A calendar date as customers read it: 2026-03-01 → "01.03.2026" / "1 Mar 2026" (UTC). */
export function dateRu(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`;
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function dateEn(d: Date): string {
  return `${d.getUTCDate()} ${MONTHS_EN[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}
