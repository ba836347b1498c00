import type { PointKind } from "../kinds.js";
import { formatNumber, formatPoints, formatRoubles, type LocalizedText } from "../text.js";

/** R33: the customer-facing words for the quote's reasons and for refused spends. */

export const KIND_NAMES: Readonly<Record<PointKind, LocalizedText>> = {
  bonus: { ru: "Бонусные баллы", en: "Bonus points" },
  savings: { ru: "Баллы накопительного счёта", en: "Savings points" },
  referral: { ru: "Реферальные баллы", en: "Referral points" },
};

export type CapReasonCode =
  | "EMPTY_CART"
  | "ZERO_BALANCE"
  | "BALANCE"
  | "KIND_CAP"
  | "SHARED_CAP"
  | "MIN_MONEY_PER_UNIT";

export interface CapReasonNumbers {
  readonly kind: PointKind;
  readonly code: CapReasonCode;
  /** Points of this kind in the best combination. */
  readonly points: number;
  readonly balance: number;
  /** The kind's own cap (R16-R18), whole points. */
  readonly capPoints: number;
  /** Points already taken by the kinds applied before this one (stricter caps). */
  readonly usedByStricterKinds: number;
  /** The most all kinds together may pay (R19), whole points. */
  readonly spendablePoints: number;
  /** R17, R19: money each unit must still be paid with, kopecks. */
  readonly minMoneyPerUnitKop: number;
}

export function capReasonText(reason: CapReasonNumbers): LocalizedText {
  const name = KIND_NAMES[reason.kind];
  const taken = formatPoints(reason.points);
  const balance = formatNumber(reason.balance);
  const used = formatNumber(reason.usedByStricterKinds);
  const cap = formatNumber(reason.capPoints);
  const money = formatRoubles(reason.minMoneyPerUnitKop);
  switch (reason.code) {
    case "EMPTY_CART":
      return {
        ru: `${name.ru}: корзина пуста, оплачивать баллами нечего`,
        en: `${name.en}: the cart is empty, there is nothing to pay with points`,
      };
    case "ZERO_BALANCE":
      return {
        ru: `${name.ru}: на балансе нет баллов`,
        en: `${name.en}: there are no points on the balance`,
      };
    case "BALANCE":
      return {
        ru: `${name.ru}: ${taken.ru} — весь баланс`,
        en: `${name.en}: ${taken.en} — the whole balance`,
      };
    case "KIND_CAP":
      return {
        ru: `${name.ru}: ${taken.ru} из ${balance.ru} — больше этими баллами оплатить заказ нельзя`,
        en: `${name.en}: ${taken.en} of ${balance.en} — the most these points may pay for this order`,
      };
    case "SHARED_CAP":
      return {
        ru: `${name.ru}: ${taken.ru} из ${balance.ru} — вместе с баллами с более строгим лимитом (${used.ru}) не больше ${cap.ru}`,
        en: `${name.en}: ${taken.en} of ${balance.en} — together with points under stricter caps (${used.en}) at most ${cap.en}`,
      };
    case "MIN_MONEY_PER_UNIT":
      return {
        ru: `${name.ru}: ${taken.ru} из ${balance.ru} — каждую единицу товара нужно оплатить хотя бы ${money.ru} деньгами`,
        en: `${name.en}: ${taken.en} of ${balance.en} — every unit must still be paid at least ${money.en} in money`,
      };
  }
}

export type SpendRefusalCode = "INSUFFICIENT_POINTS" | "CAP_EXCEEDED";

export interface SpendRefusalDetails {
  /** The kinds whose requested points were added up and checked against `limit`. */
  readonly kinds: readonly PointKind[];
  readonly requested: number;
  readonly limit: number;
}

/**
 * `kind` is the kind whose limit was broken, or null for the limit on all points together (R19).
 */
export function refusalText(
  code: SpendRefusalCode,
  kind: PointKind | null,
  details: SpendRefusalDetails,
  minMoneyPerUnitKop: number,
): LocalizedText {
  const requested = formatPoints(details.requested);
  const limit = formatNumber(details.limit);
  if (kind === null) {
    const money = formatRoubles(minMoneyPerUnitKop);
    return {
      ru: `Всего запрошено ${requested.ru}, а можно не больше ${limit.ru}: каждую единицу товара нужно оплатить хотя бы ${money.ru} деньгами`,
      en: `${requested.en} requested in all, but at most ${limit.en} is allowed: every unit must still be paid at least ${money.en} in money`,
    };
  }
  const names = {
    ru: details.kinds.map((k) => KIND_NAMES[k].ru).join(" + "),
    en: details.kinds.map((k) => KIND_NAMES[k].en).join(" + "),
  };
  if (code === "INSUFFICIENT_POINTS") {
    return {
      ru: `${names.ru}: запрошено ${requested.ru}, а на балансе ${limit.ru}`,
      en: `${names.en}: ${requested.en} requested, but the balance is ${limit.en}`,
    };
  }
  return details.kinds.length === 1
    ? {
        ru: `${names.ru}: запрошено ${requested.ru}, а оплатить ими можно не больше ${limit.ru}`,
        en: `${names.en}: ${requested.en} requested, but they may pay at most ${limit.en}`,
      }
    : {
        ru: `${names.ru}: вместе запрошено ${requested.ru}, а можно не больше ${limit.ru}`,
        en: `${names.en}: ${requested.en} requested together, but at most ${limit.en} is allowed`,
      };
}
