/**
 * R22: a seller's review budget, partitioned so that no row is updated by every review. A funding is
 * spread evenly over the slices; a review reserves its points, when it is submitted, from the slice
 * of its customer's hash range first, then — when that slice is short — from the others, those with
 * the most left first. If the whole budget cannot hold the reward, the marketplace funds all of it
 * (a reward has one funder), and what a review was promised never depends on the budget later.
 */
export const BUDGET_SLICES = 16;

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

/** What a reward of `points` reserves, slice by slice; empty: the budget cannot hold it all. */
export function chooseTakes(slices: readonly BudgetSlice[], ownSlice: number, points: number): BudgetTake[] {
  const left = (s: BudgetSlice) => Math.max(0, s.funded - s.reserved);
  if (slices.reduce((sum, s) => sum + left(s), 0) < points) return [];
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

export function budgetSummary(slices: readonly BudgetSlice[]) {
  const funded = slices.reduce((sum, s) => sum + s.funded, 0);
  const reserved = slices.reduce((sum, s) => sum + s.reserved, 0);
  return { funded, reserved, remaining: funded - reserved };
}
