import type { PointKind } from "../kinds.js";
import { dateEn, dateRu, formatPoints } from "../text.js";
import type { CreditSource, Explanation } from "./types.js";

/** R33: every movement carries an explanation a customer can read, in Russian and English. */

const KIND_NAMES: Record<PointKind, Explanation> = {
  bonus: { ru: "бонусные баллы", en: "bonus points" },
  savings: { ru: "баллы за накопительный счёт", en: "savings points" },
  referral: { ru: "баллы программы менеджеров", en: "referral points" },
};

const SOURCE_NAMES: Record<CreditSource, Explanation> = {
  purchase: { ru: "за покупку", en: "for a purchase" },
  seller: { ru: "от продавца", en: "from the seller" },
  review: { ru: "за отзыв", en: "for a review" },
  friend_invite: { ru: "за приглашение друга", en: "for inviting a friend" },
  campaign: { ru: "по акции", en: "from a campaign" },
  savings_interest: { ru: "проценты по накопительному счёту", en: "savings account interest" },
  manager_programme: { ru: "по программе менеджеров", en: "from the manager programme" },
  adjustment: { ru: "корректировка службы поддержки", en: "support adjustment" },
  refund_grace: { ru: "возврат списанных баллов", en: "refund of spent points" },
};

/**
 * The order lifecycle names an order's holds and redemptions `<orderId>:<kind>`; customers know the
 * order, so explanations show the order id alone.
 */
function orderOf(spendId: string): string {
  return spendId.replace(/:(bonus|savings|referral)$/, "");
}

function withReference(text: Explanation, reference: string | null): Explanation {
  if (!reference) return text;
  return { ru: `${text.ru} (${reference})`, en: `${text.en} (${reference})` };
}

export function explainCredit(
  amount: number,
  source: CreditSource,
  pendingUntil: Date | null,
  expiresAt: Date,
  reference: string | null,
): Explanation {
  const ru = pendingUntil
    ? `Начислено ${formatPoints(amount).ru} ${SOURCE_NAMES[source].ru}, станут доступны ${dateRu(pendingUntil)}`
    : `Начислено ${formatPoints(amount).ru} ${SOURCE_NAMES[source].ru}, сгорят ${dateRu(expiresAt)}`;
  const en = pendingUntil
    ? `${formatPoints(amount).en} credited ${SOURCE_NAMES[source].en}, available from ${dateEn(pendingUntil)}`
    : `${formatPoints(amount).en} credited ${SOURCE_NAMES[source].en}, expire on ${dateEn(expiresAt)}`;
  return withReference({ ru, en }, reference);
}

export function explainMadeAvailable(amount: number, expiresAt: Date, reference: string | null): Explanation {
  return withReference(
    {
      ru: `${formatPoints(amount).ru} стали доступны, сгорят ${dateRu(expiresAt)}`,
      en: `${formatPoints(amount).en} became available, expire on ${dateEn(expiresAt)}`,
    },
    reference,
  );
}

export function explainDebtOffset(amount: number, debtLeft: number): Explanation {
  return {
    ru: `${formatPoints(amount).ru} зачтено в счёт долга по возвратам; осталось долга: ${formatPoints(debtLeft).ru}`,
    en: `${formatPoints(amount).en} offset against the debt from returns; debt left: ${formatPoints(debtLeft).en}`,
  };
}

export function explainHold(amount: number, kind: PointKind, holdId: string, expiresAt: Date): Explanation {
  const order = orderOf(holdId);
  return {
    ru: `${formatPoints(amount).ru} (${KIND_NAMES[kind].ru}) зарезервировано для заказа ${order} до ${expiresAt.toISOString().slice(11, 16)} UTC`,
    en: `${formatPoints(amount).en} (${KIND_NAMES[kind].en}) reserved for order ${order} until ${expiresAt.toISOString().slice(11, 16)} UTC`,
  };
}

export function explainCapture(amount: number, holdId: string): Explanation {
  return {
    ru: `${formatPoints(amount).ru} списано в оплату заказа ${orderOf(holdId)}`,
    en: `${formatPoints(amount).en} spent on order ${orderOf(holdId)}`,
  };
}

export function explainRelease(amount: number, holdId: string, timedOut: boolean): Explanation {
  const order = orderOf(holdId);
  return timedOut
    ? {
        ru: `Резерв ${formatPoints(amount).ru} для заказа ${order} снят: заказ не оплачен вовремя`,
        en: `Reservation of ${formatPoints(amount).en} for order ${order} released: the order was not paid in time`,
      }
    : {
        ru: `Резерв ${formatPoints(amount).ru} для заказа ${order} снят`,
        en: `Reservation of ${formatPoints(amount).en} for order ${order} released`,
      };
}

export function explainSpend(amount: number, redemptionId: string): Explanation {
  return explainCapture(amount, redemptionId);
}

export function explainExpire(amount: number, expiredAt: Date): Explanation {
  return {
    ru: `Сгорело ${formatPoints(amount).ru}: срок действия истёк ${dateRu(expiredAt)}`,
    en: `${formatPoints(amount).en} expired on ${dateEn(expiredAt)}`,
  };
}

export function explainClawback(
  cancelledPending: number,
  clawedBack: number,
  shortfall: number,
  reference: string | null,
  lines?: Explanation,
): Explanation {
  const ru = [`Возврат товара: отменено ${formatPoints(cancelledPending + clawedBack + shortfall).ru}`];
  const en = [`Goods returned: ${formatPoints(cancelledPending + clawedBack + shortfall).en} taken back`];
  if (shortfall > 0) {
    ru.push(`не хватило ${formatPoints(shortfall).ru} — это долг, он будет зачтён при следующих начислениях`);
    en.push(`${formatPoints(shortfall).en} short — recorded as a debt to be offset against future credits`);
  }
  return withLines(withReference({ ru: ru.join("; "), en: en.join("; ") }, reference), lines);
}

/** Appends a per-line breakdown (R33) below a movement's own sentence. */
function withLines(text: Explanation, lines: Explanation | undefined): Explanation {
  return lines ? { ru: `${text.ru}\n${lines.ru}`, en: `${text.en}\n${lines.en}` } : text;
}

export function explainRefund(
  amount: number,
  redemptionId: string,
  graceUntil: Date | null,
  lines?: Explanation,
): Explanation {
  const order = orderOf(redemptionId);
  const text = graceUntil
    ? {
        ru: `Возвращено ${formatPoints(amount).ru} за заказ ${order}; их срок истёк, поэтому они действуют до ${dateRu(graceUntil)}`,
        en: `${formatPoints(amount).en} refunded for order ${order}; their term had passed, so they now expire on ${dateEn(graceUntil)}`,
      }
    : {
        ru: `Возвращено ${formatPoints(amount).ru} за заказ ${order} с прежним сроком действия`,
        en: `${formatPoints(amount).en} refunded for order ${order} with their original expiry`,
      };
  return withLines(text, lines);
}

export function explainAdjustment(amount: number, reason: string): Explanation {
  return amount > 0
    ? {
        ru: `Начислено ${formatPoints(amount).ru} службой поддержки: ${reason}`,
        en: `${formatPoints(amount).en} added by support: ${reason}`,
      }
    : {
        ru: `Списано ${formatPoints(-amount).ru} службой поддержки: ${reason}`,
        en: `${formatPoints(-amount).en} deducted by support: ${reason}`,
      };
}
