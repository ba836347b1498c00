import { sql, type Transaction } from "kysely";
import { ID_BLOCK_DIGITS, type SavingsInterestBulk } from "../app/ports.js";
import { funderAccount, WALLET } from "../domain/ledger/index.js";
import { base32 } from "./bulk-settlement.js";
import { accountColumns, EXPLANATION_CODES, LOT_REF_SQL } from "./movement-rows.js";
import { notificationsOfBulkMovements, notificationWrites } from "./notification-rows.js";
import type { Database } from "./schema.js";

/**
 * R25 in bulk (`pay_savings_interest_in_bulk`), for the monthly run: one statement pays a month's
 * interest to a page of customers already locked by the transaction — each account's balance-days
 * (its balance at the month's start × the month's days, plus each entry of the month × the days it
 * counted, a day ending at midnight in the operator's time zone), the points ⌊balance-days × rate /
 * (days × 100 × 10 000 × 12)⌋ in exact numeric arithmetic, and the lot, the credit movement, the
 * balance cache and the savings_interest row the per-customer path writes for them
 * (SavingsService.interestWork; test/savings/interest-bulk.test.ts compares the two).
 *
 * Left alone and returned, for the per-customer path: customers whose credit depends on more than the
 * credit itself — a savings debt the points would pay off first (R14), or anything due that the
 * per-customer path settles before it credits (pending lots, expired lots, timed-out holds).
 * Skipped: accounts on cashback, and months already paid (the primary key's guard, checked here too).
 *
 * Lot and movement ids are their blocks (IdGenerator.newIdBlock) followed by 7 base-32 digits of an
 * ordinal in customer order.
 */
export async function payInterestInBulk(
  trx: Transaction<Database>,
  customers: readonly string[],
  run: SavingsInterestBulk,
): Promise<{ accounts: number; points: number; perCustomer: string[] }> {
  // Key lookups for a few hundred customers: nested loops over the primary keys (see bulk-settlement.ts).
  await sql`select set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`.execute(
    trx,
  );
  const credited = accountColumns([funderAccount("savings_interest"), WALLET.available]).accounts;
  const { month, start, end, days } = run.month;
  const now = run.now.toISOString();
  const result = await sql<{ accounts: number; points: string | number; per_customer: string[] | null }>`
    with
      page as (select unnest(${customers}::text[]) as customer_id),
      account as (
        select a.customer_id, coalesce(a.rate_bp, ${run.programmeRateBp}::int) as rate_bp
        from page join savings_accounts as a using (customer_id)
        where a.mechanic = 'interest'
          and not exists (select 1 from savings_interest as i where i.customer_id = a.customer_id and i.month = ${month})),
      per_customer as (
        select a.customer_id from account as a
        where exists (select 1 from balances as b where b.customer_id = a.customer_id and b.kind = 'savings' and b.debt > 0)
           or exists (select 1 from lots where lots.customer_id = a.customer_id and lots.state = 'pending'
                        and lots.available_from <= ${now}::timestamptz)
           or exists (select 1 from lots where lots.customer_id = a.customer_id
                        and lots.kind = any(array['bonus', 'savings', 'referral']) and lots.state = 'available'
                        and lots.remaining > 0 and lots.expires_at <= ${now}::timestamptz)
           or exists (select 1 from holds where holds.customer_id = a.customer_id and holds.state = 'active'
                        and holds.expires_at <= ${now}::timestamptz)),
      eligible as (select * from account where customer_id not in (select customer_id from per_customer)),
      -- Materialized: the sums are read four times below, and must be computed once.
      summed as materialized (
        select e.customer_id, e.rate_bp,
               (select coalesce(sum(case x.type when 'deposit' then x.amount else -x.amount end), 0)::numeric
                from savings_entries as x
                where x.customer_id = e.customer_id and x.occurred_at < ${start.toISOString()}::timestamptz) * ${days}::int
               + (select coalesce(sum((case x.type when 'deposit' then x.amount else -x.amount end)
                                      * (${days}::int - extract(day from x.occurred_at at time zone ${run.timeZone})::int + 1)), 0)
                  from savings_entries as x
                  where x.customer_id = e.customer_id and x.occurred_at >= ${start.toISOString()}::timestamptz
                    and x.occurred_at < ${end.toISOString()}::timestamptz) as balance_days
        from eligible as e),
      paying as (
        select s.customer_id, s.rate_bp, s.balance_days,
               div(s.balance_days * s.rate_bp, ${days}::numeric * 100 * 10000 * 12)::bigint as points,
               div(s.balance_days, ${days}::numeric)::bigint as average_kop
        from summed as s where s.balance_days > 0),
      -- Every account paid gets its row; those paid a point or more also a lot and a movement.
      numbered as materialized (
        select p.*, ${run.lotIdBlock} || ${base32("n", ID_BLOCK_DIGITS)} as lot_id,
               ${run.movementIdBlock} || ${base32("n", ID_BLOCK_DIGITS)} as movement_id
        from (select paying.*, row_number() over (order by customer_id) as n from paying) as p),
      credited as (select * from numbered where points > 0),
      lot_rows as (
        insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state,
                          created_at, available_from, expires_at, reference)
        select customer_id, lot_id, 'savings', points, points, 'savings_interest', 'savings_interest', 'available',
               ${now}::timestamptz, ${now}::timestamptz, ${run.expiresAt.toISOString()}::timestamptz, ${`savings:${month}`}
        from credited
        returning 1),
      movement_rows as (
        insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                               lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
        select customer_id, movement_id, 'savings', 'credit', ${EXPLANATION_CODES.savings_interest}::smallint,
               ${credited}::bytea, null, array[-points, points], ${sql.raw(LOT_REF_SQL("lot_id"))}, array[points],
               ${`savings:${month}`},
               -- explainSavingsInterest's params as JSON.stringify writes them.
               ('[' || to_json(${month}::text)::text || ',' || average_kop || ',' || rate_bp || ',' || points || ']')::json,
               'system', ${now}::timestamptz
        from credited
        returning *),
      ${notificationWrites(notificationsOfBulkMovements("movement_rows", ["savings_interest"], run.now))},
      balance_rows as (
        insert into balances (customer_id, kind, available, pending, held, debt)
        select customer_id, 'savings', points, 0, 0, 0 from credited
        on conflict (customer_id, kind) do update set available = balances.available + excluded.available
        returning 1),
      interest_rows as (
        insert into savings_interest (customer_id, month, points, balance_days, days, rate_bp, movement_id, paid_at)
        select customer_id, ${month}, points, balance_days::bigint, ${days}::int, rate_bp,
               case when points > 0 then movement_id end, ${now}::timestamptz
        from numbered
        returning 1)
    select
      -- Data-modifying CTEs run to completion whether or not they are read.
      (select count(*) from credited)::int as accounts,
      (select coalesce(sum(points), 0) from credited) as points,
      (select count(*) from lot_rows) + (select count(*) from movement_rows) + (select count(*) from balance_rows)
        + (select count(*) from notification_rows) + (select count(*) from notification_delivery_rows)
        + (select count(*) from interest_rows) as written,
      (select array_agg(customer_id order by customer_id) from per_customer) as per_customer`.execute(trx);
  const row = result.rows[0];
  return {
    accounts: row?.accounts ?? 0,
    points: Number(row?.points ?? 0),
    perCustomer: row?.per_customer ?? [],
  };
}
