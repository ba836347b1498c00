import type { PaymentMethod } from "../checkout/cart.js";
import { checkIntegerRange, checkNonEmptyString, type Problem } from "../checkout/problems.js";
import { MAX_AMOUNT } from "../kinds.js";
import type { LocalizedText } from "../text.js";

/**
 * R26: a campaign, as an operator or a seller defines it: when and for what it applies
 * (conditions), what it adds (its effect), whether it stacks with others, and its points budget.
 */

export const PAYMENT_METHODS: readonly PaymentMethod[] = [
  "marketplace_card",
  "other_card",
  "other",
  "savings_account",
];

/** What a campaign adds to the accrual of the lines or orders it matches. */
export type CampaignEffect =
  /** The category rate multiplied: ×2 is 20,000 bp; what it adds is (multiplier − 1) × rate. */
  | { readonly type: "rate_multiplier"; readonly multiplierBp: number }
  /** An extra rate on the matching lines' accrual base (R9, R10), in bp. */
  | { readonly type: "extra_rate"; readonly rateBp: number }
  /** Fixed points per order with a matching line ("+200 from 5,000 RUB": with the minimum total). */
  | { readonly type: "order_points"; readonly points: number }
  /** Fixed points per matching unit. */
  | { readonly type: "unit_points"; readonly pointsPerUnit: number };

export interface CampaignConditions {
  /** The window, instants: from `startsAt` (inclusive) to `endsAt` (exclusive). */
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Lines must be in one of these (any when absent). */
  readonly categories: readonly string[] | null;
  readonly sellers: readonly string[] | null;
  readonly skus: readonly string[] | null;
  /** The order's total at the prices charged must be at least this (inclusive), kopecks. */
  readonly minOrderTotalKop: number;
  readonly paymentMethods: readonly PaymentMethod[] | null;
  /** R28: only for Premium subscribers. */
  readonly premiumOnly: boolean;
  /** R29: only for members of this segment. */
  readonly segmentId: string | null;
}

export interface CampaignDefinition {
  readonly name: LocalizedText;
  /** Who pays its points: the marketplace, or the seller whose products it covers (R26). */
  readonly funder: { readonly type: "marketplace" } | { readonly type: "seller"; readonly sellerId: string };
  readonly conditions: CampaignConditions;
  readonly effect: CampaignEffect;
  /** Stacks with every other combinable campaign; a campaign that does not stands alone. */
  readonly combinable: boolean;
  /** The most points it may accrue in all; null: no budget. */
  readonly budgetPoints: number | null;
}

/** Bounds that keep a definition sane: ×100 at most, +100% at most, 1,000,000 points at most. */
export const MAX_MULTIPLIER_BP = 1_000_000;
export const MAX_EXTRA_RATE_BP = 10_000;
export const MAX_FIXED_POINTS = 1_000_000;
export const MAX_LIST = 1_000;

function checkList(problems: Problem[], field: string, value: readonly string[] | null): void {
  if (value === null) return;
  if (value.length === 0 || value.length > MAX_LIST)
    problems.push({ field, message: `must list 1 to ${MAX_LIST} values, or be left out` });
  const seen = new Set<string>();
  value.forEach((v, i) => {
    if (checkNonEmptyString(problems, `${field}[${i}]`, v) && seen.has(v))
      problems.push({ field: `${field}[${i}]`, message: `repeats ${JSON.stringify(v)}` });
    seen.add(v);
  });
}

/**
 * The problems of a definition, each naming its field; empty: valid. A seller's campaign must be
 * limited to that seller's products (`conditions.sellers` exactly that seller).
 */
export function validateCampaign(d: CampaignDefinition): Problem[] {
  const problems: Problem[] = [];
  checkNonEmptyString(problems, "name.ru", d.name.ru);
  checkNonEmptyString(problems, "name.en", d.name.en);
  const c = d.conditions;
  if (!(c.endsAt.getTime() > c.startsAt.getTime()))
    problems.push({ field: "conditions.endsAt", message: "must be after conditions.startsAt" });
  checkList(problems, "conditions.categories", c.categories);
  checkList(problems, "conditions.sellers", c.sellers);
  checkList(problems, "conditions.skus", c.skus);
  checkIntegerRange(problems, "conditions.minOrderTotalKop", c.minOrderTotalKop, 0, MAX_AMOUNT);
  checkList(problems, "conditions.paymentMethods", c.paymentMethods);
  if (d.funder.type === "seller") {
    const own = d.funder.sellerId;
    if (c.sellers === null || c.sellers.length !== 1 || c.sellers[0] !== own)
      problems.push({
        field: "conditions.sellers",
        message: `a seller's campaign covers only its own products: must be ["${own}"]`,
      });
  }
  const e = d.effect;
  if (e.type === "rate_multiplier")
    checkIntegerRange(problems, "effect.multiplierBp", e.multiplierBp, 10_001, MAX_MULTIPLIER_BP);
  if (e.type === "extra_rate") checkIntegerRange(problems, "effect.rateBp", e.rateBp, 1, MAX_EXTRA_RATE_BP);
  if (e.type === "order_points") checkIntegerRange(problems, "effect.points", e.points, 1, MAX_FIXED_POINTS);
  if (e.type === "unit_points")
    checkIntegerRange(problems, "effect.pointsPerUnit", e.pointsPerUnit, 1, MAX_FIXED_POINTS);
  if (d.budgetPoints !== null) checkIntegerRange(problems, "budgetPoints", d.budgetPoints, 1, MAX_AMOUNT);
  return problems;
}
