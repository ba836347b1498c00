/**
 * A points budget partitioned so that no row is updated by every write that spends it (R22 a
 * seller's review budget, R26 a campaign's): a funding is spread evenly over the slices; a
 * reservation takes from the slice of its customer's hash range first, then — when that slice is
 * short — from the others, those with the most left first. Each slice is a row that only the
 * customers reserving from it lock, in their own transactions, so the budget is never exceeded
 * however many race for it.
 */
export const BUDGET_SLICES = 16;

/** R22: a seller's review budget. */
export function reviewBudgetId(sellerId: string): string {
  return `review:${sellerId}`;
}

/** R26: a campaign's budget. */
export function campaignBudgetId(campaignId: string): string {
  return `campaign:${campaignId}`;
}

export interface BudgetSlice {
  readonly slice: number;
  readonly funded: number;
  readonly reserved: number;
}

/** How a funding of `points` is spread: slice k gets points / N, the first points % N one more. */
export function sliceShares(points: number): number[] {
  const base = Math.floor(points / BUDGET_SLICES);
  const extra = points % BUDGET_SLICES;
  return Array.from({ length: BUDGET_SLICES }, (_, k) => base + (k < extra ? 1 : 0));
}

/** Points a review reserved from one slice of a seller's budget. */
export interface BudgetTake {
  readonly slice: number;
  readonly points: number;
}

/**
 * What a reservation of `points` takes, slice by slice. All or nothing by default (R22: a review
 * reward has one funder, so a budget that cannot hold all of it holds none); `partial` takes what
 * is left up to `points` (R26: a campaign accrues until its budget is gone).
 */
export function chooseTakes(
  slices: readonly BudgetSlice[],
  ownSlice: number,
  points: number,
  options: { partial?: boolean } = {},
): BudgetTake[] {
  const left = (s: BudgetSlice) => Math.max(0, s.funded - s.reserved);
  if (!options.partial && slices.reduce((sum, s) => sum + left(s), 0) < points) return [];
  const ordered = [...slices].sort(
    (a, b) =>
      Number(b.slice === ownSlice) - Number(a.slice === ownSlice) || left(b) - left(a) || a.slice - b.slice,
  );
  const takes: BudgetTake[] = [];
  let wanted = points;
  for (const s of ordered) {
    if (wanted === 0) break;
    const take = Math.min(wanted, left(s));
    if (take > 0) takes.push({ slice: s.slice, points: take });
    wanted -= take;
  }
  return takes;
}

export interface BudgetSummary {
  readonly funded: number;
  readonly reserved: number;
  readonly remaining: number;
}

export function budgetSummary(slices: readonly BudgetSlice[]): BudgetSummary {
  const funded = slices.reduce((sum, s) => sum + s.funded, 0);
  const reserved = slices.reduce((sum, s) => sum + s.reserved, 0);
  return { funded, reserved, remaining: funded - reserved };
}

/**
 * What each slice must be funded with (added; negative: taken off) so that the budget holds
 * `target` in all. While nothing is reserved the slices are spread evenly anew (a budget not in use
 * yet may also shrink); once points are reserved only a raise is possible, spread evenly over the
 * slices. Null: the target is below what the budget holds and it is in use.
 */
export function sharesToFund(slices: readonly BudgetSlice[], target: number): number[] | null {
  const funded = Array.from(
    { length: BUDGET_SLICES },
    (_, k) => slices.find((s) => s.slice === k)?.funded ?? 0,
  );
  const { funded: total, reserved } = budgetSummary(slices);
  if (reserved === 0) return sliceShares(target).map((share, k) => share - (funded[k] ?? 0));
  return target < total ? null : sliceShares(target - total);
}
