/**
 * R24 manager programme: a manager's promo code earns it `referral` points on other customers'
 * orders, pending until the calendar month ends and kept only if the manager's own purchases that
 * month reach a threshold. Every number here is a default an operator changes in the programme
 * configuration (`managers`).
 */
export interface ManagerPolicy {
  /** R24: referral points per order: this share of the money paid for its shipped units, basis points. Default 500 (5%). */
  readonly referralRateBp: number;
  /** R24: the manager's own purchases in the month must reach this (inclusive), kopecks. Default 250,000 (2,500 RUB). */
  readonly ownPurchasesThresholdKop: number;
}

export const DEFAULT_MANAGER_POLICY: ManagerPolicy = {
  referralRateBp: 500,
  ownPurchasesThresholdKop: 250_000,
};

export const MAX_REFERRAL_RATE_BP = 10_000;

/** R24: a customer's manager status, granted and revoked by an operator. */
export interface Manager {
  readonly customerId: string;
  readonly promoCode: string;
  status: "active" | "revoked";
  readonly grantedBy: string;
  readonly grantedAt: Date;
  revokedBy: string | null;
  revokedAt: Date | null;
}

/**
 * R24, the buyer's side: an order placed with a promo code. `counted`: it earns the manager points;
 * `own_code`: the manager's own order, which earns nothing; `manager_revoked`: the code's owner was
 * no longer a manager when the order was placed.
 */
export interface ReferredOrder {
  readonly orderId: string;
  readonly managerId: string;
  readonly promoCode: string;
  readonly status: "counted" | "own_code" | "manager_revoked";
  /** The referral rate of the programme version the order was placed under. */
  readonly rateBp: number;
  /** The referral points its shipped and not returned units earn, as last sent to the manager. */
  points: number;
  /** The instant its first units shipped (a snapshot is sent only once some have). */
  firstShippedAt: Date | null;
  seq: number;
}

/** What the buyer's work tells the manager's: the order's referral points as they stand after change `seq`. */
export interface ReferralEffect {
  readonly type: "referral";
  readonly seq: number;
  readonly buyerId: string;
  readonly orderId: string;
  readonly points: number;
  readonly firstShippedAt: string;
  /** When the order was placed: its calendar month is the one the manager's points wait for (W10). */
  readonly placedAt: string;
}

/** R24, the manager's side: one referred order, in the month it was placed in. */
export interface ManagerReferral {
  readonly buyerId: string;
  readonly orderId: string;
  /** YYYY-MM in the operator's time zone. */
  readonly month: string;
  /** The referral lots credited for it, oldest first. */
  lotIds: string[];
  /** The points it holds as last applied. */
  points: number;
  appliedSeq: number;
}

/** R24: one (manager, month), decided once at month end. */
export interface ManagerMonth {
  readonly month: string;
  /** Money paid on own orders placed that month, net of cancellations and returns known before it is settled. */
  purchasesKop: number;
  /** Referral points of the month still pending or, once settled, made available. */
  referralPoints: number;
  settledAt: Date | null;
  qualified: boolean | null;
  thresholdKop: number | null;
}

export const MANAGER_REFUSAL_CODES = [
  "PROMO_CODE_NOT_FOUND",
  "PROMO_CODE_TAKEN",
  "MANAGER_CODE_FIXED",
  "MANAGER_NOT_FOUND",
] as const;

export function validateManagerPolicy(policy: ManagerPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const rate = policy.referralRateBp;
  if (!Number.isInteger(rate) || rate < 0 || rate > MAX_REFERRAL_RATE_BP)
    problems.push({
      field: "referralRateBp",
      message: `must be a whole number from 0 to ${MAX_REFERRAL_RATE_BP}`,
    });
  const threshold = policy.ownPurchasesThresholdKop;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 100_000_000_00)
    problems.push({ field: "ownPurchasesThresholdKop", message: "must be a whole number of kopecks from 0" });
  return problems;
}

/** R24, R33: why a referred order earns its manager what it does, for the order's page. */
export function referralStatusText(referred: ReferredOrder): { ru: string; en: string } {
  switch (referred.status) {
    case "own_code":
      return {
        ru: `Заказ оформлен с собственным промокодом менеджера ${referred.promoCode}: баллы за него не начисляются`,
        en: `Placed with the manager's own promo code ${referred.promoCode}: it earns nothing`,
      };
    case "manager_revoked":
      return {
        ru: `Владелец промокода ${referred.promoCode} не был менеджером, когда заказ оформили: баллы не начисляются`,
        en: `The owner of promo code ${referred.promoCode} was not a manager when the order was placed: it earns nothing`,
      };
    case "counted":
      return {
        ru: `Промокод ${referred.promoCode}: менеджер получает ${referred.rateBp / 100}% от оплаченного деньгами за отправленные и не возвращённые товары — сейчас ${referred.points}`,
        en: `Promo code ${referred.promoCode}: the manager earns ${referred.rateBp / 100}% of the money paid for units shipped and kept — ${referred.points} so far`,
      };
  }
}
