import { allocateProportionally } from "../checkout/allocation.js";
import { type CartLine, lineAmountKop, type PaymentMethod } from "../checkout/cart.js";
import { BASIS_POINTS_PER_UNIT, KOPECKS_PER_POINT } from "../kinds.js";
import type { CampaignDefinition } from "./definition.js";

/**
 * R26: what the campaigns in force add to an order, line by line. Stacking, stated once here:
 * on each line, the combinable campaigns that match it add up; a campaign that is not combinable
 * stands alone; the line gets whichever is more — the combinable ones together, or the best
 * non-combinable one. Order-level points (`order_points`) are decided the same way over the order.
 */

export interface CampaignInForce {
  readonly campaignId: string;
  readonly version: number;
  readonly definition: CampaignDefinition;
}

/** A line as the accrual sees it: its exact accrual base (R9, R10) as numerator / denominator. */
export interface LineBase {
  readonly line: CartLine;
  readonly baseNumerator: bigint;
  readonly baseDenominator: bigint;
  /** R7: the category's base rate. */
  readonly rateBp: number;
}

export interface OrderFacts {
  readonly placedAt: Date;
  readonly paymentMethod: PaymentMethod;
  /** R28. */
  readonly premium: boolean;
  /** R29: the segments the customer belongs to. */
  readonly segments: ReadonlySet<string>;
  readonly lines: readonly LineBase[];
}

export interface CampaignPart {
  readonly campaignId: string;
  readonly version: number;
  /**
   * Kopecks of points per line it applied to. An order's fixed points are spread over its matching
   * lines by their amounts (R21's largest-remainder split), so that they follow the units shipped
   * and returned as a line's accrual does.
   */
  readonly lines: readonly { readonly lineId: string; readonly kop: number }[];
  /** Fixed points per order (included in `lines`). */
  readonly orderPoints: number;
  /** Whole points: the lines' kopecks floored once, plus the order points. */
  readonly points: number;
}

function matchesOrder(c: CampaignDefinition, order: OrderFacts): boolean {
  const k = c.conditions;
  const at = order.placedAt.getTime();
  if (at < k.startsAt.getTime() || at >= k.endsAt.getTime()) return false;
  if (k.paymentMethods !== null && !k.paymentMethods.includes(order.paymentMethod)) return false;
  if (k.premiumOnly && !order.premium) return false;
  if (k.segmentId !== null && !order.segments.has(k.segmentId)) return false;
  // "+200 points for orders from 5,000 RUB": the order's total at the prices charged, inclusive.
  const totalKop = order.lines.reduce((s, b) => s + b.line.quantity * b.line.unitPriceKop, 0);
  return totalKop >= k.minOrderTotalKop;
}

function matchesLine(c: CampaignDefinition, line: CartLine): boolean {
  const k = c.conditions;
  return (
    (k.categories === null || k.categories.includes(line.category)) &&
    (k.sellers === null || k.sellers.includes(line.sellerId)) &&
    (k.skus === null || k.skus.includes(line.sku))
  );
}

/** What a line-level effect adds to one line, kopecks of points (exact, floored once). */
function lineExtraKop(c: CampaignDefinition, base: LineBase): number {
  const e = c.effect;
  const bp = BigInt(BASIS_POINTS_PER_UNIT);
  if (base.baseDenominator === 0n)
    return e.type === "unit_points" ? e.pointsPerUnit * base.line.quantity * KOPECKS_PER_POINT : 0;
  switch (e.type) {
    case "rate_multiplier":
      // (m − 1) × rate, m in bp: base × rate × (m − 10,000) / 10,000².
      return Number(
        (base.baseNumerator * BigInt(base.rateBp) * BigInt(e.multiplierBp - BASIS_POINTS_PER_UNIT)) /
          (base.baseDenominator * bp * bp),
      );
    case "extra_rate":
      return Number((base.baseNumerator * BigInt(e.rateBp)) / (base.baseDenominator * bp));
    case "unit_points":
      return e.pointsPerUnit * base.line.quantity * KOPECKS_PER_POINT;
    case "order_points":
      return 0;
  }
}

/** Picks, among applicable candidates with values, the combinable sum or the best single one. */
function stack<T extends { campaign: CampaignInForce; value: number }>(candidates: readonly T[]): T[] {
  const combinable = candidates.filter((x) => x.campaign.definition.combinable && x.value > 0);
  const sum = combinable.reduce((s, x) => s + x.value, 0);
  const alone = candidates
    .filter((x) => !x.campaign.definition.combinable && x.value > 0)
    // The larger value wins; a tie goes to the older campaign id, so the choice is stable.
    .sort((a, b) => b.value - a.value || (a.campaign.campaignId < b.campaign.campaignId ? -1 : 1))[0];
  return alone !== undefined && alone.value > sum ? [alone] : combinable;
}

/** R26: each campaign's part of an order, before budgets. Campaigns that add nothing are left out. */
export function evaluateCampaigns(campaigns: readonly CampaignInForce[], order: OrderFacts): CampaignPart[] {
  const inForce = campaigns.filter((c) => matchesOrder(c.definition, order));
  const lineKop = new Map<string, { lineId: string; kop: number }[]>();
  for (const base of order.lines) {
    const candidates = inForce
      .filter((c) => c.definition.effect.type !== "order_points" && matchesLine(c.definition, base.line))
      .map((campaign) => ({ campaign, value: lineExtraKop(campaign.definition, base) }));
    for (const chosen of stack(candidates)) {
      const id = chosen.campaign.campaignId;
      lineKop.set(id, [...(lineKop.get(id) ?? []), { lineId: base.line.lineId, kop: chosen.value }]);
    }
  }
  const orderPoints = new Map<string, number>();
  const orderLevel = inForce
    .filter((c) => c.definition.effect.type === "order_points")
    .map((campaign) => {
      const effect = campaign.definition.effect;
      const matches = order.lines.some((b) => matchesLine(campaign.definition, b.line));
      return { campaign, value: matches && effect.type === "order_points" ? effect.points : 0 };
    });
  for (const { campaign, value } of stack(orderLevel)) {
    const matching = order.lines.filter((b) => matchesLine(campaign.definition, b.line));
    const kop = allocateProportionally(
      matching.map((b) => lineAmountKop(b.line)),
      value * KOPECKS_PER_POINT,
    );
    lineKop.set(
      campaign.campaignId,
      matching.map((b, i) => ({ lineId: b.line.lineId, kop: kop[i] ?? 0 })),
    );
    orderPoints.set(campaign.campaignId, value);
  }
  return inForce.flatMap((c): CampaignPart[] => {
    const lines = lineKop.get(c.campaignId) ?? [];
    const kop = lines.reduce((s, l) => s + l.kop, 0);
    const fixed = orderPoints.get(c.campaignId) ?? 0;
    const points = Math.floor(kop / KOPECKS_PER_POINT);
    return points > 0
      ? [{ campaignId: c.campaignId, version: c.version, lines, orderPoints: fixed, points }]
      : [];
  });
}
