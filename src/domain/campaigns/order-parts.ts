import { type BudgetSlice, type BudgetTake, budgetSummary, chooseTakes } from "../budget-slices.js";
import { accrualBaseOf } from "../checkout/accrual.js";
import type { LineSpend } from "../checkout/allocation.js";
import { allocateProportionally } from "../checkout/allocation.js";
import type { CartLine, PaymentMethod } from "../checkout/cart.js";
import { type CategoryRates, rateForCategory } from "../checkout/config.js";
import { proportionalReturnShare } from "../checkout/returns.js";
import { KOPECKS_PER_POINT } from "../kinds.js";
import { formatNumber, formatPoints, type LocalizedText } from "../text.js";
import type { CampaignDefinition } from "./definition.js";
import { type CampaignInForce, type CampaignPart, evaluateCampaigns, type LineBase } from "./evaluation.js";

/**
 * R26 on an order: what each campaign in force when the order was placed promised it, fixed then
 * (like the programme version), and how those points follow the order's units afterwards.
 *
 * - At placement the campaigns are evaluated on the lines' money-paid bases (R9, R10, after the
 *   points spent); a campaign with a budget reserves its part from the budget's slices then —
 *   partially when the budget holds less (the lines' kopecks scaled down to what it holds), nothing
 *   when it is gone (the order records that the budget was exhausted). A campaign whose budget is
 *   gone takes no part in stacking, so the line gets what the others give.
 * - As units ship, each campaign credits its share of the shipped units (cumulative floors of each
 *   line's kopecks, whole points over the order, R12) as its own lot, funded by the campaign's
 *   funder, with its own explanation line; returns claw back the returned units' share (R13, R14)
 *   and give it back to the budget; a cancellation gives the whole reservation back.
 */

export interface OrderCampaign {
  readonly campaignId: string;
  readonly version: number;
  readonly name: LocalizedText;
  /** The funder of its lots: `campaign:<id>` for the marketplace's campaigns, `seller:<id>` for a seller's. */
  readonly funder: string;
  /** Kopecks of points per line promised at placement (after the budget). */
  readonly lines: readonly { readonly lineId: string; readonly kop: number }[];
  /** Whole points promised at placement: what it gives if every unit ships and stays. */
  readonly points: number;
  /** What it would have given without its budget's limit (equal to `points` when not limited). */
  readonly wantedPoints: number;
  /** Reserved from its budget now, by slice; null: the campaign has no budget. */
  budgetTakes: BudgetTake[] | null;
  /** Whole points credited, net of what returns took back. */
  credited: number;
  /** The lots its shipments credited; returns claw back from the latest first. */
  lotIds: string[];
}

/** One slice's points reserved (positive) or given back (negative) for a campaign. */
export interface CampaignBudgetChange {
  readonly campaignId: string;
  readonly slice: number;
  readonly points: number;
}

/** Who funds a campaign's points on the ledger. */
export function campaignFunder(campaignId: string, definition: CampaignDefinition): string {
  return definition.funder.type === "seller"
    ? `seller:${definition.funder.sellerId}`
    : `campaign:${campaignId}`;
}

/** R9, R10, R7: the lines as a campaign sees them, after the points spent on each (R21). */
export function lineBases(
  lines: readonly CartLine[],
  allocation: readonly LineSpend[],
  baseRates: CategoryRates,
): LineBase[] {
  return lines.map((line, i) => {
    const { numerator, denominator } = accrualBaseOf(line, allocation[i]?.total ?? 0);
    return {
      line,
      baseNumerator: numerator,
      baseDenominator: denominator,
      rateBp: rateForCategory(baseRates, line.category),
    };
  });
}

export interface PlacementCampaigns {
  /** The campaigns in force at the placement instant, each at the version current then. */
  readonly inForce: readonly CampaignInForce[];
  /** The loaded slices of campaign budgets, by campaign id (a budget never funded: none). */
  readonly budgets: (campaignId: string) => readonly BudgetSlice[] | undefined;
  /** The slice of the customer's hash range: reservations take from it first. */
  readonly ownSlice: number;
  /** R29: the segments the customer belongs to. */
  readonly segments: ReadonlySet<string>;
}

function left(slices: readonly BudgetSlice[] | undefined): number {
  return budgetSummary(slices ?? []).remaining;
}

/** The campaigns in force that an order could get anything from, before stacking and budgets. */
export function candidateCampaigns(
  inForce: readonly CampaignInForce[],
  order: Omit<Parameters<typeof evaluateCampaigns>[1], "lines"> & { lines: readonly LineBase[] },
): CampaignInForce[] {
  return inForce.filter((c) => evaluateCampaigns([c], order).length > 0);
}

/**
 * R26 at placement: each campaign's promise to the order and the budget reservations it makes.
 * Campaigns whose budget is gone are kept with no points, so the order can say why.
 */
export function promiseCampaigns(
  facts: PlacementCampaigns,
  order: { placedAt: Date; paymentMethod: PaymentMethod; premium: boolean; lines: readonly LineBase[] },
): OrderCampaign[] {
  const budgeted = (c: CampaignInForce) => c.definition.budgetPoints !== null;
  const exhausted = facts.inForce.filter((c) => budgeted(c) && left(facts.budgets(c.campaignId)) === 0);
  const open = facts.inForce.filter((c) => !exhausted.includes(c));
  const evaluate = (campaigns: readonly CampaignInForce[]) =>
    evaluateCampaigns(campaigns, { ...order, segments: facts.segments });
  const definitionOf = (id: string) => facts.inForce.find((c) => c.campaignId === id) as CampaignInForce;
  const promised = evaluate(open).map((part): OrderCampaign => {
    const { definition } = definitionOf(part.campaignId);
    if (!budgeted(definitionOf(part.campaignId))) return promise(part, definition, part.lines, null);
    const takes = chooseTakes(facts.budgets(part.campaignId) ?? [], facts.ownSlice, part.points, {
      partial: true,
    });
    const reserved = takes.reduce((s, t) => s + t.points, 0);
    // The budget holds less than the part: its lines' kopecks scaled down to exactly what it holds.
    const lines = reserved === part.points ? part.lines : scaled(part.lines, reserved * KOPECKS_PER_POINT);
    return promise(part, definition, lines, takes);
  });
  // What a campaign whose budget is gone would have given (each alone): said, not credited.
  const refused = exhausted.flatMap((c) => evaluate([c]).map((part) => promise(part, c.definition, [], [])));
  return [...promised, ...refused];
}

function scaled(lines: CampaignPart["lines"], totalKop: number): OrderCampaign["lines"] {
  const kop = allocateProportionally(
    lines.map((l) => l.kop),
    totalKop,
  );
  return lines.map((l, i) => ({ lineId: l.lineId, kop: kop[i] ?? 0 }));
}

function promise(
  part: CampaignPart,
  definition: CampaignDefinition,
  lines: OrderCampaign["lines"],
  budgetTakes: BudgetTake[] | null,
): OrderCampaign {
  return {
    campaignId: part.campaignId,
    version: part.version,
    name: definition.name,
    funder: campaignFunder(part.campaignId, definition),
    lines,
    points: Math.floor(lines.reduce((s, l) => s + l.kop, 0) / KOPECKS_PER_POINT),
    wantedPoints: part.points,
    budgetTakes,
    credited: 0,
    lotIds: [],
  };
}

/** A line's units as the order has them now. */
export interface LineUnits {
  readonly lineId: string;
  readonly quantity: number;
  readonly shippedQuantity: number;
  readonly returnedQuantity: number;
}

/**
 * Whole points a campaign owes the order now: each line's kopecks for its shipped units less those
 * for its returned units (cumulative floors, so a line shipped and returned in full owes nothing),
 * floored once over the order (R12).
 */
export function campaignPointsDue(campaign: OrderCampaign, lines: readonly LineUnits[]): number {
  const upTo = (kop: number, quantity: number, units: number) =>
    proportionalReturnShare({ amount: kop, quantity, alreadyReturnedQuantity: 0, returnedQuantity: units });
  const kop = campaign.lines.reduce((sum, part) => {
    const line = lines.find((l) => l.lineId === part.lineId);
    if (!line) return sum;
    return (
      sum +
      upTo(part.kop, line.quantity, line.shippedQuantity) -
      upTo(part.kop, line.quantity, line.returnedQuantity)
    );
  }, 0);
  return Math.floor(kop / KOPECKS_PER_POINT);
}

/** Gives `points` of a reservation back, from the latest take first; what remains reserved. */
export function giveBack(takes: readonly BudgetTake[], points: number): BudgetTake[] {
  const remaining = takes.map((t) => ({ ...t }));
  let owed = points;
  for (let i = remaining.length - 1; i >= 0 && owed > 0; i--) {
    const take = remaining[i] as BudgetTake;
    const back = Math.min(owed, take.points);
    remaining[i] = { slice: take.slice, points: take.points - back };
    owed -= back;
  }
  return remaining.filter((t) => t.points > 0);
}

/** The reservations an event made or gave back: the takes after it less those before, per slice. */
export function budgetChanges(
  before: readonly OrderCampaign[] | undefined,
  after: readonly OrderCampaign[] | undefined,
): CampaignBudgetChange[] {
  const sums = new Map<string, CampaignBudgetChange>();
  const add = (campaigns: readonly OrderCampaign[] | undefined, sign: number) => {
    for (const c of campaigns ?? [])
      for (const t of c.budgetTakes ?? []) {
        const key = `${c.campaignId}\u0000${t.slice}`;
        const points = (sums.get(key)?.points ?? 0) + sign * t.points;
        sums.set(key, { campaignId: c.campaignId, slice: t.slice, points });
      }
  };
  add(after, 1);
  add(before, -1);
  return [...sums.values()].filter((c) => c.points !== 0);
}

/** R26, R33: what a campaign gives an order (or a quote), and why it gives less or nothing. */
export function campaignNote(c: Pick<OrderCampaign, "name" | "points" | "wantedPoints">): LocalizedText {
  const { ru, en } = c.name;
  if (c.points === 0)
    return {
      ru: `Акция «${ru}»: бюджет акции исчерпан, баллы по ней не начисляются (было бы ${formatPoints(c.wantedPoints).ru})`,
      en: `Campaign "${en}": its budget is used up, it adds nothing (it would add ${formatPoints(c.wantedPoints).en})`,
    };
  if (c.points < c.wantedPoints)
    return {
      ru: `Акция «${ru}»: ${formatPoints(c.points).ru} из ${formatNumber(c.wantedPoints).ru} — столько осталось в бюджете акции`,
      en: `Campaign "${en}": ${formatPoints(c.points).en} of ${formatNumber(c.wantedPoints).en}, what is left of its budget`,
    };
  return {
    ru: `Акция «${ru}»: ${formatPoints(c.points).ru}`,
    en: `Campaign "${en}": ${formatPoints(c.points).en}`,
  };
}
