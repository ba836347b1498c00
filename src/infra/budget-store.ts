import { type Kysely, sql, type Transaction } from "kysely";
import type { BudgetReservation, CustomerLoad, CustomerState } from "../app/ports.js";
import { type BudgetSlice, budgetSummary } from "../domain/budget-slices.js";
import type { Database } from "./schema.js";

/**
 * Points budgets' SQL (migration 17; src/domain/budget-slices.ts): R22 review budgets
 * (`review:<sellerId>`) and R26 campaign budgets (`campaign:<campaignId>`), each 16 slice rows. A
 * customer's work loads the slices of the budgets it may reserve from, without locking them, and
 * its transaction moves each slice by its reservations with one conditional statement.
 */

/** `budget_slices_by_id`: every slice of these budgets, by budget id (one never funded: none). */
export async function readBudgetSlices(
  db: Kysely<Database> | Transaction<Database>,
  budgetIds: readonly string[],
): Promise<Map<string, BudgetSlice[]>> {
  const slices = new Map<string, BudgetSlice[]>(budgetIds.map((id) => [id, []]));
  if (budgetIds.length === 0) return slices;
  const result = await sql<{ budget_id: string; slice: number; funded: string; reserved: string }>`
    select budget_id, slice, funded, reserved from budget_slices
    where budget_id = any(${[...budgetIds]}::text[]) order by budget_id, slice`.execute(db);
  for (const r of result.rows) {
    const slice = { slice: r.slice, funded: Number(r.funded), reserved: Number(r.reserved) };
    slices.set(r.budget_id, [...(slices.get(r.budget_id) ?? []), slice]);
  }
  return slices;
}

/** The slices of the budgets the works name, read without locking them, into their states. */
export async function loadBudgets(
  db: Kysely<Database> | Transaction<Database>,
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
): Promise<void> {
  const slices = await readBudgetSlices(db, [...new Set(requests.flatMap((r) => r.budgetIds ?? []))]);
  for (const request of requests) {
    const state = states.get(request.customerId);
    if (!state) continue;
    for (const id of request.budgetIds ?? []) state.budgets.set(id, slices.get(id) ?? []);
  }
}

/**
 * `reserve_from_budget_slices`: each slice moved by the sum of its reservations, all or none, in
 * one statement. The slices are locked in one order (budget, slice) by every transaction, so two
 * that share slices wait for each other rather than deadlock, and stay locked: when one no longer
 * holds its part (another transaction took from it since the load), nothing moves, and the caller
 * reads them again — stable now — and decides anew. Customers of one transaction see each other's
 * reservations (the group committer carries them forward), so the sums are what the slices hold.
 */
export async function reserveFromBudgets(
  trx: Transaction<Database>,
  reservations: readonly BudgetReservation[],
): Promise<boolean> {
  const sums = new Map<string, BudgetReservation>();
  for (const r of reservations) {
    const key = `${r.budgetId}\u0000${r.slice}`;
    const prior = sums.get(key);
    sums.set(key, { budgetId: r.budgetId, slice: r.slice, points: (prior?.points ?? 0) + r.points });
  }
  const wanted = [...sums.values()].filter((r) => r.points !== 0);
  if (wanted.length === 0) return true;
  const result = await sql<{ moved: number }>`
    with
      wanted as (
        select * from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as x("budgetId" text, slice smallint, points bigint)),
      locked as (
        select b.budget_id, b.slice, b.funded, b.reserved from budget_slices as b
        join wanted as w on b.budget_id = w."budgetId" and b.slice = w.slice
        order by b.budget_id, b.slice
        for update of b),
      holds as (
        select count(*) = ${wanted.length} as all_hold from locked as l
        join wanted as w on l.budget_id = w."budgetId" and l.slice = w.slice
        where w.points < 0 or l.funded - l.reserved >= w.points),
      moved as (
        update budget_slices as b set reserved = b.reserved + w.points
        from wanted as w
        where b.budget_id = w."budgetId" and b.slice = w.slice and (select all_hold from holds)
        returning 1)
    select count(*)::int as moved from moved`.execute(trx);
  return (result.rows[0]?.moved ?? 0) === wanted.length;
}

/**
 * `fund_budget`: a funding row and its share on every slice, in one statement, once per funding id.
 * `shares` are the slices' parts (negative only to lower a budget nothing was reserved from yet).
 * Returns whether it was added now, and the points the funding id holds (null: none).
 */
export async function fundBudget(
  db: Kysely<Database> | Transaction<Database>,
  input: { budgetId: string; fundingId: string; shares: readonly number[]; actor: string; at: Date },
): Promise<{ added: boolean; points: number | null }> {
  const points = input.shares.reduce((s, x) => s + x, 0);
  const result = await sql<{ added: number; points: string | null }>`
    with
      funding as (
        insert into budget_fundings (budget_id, funding_id, points, funded_by, funded_at)
        values (${input.budgetId}, ${input.fundingId}, ${points}, ${input.actor}, ${input.at})
        on conflict (budget_id, funding_id) do nothing
        returning points),
      slices as (
        insert into budget_slices (budget_id, slice, funded, reserved)
        select ${input.budgetId}, s.slice - 1, s.share, 0
        from unnest(${[...input.shares]}::bigint[]) with ordinality as s (share, slice)
        where exists (select 1 from funding)
        on conflict (budget_id, slice) do update set funded = budget_slices.funded + excluded.funded
        returning 1)
    select (select count(*)::int from funding) + 0 * (select count(*) from slices) as added,
           (select points from budget_fundings
            where budget_id = ${input.budgetId} and funding_id = ${input.fundingId}) as points`.execute(db);
  const row = result.rows[0];
  return { added: (row?.added ?? 0) > 0, points: row?.points == null ? null : Number(row.points) };
}

/** Funded, reserved and remaining of each budget named (a budget never funded: zeros). */
export async function budgetSummaries(
  db: Kysely<Database> | Transaction<Database>,
  budgetIds: readonly string[],
): Promise<Map<string, ReturnType<typeof budgetSummary>>> {
  const summaries = new Map(budgetIds.map((id) => [id, budgetSummary([])]));
  if (budgetIds.length === 0) return summaries;
  const result = await sql<{ budget_id: string; funded: string; reserved: string }>`
    select budget_id, sum(funded) as funded, sum(reserved) as reserved from budget_slices
    where budget_id = any(${[...budgetIds]}::text[]) group by budget_id`.execute(db);
  for (const r of result.rows) {
    const funded = Number(r.funded);
    const reserved = Number(r.reserved);
    summaries.set(r.budget_id, { funded, reserved, remaining: funded - reserved });
  }
  return summaries;
}
