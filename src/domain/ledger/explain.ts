import type { PointKind } from "../kinds.js";
import {
  formatDate,
  formatPercent,
  formatPoints,
  formatPointsFromKop,
  formatRoubles,
  formatTimeOfDay,
  type LocalizedText,
  russianPlural,
} from "../text.js";
import type { CreditSource, Explanation } from "./types.js";

/**
 * R33: every movement carries an explanation a customer can read, in Russian and English. A movement
 * keeps it as a template code and the template's params (numbers, dates as ISO instants, ids); the
 * text is rendered when it is read, so the same params always read the same in the same time zone
 * (dates and times are shown in the operator's, instants are kept in UTC). Params are tuples,
 * labelled below: what is stored is exactly this value as JSON, and without key names in every row
 * it is about 60 bytes smaller (measured on a typical mix of movements).
 */

/** A returned line as clawbacks and refunds list it (R13, R15): units returned of the units ordered. */
export type ReturnedLine = [lineId: string, sku: string, quantity: number, of: number];

/**
 * R7-R12, R28: what one order line earns, as fixed when the order was placed. The Premium extra came
 * later: it is a trailing element present only when above 0, so the tuples stored before it (and
 * those of customers not subscribed) are unchanged and read as they did.
 */
export type LineAccrualParams = [
  category: string,
  baseKop: number,
  rateBp: number,
  cardBp: number,
  accrualKop: number,
  premiumBp?: number,
];

/** A line's params, with the Premium extra only when there is one (see LineAccrualParams). */
export function lineAccrualParams(
  category: string,
  baseKop: number,
  rateBp: number,
  cardBp: number,
  accrualKop: number,
  premiumBp = 0,
): LineAccrualParams {
  const params: LineAccrualParams = [category, baseKop, rateBp, cardBp, accrualKop];
  if (premiumBp > 0) params.push(premiumBp);
  return params;
}

/** R11: units shipped times the seller's points per unit. */
export type SellerUnits = [quantity: number, perUnit: number];

/** The closed list of templates, each with its params. */
export type ExplanationRef =
  /** Text stored before explanations were rendered on read (migration 5 keeps it as it was). */
  | { code: "text"; params: [ru: string, en: string] }
  /** R3, R13: a credit, pending until a date or available until its expiry. */
  | {
      code: "credit";
      params: [
        amount: number,
        source: CreditSource,
        pendingUntil: string | null,
        expiresAt: string,
        reference: string | null,
      ];
    }
  /** R13: pending points became available. */
  | { code: "made_available"; params: [amount: number, expiresAt: string, reference: string | null] }
  /** R14: points that became available paid off debt. */
  | { code: "debt_offset"; params: [amount: number, debtLeft: number] }
  /** R20: points reserved for an order. */
  | { code: "hold"; params: [amount: number, kind: PointKind, holdId: string, expiresAt: string] }
  /** R20: a hold captured, or points spent at once. */
  | { code: "spent"; params: [amount: number, spendId: string] }
  /** R20: a hold released, on request or because the order was not paid in time. */
  | { code: "release"; params: [amount: number, holdId: string, timedOut: boolean] }
  /** R5: breakage. */
  | { code: "expire"; params: [amount: number, expiredAt: string] }
  /** R13, R14: a return takes points back; what was missing is debt. */
  | {
      code: "clawback";
      params: [
        cancelledPending: number,
        clawedBack: number,
        shortfall: number,
        reference: string | null,
        returned: ReturnedLine[],
      ];
    }
  /** R15: spent points come back, with their expiry or a grace one. */
  | {
      code: "refund";
      params: [amount: number, redemptionId: string, graceUntil: string | null, returned: ReturnedLine[]];
    }
  /** R34: support adds (positive) or removes (negative) points with a reason. */
  | { code: "adjust"; params: [amount: number, reason: string] }
  /**
   * R7-R13: an order shipped, with each shipped line's accrual; category names come from the
   * programme version the order was placed under. Lines of orders placed before migration 5 carry
   * the text they were stored with.
   */
  | {
      code: "order_shipped";
      params: [
        orderId: string,
        points: number,
        configVersion: number,
        lines: (LineAccrualParams | LocalizedText)[],
      ];
    }
  /** R11: the points a seller funds for the shipped units of its products. */
  | {
      code: "order_seller_points";
      params: [orderId: string, amount: number, sellerId: string, units: SellerUnits[]];
    }
  /** R25: a month's interest on the savings account: the month (YYYY-MM), average kopecks, rate, points. */
  | {
      code: "savings_interest";
      params: [month: string, averageKop: number, rateBp: number, points: number];
    }
  /** R25, the variant: cashback on an order's shipped units paid from the savings account: money, rate, points. */
  | {
      code: "savings_cashback";
      params: [orderId: string, moneyKop: number, rateBp: number, points: number];
    }
  /** R22: a review's reward, pending until moderation approves the review. */
  | { code: "review_submitted"; params: [amount: number, reviewId: string, sku: string] }
  /** R22: moderation approved the review: its points became available. */
  | { code: "review_approved"; params: [amount: number, reviewId: string, expiresAt: string] }
  /** R22: moderation rejected the review: its pending points are cancelled. */
  | { code: "review_rejected"; params: [amount: number, reviewId: string] }
  /** R23: an invited friend's first order shipped: the inviter's reward, pending until a date. */
  | { code: "invite_reward"; params: [amount: number, orderTotalKop: number, pendingUntil: string] }
  /** R24: a referred order shipped: the manager's points, pending until the month is settled. */
  | {
      code: "referral_credited";
      params: [amount: number, orderId: string, month: string, thresholdKop: number];
    }
  /** R24: the month's own purchases reached the threshold: its referral points became available. */
  | {
      code: "referral_confirmed";
      params: [amount: number, month: string, purchasesKop: number, thresholdKop: number, expiresAt: string];
    }
  /** R24: the month's own purchases fell short of the threshold: its referral points are cancelled. */
  | {
      code: "referral_cancelled";
      params: [amount: number, month: string, purchasesKop: number, thresholdKop: number];
    }
  /** R31: a notice, not a movement: a lot's points expire within a threshold (30 or 7 days). */
  | { code: "expiring_soon"; params: [amount: number, expiresAt: string, thresholdDays: number] }
  /** R26: a campaign's points for an order's shipped units, naming the campaign as it was then. */
  | {
      code: "order_campaign";
      params: [orderId: string, amount: number, campaignId: string, name: LocalizedText];
    };

export type ExplanationCode = ExplanationRef["code"];

/** The display name of a category in a programme version (operators may rename categories). */
export type CategoryNames = (configVersion: number, category: string) => LocalizedText;

/** What explanations are rendered with besides their params. */
export interface ExplanationContext {
  readonly categoryNames: CategoryNames;
  /** The IANA time zone dates and times are shown in: the operator's (KOPILKA_TIME_ZONE). */
  readonly timeZone: string;
}

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
  savings_cashback: { ru: "кешбэк за покупки с накопительного счёта", en: "savings account cashback" },
  manager_programme: { ru: "по программе менеджеров", en: "from the manager programme" },
  adjustment: { ru: "корректировка службы поддержки", en: "support adjustment" },
  refund_grace: { ru: "возврат списанных баллов", en: "refund of spent points" },
};

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

// Builders: what operations record. They only collect params; rendering is below.

export function explainCredit(
  amount: number,
  source: CreditSource,
  pendingUntil: Date | null,
  expiresAt: Date,
  reference: string | null,
): ExplanationRef {
  return { code: "credit", params: [amount, source, iso(pendingUntil), expiresAt.toISOString(), reference] };
}

export function explainMadeAvailable(
  amount: number,
  expiresAt: Date,
  reference: string | null,
): ExplanationRef {
  return { code: "made_available", params: [amount, expiresAt.toISOString(), reference] };
}

export function explainDebtOffset(amount: number, debtLeft: number): ExplanationRef {
  return { code: "debt_offset", params: [amount, debtLeft] };
}

export function explainHold(
  amount: number,
  kind: PointKind,
  holdId: string,
  expiresAt: Date,
): ExplanationRef {
  return { code: "hold", params: [amount, kind, holdId, expiresAt.toISOString()] };
}

export function explainCapture(amount: number, holdId: string): ExplanationRef {
  return { code: "spent", params: [amount, holdId] };
}

export function explainRelease(amount: number, holdId: string, timedOut: boolean): ExplanationRef {
  return { code: "release", params: [amount, holdId, timedOut] };
}

export function explainSpend(amount: number, redemptionId: string): ExplanationRef {
  return explainCapture(amount, redemptionId);
}

export function explainExpire(amount: number, expiredAt: Date): ExplanationRef {
  return { code: "expire", params: [amount, expiredAt.toISOString()] };
}

export function explainClawback(
  cancelledPending: number,
  clawedBack: number,
  shortfall: number,
  reference: string | null,
  returned: ReturnedLine[] = [],
): ExplanationRef {
  return { code: "clawback", params: [cancelledPending, clawedBack, shortfall, reference, returned] };
}

export function explainRefund(
  amount: number,
  redemptionId: string,
  graceUntil: Date | null,
  returned: ReturnedLine[] = [],
): ExplanationRef {
  return { code: "refund", params: [amount, redemptionId, iso(graceUntil), returned] };
}

export function explainAdjustment(amount: number, reason: string): ExplanationRef {
  return { code: "adjust", params: [amount, reason] };
}

export function explainOrderShipped(
  orderId: string,
  points: number,
  configVersion: number,
  lines: (LineAccrualParams | LocalizedText)[],
): ExplanationRef {
  return { code: "order_shipped", params: [orderId, points, configVersion, lines] };
}

export function explainSellerPoints(
  orderId: string,
  amount: number,
  sellerId: string,
  units: SellerUnits[],
): ExplanationRef {
  return { code: "order_seller_points", params: [orderId, amount, sellerId, units] };
}

export function explainCampaignPoints(
  orderId: string,
  amount: number,
  campaignId: string,
  name: LocalizedText,
): ExplanationRef {
  return { code: "order_campaign", params: [orderId, amount, campaignId, name] };
}

export function explainReviewSubmitted(amount: number, reviewId: string, sku: string): ExplanationRef {
  return { code: "review_submitted", params: [amount, reviewId, sku] };
}

export function explainReviewApproved(amount: number, reviewId: string, expiresAt: Date): ExplanationRef {
  return { code: "review_approved", params: [amount, reviewId, expiresAt.toISOString()] };
}

export function explainReviewRejected(amount: number, reviewId: string): ExplanationRef {
  return { code: "review_rejected", params: [amount, reviewId] };
}

/** R25: «Проценты на остаток за ноябрь: средний остаток 35 000 ₽ × 12% / 12 — 350 баллов». */
export function explainSavingsInterest(
  month: string,
  averageKop: number,
  rateBp: number,
  points: number,
): ExplanationRef {
  return { code: "savings_interest", params: [month, averageKop, rateBp, points] };
}

/**
 * R23: «Начислено 300 баллов за приглашённого друга: его первый заказ на 3 500 ₽ отправлен …». The
 * friend is the movement's reference (`invite:<friendId>`), not named in the text.
 */
export function explainInviteReward(
  amount: number,
  orderTotalKop: number,
  pendingUntil: Date,
): ExplanationRef {
  return { code: "invite_reward", params: [amount, orderTotalKop, pendingUntil.toISOString()] };
}

export function explainReferralCredited(
  amount: number,
  orderId: string,
  month: string,
  thresholdKop: number,
): ExplanationRef {
  return { code: "referral_credited", params: [amount, orderId, month, thresholdKop] };
}

export function explainReferralConfirmed(
  amount: number,
  month: string,
  purchasesKop: number,
  thresholdKop: number,
  expiresAt: Date,
): ExplanationRef {
  return {
    code: "referral_confirmed",
    params: [amount, month, purchasesKop, thresholdKop, expiresAt.toISOString()],
  };
}

export function explainReferralCancelled(
  amount: number,
  month: string,
  purchasesKop: number,
  thresholdKop: number,
): ExplanationRef {
  return { code: "referral_cancelled", params: [amount, month, purchasesKop, thresholdKop] };
}

/** R25: «Кешбэк за заказ 7781, оплаченный с накопительного счёта: 3% от 1 200 ₽ — 36 баллов». */
export function explainSavingsCashback(
  orderId: string,
  moneyKop: number,
  rateBp: number,
  points: number,
): ExplanationRef {
  return { code: "savings_cashback", params: [orderId, moneyKop, rateBp, points] };
}

// Rendering.

const MONTH_NAMES: readonly Explanation[] = [
  { ru: "январь", en: "January" },
  { ru: "февраль", en: "February" },
  { ru: "март", en: "March" },
  { ru: "апрель", en: "April" },
  { ru: "май", en: "May" },
  { ru: "июнь", en: "June" },
  { ru: "июль", en: "July" },
  { ru: "август", en: "August" },
  { ru: "сентябрь", en: "September" },
  { ru: "октябрь", en: "October" },
  { ru: "ноябрь", en: "November" },
  { ru: "декабрь", en: "December" },
];

function monthName(month: string): Explanation {
  return MONTH_NAMES[Number(month.slice(5, 7)) - 1] ?? { ru: month, en: month };
}

/** «за ноябрь 2026» / "for November 2026": the month names a referral decision is about. */
function monthOf(month: string): Explanation {
  const name = monthName(month);
  return { ru: `${name.ru} ${month.slice(0, 4)}`, en: `${name.en} ${month.slice(0, 4)}` };
}

/**
 * The lifecycle names an order's holds and redemptions `<orderId>:<kind>`; customers know the
 * order, so explanations show the order id alone.
 */
function orderOf(spendId: string): string {
  return spendId.replace(/:(bonus|savings|referral)$/, "");
}

function withReference(text: Explanation, reference: string | null): Explanation {
  if (!reference) return text;
  return { ru: `${text.ru} (${reference})`, en: `${text.en} (${reference})` };
}

/** Appends lines (R33: a per-line breakdown) below a movement's own sentence. */
function withLines(text: Explanation, lines: Explanation[]): Explanation {
  return {
    ru: [text.ru, ...lines.map((l) => l.ru)].join("\n"),
    en: [text.en, ...lines.map((l) => l.en)].join("\n"),
  };
}

function returnedLine([lineId, sku, quantity, of]: ReturnedLine): Explanation {
  return {
    ru: `Возврат: строка ${lineId} (${sku}), ${quantity} из ${of} шт.`,
    en: `Returned: line ${lineId} (${sku}), ${quantity} of ${of} units`,
  };
}

/**
 * R33: «Заказ 7781, «Книги» 5% от 1 200 ₽ — 60 баллов»: one line's accrual (R7-R12), with the card
 * bonus (R8) and the Premium extra (R28, «+ 1% Премиум») when the line has them.
 */
export function renderLineAccrual(
  orderId: string,
  name: LocalizedText,
  [, baseKop, rateBp, cardBp, accrualKop, premiumBp = 0]: LineAccrualParams,
): Explanation {
  const rate = formatPercent(rateBp);
  const card = formatPercent(cardBp);
  const premium = formatPercent(premiumBp);
  const base = formatRoubles(baseKop);
  const points = formatPointsFromKop(accrualKop);
  const withCard = cardBp > 0;
  const withPremium = premiumBp > 0;
  return {
    ru: `Заказ ${orderId}, «${name.ru}» ${rate.ru}${withCard ? ` + ${card.ru} по карте` : ""}${withPremium ? ` + ${premium.ru} Премиум` : ""} от ${base.ru} — ${points.ru}`,
    en: `Order ${orderId}, ${name.en} ${rate.en}${withCard ? ` + ${card.en} card bonus` : ""}${withPremium ? ` + ${premium.en} Premium` : ""} of ${base.en} — ${points.en}`,
  };
}

type Params<C extends ExplanationCode> = Extract<ExplanationRef, { code: C }>["params"];

/** One renderer per code: adding a code without its text does not compile. */
const TEMPLATES: {
  [C in ExplanationCode]: (params: Params<C>, context: ExplanationContext) => Explanation;
} = {
  text: ([ru, en]) => ({ ru, en }),
  credit: ([amount, source, pendingUntil, expiresAt, reference], { timeZone }) => {
    const points = formatPoints(amount);
    const from = SOURCE_NAMES[source];
    // A pending credit says when it becomes available, an available one when it expires.
    const date = formatDate(new Date(pendingUntil ?? expiresAt), timeZone);
    const text = pendingUntil
      ? {
          ru: `Начислено ${points.ru} ${from.ru}, станут доступны ${date.ru}`,
          en: `${points.en} credited ${from.en}, available from ${date.en}`,
        }
      : {
          ru: `Начислено ${points.ru} ${from.ru}, сгорят ${date.ru}`,
          en: `${points.en} credited ${from.en}, expire on ${date.en}`,
        };
    return withReference(text, reference);
  },
  made_available: ([amount, expiresAt, reference], { timeZone }) => {
    const date = formatDate(new Date(expiresAt), timeZone);
    return withReference(
      {
        ru: `${formatPoints(amount).ru} стали доступны, сгорят ${date.ru}`,
        en: `${formatPoints(amount).en} became available, expire on ${date.en}`,
      },
      reference,
    );
  },
  debt_offset: ([amount, debtLeft]) => ({
    ru: `${formatPoints(amount).ru} зачтено в счёт долга по возвратам; осталось долга: ${formatPoints(debtLeft).ru}`,
    en: `${formatPoints(amount).en} offset against the debt from returns; debt left: ${formatPoints(debtLeft).en}`,
  }),
  hold: ([amount, kind, holdId, expiresAt], { timeZone }) => {
    const until = formatTimeOfDay(new Date(expiresAt), timeZone);
    return {
      ru: `${formatPoints(amount).ru} (${KIND_NAMES[kind].ru}) зарезервировано для заказа ${orderOf(holdId)} до ${until}`,
      en: `${formatPoints(amount).en} (${KIND_NAMES[kind].en}) reserved for order ${orderOf(holdId)} until ${until}`,
    };
  },
  spent: ([amount, spendId]) => ({
    ru: `${formatPoints(amount).ru} списано в оплату заказа ${orderOf(spendId)}`,
    en: `${formatPoints(amount).en} spent on order ${orderOf(spendId)}`,
  }),
  release: ([amount, holdId, timedOut]) => {
    const [points, order] = [formatPoints(amount), orderOf(holdId)];
    return timedOut
      ? {
          ru: `Резерв ${points.ru} для заказа ${order} снят: заказ не оплачен вовремя`,
          en: `Reservation of ${points.en} for order ${order} released: the order was not paid in time`,
        }
      : {
          ru: `Резерв ${points.ru} для заказа ${order} снят`,
          en: `Reservation of ${points.en} for order ${order} released`,
        };
  },
  expire: ([amount, expiredAt], { timeZone }) => {
    const date = formatDate(new Date(expiredAt), timeZone);
    return {
      ru: `Сгорело ${formatPoints(amount).ru}: срок действия истёк ${date.ru}`,
      en: `${formatPoints(amount).en} expired on ${date.en}`,
    };
  },
  clawback: ([cancelledPending, clawedBack, shortfall, reference, returned]) => {
    const total = formatPoints(cancelledPending + clawedBack + shortfall);
    const ru = [`Возврат товара: отменено ${total.ru}`];
    const en = [`Goods returned: ${total.en} taken back`];
    if (shortfall > 0) {
      ru.push(
        `не хватило ${formatPoints(shortfall).ru} — это долг, он будет зачтён при следующих начислениях`,
      );
      en.push(`${formatPoints(shortfall).en} short — recorded as a debt to be offset against future credits`);
    }
    return withLines(
      withReference({ ru: ru.join("; "), en: en.join("; ") }, reference),
      returned.map(returnedLine),
    );
  },
  refund: ([amount, redemptionId, graceUntil, returned], { timeZone }) => {
    const [points, order] = [formatPoints(amount), orderOf(redemptionId)];
    const grace = graceUntil ? formatDate(new Date(graceUntil), timeZone) : null;
    const text = grace
      ? {
          ru: `Возвращено ${points.ru} за заказ ${order}; их срок истёк, поэтому они действуют до ${grace.ru}`,
          en: `${points.en} refunded for order ${order}; their term had passed, so they now expire on ${grace.en}`,
        }
      : {
          ru: `Возвращено ${points.ru} за заказ ${order} с прежним сроком действия`,
          en: `${points.en} refunded for order ${order} with their original expiry`,
        };
    return withLines(text, returned.map(returnedLine));
  },
  adjust: ([amount, reason]) =>
    amount > 0
      ? {
          ru: `Начислено ${formatPoints(amount).ru} службой поддержки: ${reason}`,
          en: `${formatPoints(amount).en} added by support: ${reason}`,
        }
      : {
          ru: `Списано ${formatPoints(-amount).ru} службой поддержки: ${reason}`,
          en: `${formatPoints(-amount).en} deducted by support: ${reason}`,
        },
  order_shipped: ([orderId, points, configVersion, lines], { categoryNames }) =>
    withLines(
      {
        ru: `Заказ ${orderId} отправлен: ${formatPoints(points).ru} за покупку`,
        en: `Order ${orderId} shipped: ${formatPoints(points).en} for the purchase`,
      },
      lines.map((line) =>
        Array.isArray(line) ? renderLineAccrual(orderId, categoryNames(configVersion, line[0]), line) : line,
      ),
    ),
  order_seller_points: ([orderId, amount, sellerId, units]) => {
    const each = units.map(([quantity, perUnit]) => `${quantity} × ${perUnit}`).join(", ");
    return {
      ru: `Заказ ${orderId}: ${formatPoints(amount).ru} от продавца ${sellerId} (${each})`,
      en: `Order ${orderId}: ${formatPoints(amount).en} from seller ${sellerId} (${each})`,
    };
  },
  savings_interest: ([month, averageKop, rateBp, points]) => {
    const name = monthName(month);
    const average = formatRoubles(averageKop);
    const rate = formatPercent(rateBp);
    return {
      ru: `Проценты на остаток за ${name.ru}: средний остаток ${average.ru} × ${rate.ru} / 12 — ${formatPoints(points).ru}`,
      en: `Interest for ${name.en}: average balance ${average.en} × ${rate.en} / 12 — ${formatPoints(points).en}`,
    };
  },
  savings_cashback: ([orderId, moneyKop, rateBp, points]) => {
    const [money, rate] = [formatRoubles(moneyKop), formatPercent(rateBp)];
    return {
      ru: `Кешбэк за заказ ${orderId}, оплаченный с накопительного счёта: ${rate.ru} от ${money.ru} — ${formatPoints(points).ru}`,
      en: `Cashback for order ${orderId}, paid from the savings account: ${rate.en} of ${money.en} — ${formatPoints(points).en}`,
    };
  },
  review_submitted: ([amount, reviewId, sku]) => ({
    ru: `Начислено ${formatPoints(amount).ru} за отзыв ${reviewId} о товаре ${sku}: станут доступны после проверки отзыва`,
    en: `${formatPoints(amount).en} credited for review ${reviewId} of ${sku}: available once the review is approved`,
  }),
  review_approved: ([amount, reviewId, expiresAt], { timeZone }) => {
    const date = formatDate(new Date(expiresAt), timeZone);
    return {
      ru: `Отзыв ${reviewId} одобрен: ${formatPoints(amount).ru} стали доступны, сгорят ${date.ru}`,
      en: `Review ${reviewId} approved: ${formatPoints(amount).en} became available, expire on ${date.en}`,
    };
  },
  review_rejected: ([amount, reviewId]) => ({
    ru: `Отзыв ${reviewId} отклонён при проверке: ${formatPoints(amount).ru} за него отменены`,
    en: `Review ${reviewId} rejected by moderation: its ${formatPoints(amount).en} are cancelled`,
  }),
  invite_reward: ([amount, orderTotalKop, pendingUntil], { timeZone }) => {
    const date = formatDate(new Date(pendingUntil), timeZone);
    const total = formatRoubles(orderTotalKop);
    return {
      ru: `Начислено ${formatPoints(amount).ru} за приглашённого друга: его первый заказ на ${total.ru} отправлен; станут доступны ${date.ru}`,
      en: `${formatPoints(amount).en} credited for inviting a friend: their first order of ${total.en} shipped; available from ${date.en}`,
    };
  },
  referral_credited: ([amount, orderId, month, thresholdKop]) => {
    const [name, threshold] = [monthOf(month), formatRoubles(thresholdKop)];
    return {
      ru: `Начислено ${formatPoints(amount).ru} по вашему промокоду за заказ ${orderId}: станут доступны после окончания месяца (${name.ru}), если ваши покупки за месяц составят не меньше ${threshold.ru}`,
      en: `${formatPoints(amount).en} credited for order ${orderId} placed with your promo code: available once ${name.en} ends if your own purchases that month reach ${threshold.en}`,
    };
  },
  referral_confirmed: ([amount, month, purchasesKop, thresholdKop, expiresAt], { timeZone }) => {
    const [name, purchases, threshold] = [
      monthOf(month),
      formatRoubles(purchasesKop),
      formatRoubles(thresholdKop),
    ];
    const date = formatDate(new Date(expiresAt), timeZone);
    return {
      ru: `Ваши покупки за ${name.ru} — ${purchases.ru} (нужно не меньше ${threshold.ru}): ${formatPoints(amount).ru} по промокоду стали доступны, сгорят ${date.ru}`,
      en: `Your own purchases in ${name.en} came to ${purchases.en} (at least ${threshold.en} needed): ${formatPoints(amount).en} from your promo code became available, expire on ${date.en}`,
    };
  },
  referral_cancelled: ([amount, month, purchasesKop, thresholdKop]) => {
    const [name, purchases, threshold] = [
      monthOf(month),
      formatRoubles(purchasesKop),
      formatRoubles(thresholdKop),
    ];
    return {
      ru: `Ваши покупки за ${name.ru} — ${purchases.ru}, меньше ${threshold.ru}: ${formatPoints(amount).ru} по промокоду отменены`,
      en: `Your own purchases in ${name.en} came to ${purchases.en}, less than ${threshold.en}: ${formatPoints(amount).en} from your promo code are cancelled`,
    };
  },
  expiring_soon: ([amount, expiresAt, thresholdDays], { timeZone }) => {
    const date = formatDate(new Date(expiresAt), timeZone);
    const days = russianPlural(thresholdDays, "день", "дня", "дней");
    return {
      ru: `${formatPoints(amount).ru} сгорят ${date.ru}, меньше чем через ${thresholdDays} ${days}: потратьте их до этого дня`,
      en: `${formatPoints(amount).en} expire on ${date.en}, in less than ${thresholdDays} ${thresholdDays === 1 ? "day" : "days"}: spend them before then`,
    };
  },
  order_campaign: ([orderId, amount, , name]) => ({
    ru: `Заказ ${orderId}: ${formatPoints(amount).ru} по акции «${name.ru}»`,
    en: `Order ${orderId}: ${formatPoints(amount).en} from the campaign "${name.en}"`,
  }),
};

/** R33: the text of an explanation, in Russian and English. */
export function renderExplanation(ref: ExplanationRef, context: ExplanationContext): Explanation {
  const template = TEMPLATES[ref.code] as (
    params: ExplanationRef["params"],
    context: ExplanationContext,
  ) => Explanation;
  return template(ref.params, context);
}
