import { sql, type Transaction } from "kysely";
import { ID_BLOCK_DIGITS } from "../app/ports.js";
import { SINK, WALLET } from "../domain/ledger/index.js";
import { accountColumns, EXPLANATION_CODES, LOT_REF_SQL } from "./movement-rows.js";
import { notificationsOfBulkMovements, notificationWrites } from "./notification-rows.js";
import type { Database } from "./schema.js";

/** An instant as JSON text, `"YYYY-MM-DDTHH:MI:SS.MSZ"`, as `Date.toISOString()` writes it. */
export function isoJson(column: string) {
  return sql.raw(`to_json(to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text`);
}

/** `digits` Crockford base-32 digits of a bigint column, most significant first, as ids are written. */
export function base32(column: string, digits: number) {
  const alphabet = "'0123456789ABCDEFGHJKMNPQRSTVWXYZ'";
  const parts = Array.from(
    { length: digits },
    (_, i) => `substr(${alphabet}, ((${column} >> ${5 * (digits - 1 - i)}) & 31)::int + 1, 1)`,
  );
  return sql.raw(`(${parts.join(" || ")})`);
}

/** A lot's reference as movements store it (src/infra/movement-rows.ts), from its id. */
function lotRef(column: string) {
  return sql.raw(LOT_REF_SQL(column));
}

/**
 * R5, R13 in bulk (`settle_due_lots_in_bulk`), for the scheduled work: one statement settles what
 * time made due for a page of customers already locked by the transaction — pending lots whose time
 * came become available, available lots past their expiry are written off — writing the lots, the
 * movements and the balance cache set-based, with the movements, explanations and order of the lazy
 * path (src/domain/ledger/operations.ts `bringUpToDate`; test/app/bulk-settlement.test.ts compares
 * the two). Customers whose settlement is not a set of independent lots — a debt to net against
 * what becomes available (R14), or a hold that timed out (R20, its points go back into lots that may
 * then expire) — are left alone and returned, for the per-customer path.
 *
 * Movement ids are `movementIdBlock` (IdGenerator.newIdBlock) followed by 7 base-32 digits of an
 * ordinal in the lazy path's order (per customer: by instant, time-outs, availability, expiries,
 * then R4): ids of the usual shape that sort after every id made before and before any made after.
 */
export async function settleDueLotsInBulk(
  trx: Transaction<Database>,
  customers: readonly string[],
  now: Date,
  movementIdBlock: string,
): Promise<{ movements: number; perCustomer: string[] }> {
  // Every join below is a key lookup into lots, holds or balances for a few thousand rows, but the
  // planner cannot know how many rows the CTEs hold: it hash-joined a sequential scan of all lots
  // (300 ms a statement at a million lots). Nested loops over the primary keys, for this statement.
  await sql`select set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`.execute(
    trx,
  );
  const released = accountColumns([WALLET.held, WALLET.available]).accounts;
  const madeAvailable = accountColumns([WALLET.pending, WALLET.available]).accounts;
  const expired = accountColumns([WALLET.available, SINK.expired]).accounts;
  const result = await sql<{ movements: number; per_customer: string[] | null }>`
    with
      page as (select unnest(${customers}::text[]) as customer_id),
      timed_out as (
        select h.* from page as p
          cross join lateral (
            select * from holds
            where holds.customer_id = p.customer_id and holds.state = 'active' and holds.expires_at <= ${now}
            offset 0) as h),
      -- R14: what becomes available pays off a debt first; R15, R20: a timed-out hold whose lot has
      -- expired by now gives its points back into a grace lot or into a lot that then expires. Both
      -- depend on the order of everything else: the per-customer path replays those.
      per_customer as (
        select p.customer_id from page as p
        where exists (select 1 from balances as b where b.customer_id = p.customer_id and b.debt > 0)
        union
        select t.customer_id from timed_out as t
          cross join unnest(t.take_lot_ids) as x (lot_id)
          join lots on lots.customer_id = t.customer_id and lots.lot_id = x.lot_id
        where lots.expires_at <= ${now}),
      eligible as (select customer_id from page except select customer_id from per_customer),
      -- R20: each timed-out hold gives every point back into the lots it took them from.
      releasing as (select t.* from timed_out as t join eligible using (customer_id)),
      returned as (
        select r.customer_id, x.lot_id, x.amount, x.i, r.hold_id from releasing as r
          cross join unnest(r.take_lot_ids, r.take_amounts) with ordinality as x (lot_id, amount, i)),
      becoming as (
        select l.* from eligible as e
          cross join lateral (
            select * from lots
            where lots.customer_id = e.customer_id and lots.state = 'pending' and lots.available_from <= ${now}
            offset 0) as l),
      expiring as (
        select l.customer_id, l.lot_id, l.kind, l.remaining, l.expires_at, l.created_at, l.reference
        from eligible as e
          cross join unnest(array['bonus', 'savings', 'referral']) as k (kind)
          cross join lateral (
            select * from lots
            where lots.customer_id = e.customer_id and lots.kind = k.kind and lots.state = 'available'
              and lots.remaining > 0 and lots.expires_at <= ${now}
            offset 0) as l
        union all
        select customer_id, lot_id, kind, remaining, expires_at, created_at, reference from becoming
        where remaining > 0 and expires_at <= ${now}),
      -- One movement per hold, lot and step, ordered as bringUpToDate replays them: by instant, then
      -- time-outs (by hold id), lots becoming available, expiries (each in the R4 order).
      due as (
        select customer_id, kind, hold_id as subject, amount, 'release' as type, expires_at as at, 0 as rank,
               null::timestamptz as expires_at, null::timestamptz as created_at, hold_id as reference
        from releasing
        union all
        select customer_id, kind, lot_id, remaining, 'make_available', available_from, 1, expires_at, created_at,
               reference
        from becoming where remaining > 0
        union all
        select customer_id, kind, lot_id, remaining, 'expire', expires_at, 2, expires_at, created_at, reference
        from expiring),
      numbered as (
        select due.*, row_number() over (order by customer_id, at, rank, expires_at, created_at, subject) as n
        from due),
      hold_rows as (
        update holds set state = 'released', release_reason = 'timeout', take_returned = holds.take_amounts
        from releasing
        where holds.customer_id = releasing.customer_id and holds.hold_id = releasing.hold_id
        returning 1),
      lot_rows as (
        update lots
        set state = 'available', remaining = case when x.expired then 0 else lots.remaining + x.back end
        from (select customer_id, lot_id, bool_or(expired) as expired, sum(back) as back
              from (select customer_id, lot_id, false as expired, 0 as back from becoming
                    union all select customer_id, lot_id, true, 0 from expiring
                    union all select customer_id, lot_id, false, amount from returned) as t
              group by customer_id, lot_id) as x
        where lots.customer_id = x.customer_id and lots.lot_id = x.lot_id
        returning 1),
      movement_rows as (
        insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                               lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
        select customer_id, ${movementIdBlock} || ${base32("n", ID_BLOCK_DIGITS)}, kind, type,
               case type when 'release' then ${EXPLANATION_CODES.release}::smallint
                         when 'make_available' then ${EXPLANATION_CODES.made_available}::smallint
                         else ${EXPLANATION_CODES.expire}::smallint end,
               case type when 'release' then ${released}::bytea
                         when 'make_available' then ${madeAvailable}::bytea
                         else ${expired}::bytea end,
               null, array[-amount, amount],
               -- releaseHold gives points back last-taken first; expire names its lot; availability none.
               case type
                 when 'release' then
                   (select string_agg(${lotRef("x.lot_id")}, ''::bytea order by x.i desc) from returned as x
                    where x.customer_id = numbered.customer_id and x.hold_id = numbered.subject)
                 when 'make_available' then ''::bytea
                 else ${lotRef("subject")} end,
               case type
                 when 'release' then
                   (select array_agg(x.amount order by x.i desc) from returned as x
                    where x.customer_id = numbered.customer_id and x.hold_id = numbered.subject)
                 when 'make_available' then '{}'::bigint[]
                 else array[-amount] end,
               reference,
               -- The params explainRelease, explainMadeAvailable and explainExpire build, as
               -- JSON.stringify writes them.
               (case type
                  when 'release' then '[' || amount || ',' || to_json(subject)::text || ',true]'
                  when 'make_available' then
                    '[' || amount || ',' || ${isoJson("expires_at")} || ',' || coalesce(to_json(reference)::text, 'null') || ']'
                  else '[' || amount || ',' || ${isoJson("at")} || ']'
                end)::json,
               'system', at
        from numbered
        returning *),
      ${notificationWrites(notificationsOfBulkMovements("movement_rows", ["made_available", "expire"], now))},
      balance_rows as (
        update balances as b
        set held = b.held - d.released,
            pending = b.pending - d.made_available,
            available = b.available + d.released + d.made_available - d.expired
        from (select customer_id, kind,
                     coalesce(sum(amount) filter (where type = 'release'), 0) as released,
                     coalesce(sum(amount) filter (where type = 'make_available'), 0) as made_available,
                     coalesce(sum(amount) filter (where type = 'expire'), 0) as expired
              from due group by customer_id, kind) as d
        where b.customer_id = d.customer_id and b.kind = d.kind
        returning 1)
    select
      -- Data-modifying CTEs run to completion whether or not they are read.
      (select count(*) from movement_rows)::int as movements,
      (select count(*) from notification_rows) + (select count(*) from notification_delivery_rows) as notified,
      (select array_agg(customer_id order by customer_id) from per_customer) as per_customer`.execute(trx);
  const row = result.rows[0];
  return { movements: row?.movements ?? 0, perCustomer: row?.per_customer ?? [] };
}
