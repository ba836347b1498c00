import { type Kysely, type RawBuilder, sql, type Transaction } from "kysely";
import type { Reconciliation, ReconciliationCheck, Violation } from "../app/finance/ports.js";
import { SINK, WALLET } from "../domain/ledger/index.js";
import { accountCode, LOT_REF_BYTES, lotDeltaRowsSql, postingRowsSql } from "./movement-rows.js";
import { REPORT_STATEMENT_TIMEOUT } from "./report-cursor.js";
import type { Database } from "./schema.js";

/**
 * The reconciliation (`kopilka verify`, `GET /v1/finance/verify`): the ledger checked against
 * itself in SQL, in one snapshot (a read-only repeatable-read transaction), set-based — each
 * statement reads each table once and lists at most `limit` + 1 violations. The checks
 * (RECONCILIATION_CHECKS in src/app/finance/ports.ts):
 *
 *  - movements_net_to_zero (R32): every movement's postings net to zero, none is zero, each names a
 *    known account (src/infra/movement-rows.ts), accounts/amounts and lot refs/deltas line up;
 *  - accounts_sum_to_zero (R32): the postings over all accounts — wallets, sinks, funders — sum to 0;
 *  - balances_match_lots_and_holds (R6, R14, R20), per customer and kind: the remaining points of
 *    available lots = the postings to wallet:available = balances.available; the same for pending;
 *    active holds = postings to wallet:held = balances.held; −postings to wallet:debt =
 *    balances.debt; what redemptions have not refunded = postings to sink:redeemed; none of these,
 *    nor the expired and clawed-back sinks, negative;
 *  - lots_match_movements (R3): a lot's remaining is the sum of the lot deltas posted to it and lies
 *    in [0, amount], its state is pending or available; no delta names a lot that does not exist;
 *  - takes_match_lots (R15, R20): a hold's or redemption's takes name lots of its kind, sum to its
 *    amount, and what came back matches its state or refunds; no lot is owed back more than it gave;
 *  - funders_match_postings (R32), per funder: the postings to `funder:<f>` = −(points of the lots
 *    it funds, grace lots aside: R15 refunds re-home points already paid for) + the points given
 *    back to it: points of its lots cancelled while still pending (a clawback movement before the
 *    lot's available_from: R13, R22, R24) and, for the marketplace, the points support removed (R34
 *    adjustments, whatever lots they left).
 *
 * Pass a customer id to check one customer (primary-key ranges), or none for the whole ledger.
 * test/support/invariants.ts has an independent implementation over the rows, in TypeScript; the
 * tests compare the two.
 */

export interface ReconcileOptions {
  customerId?: string | undefined;
  /** The most violations listed. */
  limit: number;
}

type Tx = Transaction<Database>;
type Scope = (column: string) => RawBuilder<boolean>;

const codeOf = (account: string) => sql.lit(accountCode(account));
const codes = (accounts: Record<string, string>) => sql.join(Object.values(accounts).map(codeOf));

async function violationsOf(
  statement: RawBuilder<{ check: ReconciliationCheck; message: string }>,
  tx: Tx,
): Promise<Violation[]> {
  return (await statement.execute(tx)).rows.map((r) => ({ check: r.check, message: r.message }));
}

/**
 * Per movement (a lateral subquery over `m`): what it posts and whether it breaks R32, in detail —
 * for listing the movements that do (`reconcile_movements`).
 */
function movementPostingsSql(): RawBuilder<unknown> {
  return sql`lateral (
    select
      coalesce(sum(p.amount), 0) as net,
      count(*) as postings,
      count(*) filter (where p.amount = 0) as zeros,
      count(*) filter (where not ${KNOWN_ACCOUNT}) as unknown_accounts
    from ${postingRowsSql()} as p) as x`;
}

/** A posting `p` to an account that exists: a wallet, a sink or a funder. */
const KNOWN_ACCOUNT = sql`coalesce(p.code in (${codes(WALLET)}, ${codes(SINK)}) or p.funder is not null, false)`;

/** Movement `m` breaks R32 as a whole: its postings' net (the usual two added up), their count, its arrays' lengths. */
const MOVEMENT_UNBALANCED = sql`(cardinality(m.amounts) < 2 or cardinality(m.amounts) <> length(m.accounts)
  or length(m.lot_refs) <> ${sql.lit(LOT_REF_BYTES)} * cardinality(m.lot_deltas)
  or case cardinality(m.amounts) when 2 then m.amounts[1] + m.amounts[2]
       else (select coalesce(sum(a), 0) from unnest(m.amounts) as a) end <> 0)`;

const UNBALANCED = sql`(x.net <> 0 or x.postings < 2 or x.postings <> length(m.accounts) or x.zeros > 0
  or x.unknown_accounts > 0 or length(m.lot_refs) <> ${sql.lit(LOT_REF_BYTES)} * cardinality(m.lot_deltas))`;

interface Totals {
  movements: string | null;
  suspect: string | null;
  wallets: string | null;
  sinks: string | null;
  funders: string | null;
}

/**
 * reconcile_postings: one pass over the movements, their postings summed by customer, kind and
 * funder (which partial aggregation splits over parallel workers); then the balance cache against
 * the lots, holds, redemptions and those sums, each funder's postings against its lots, and the
 * trial balance.
 */
async function reconcilePostings(tx: Tx, scope: Scope, limit: number) {
  const sums = (column: string) => sql.raw(`coalesce(sum(${column}), 0) as ${column}`);
  const result = await sql<{ balances: Violation[]; funders: Violation[]; totals: Totals }>`
    -- reconcile_postings
    with
      posted_by_funder as materialized (
        select m.customer_id, m.kind, p.funder,
          count(*) filter (where coalesce(p.i, 1) = 1) as movements,
          count(*) filter (where (coalesce(p.i, 1) = 1 and ${MOVEMENT_UNBALANCED}) or p.amount = 0 or not ${KNOWN_ACCOUNT})
            as suspect,
          sum(p.amount) filter (where p.code = ${codeOf(WALLET.available)}) as available,
          sum(p.amount) filter (where p.code = ${codeOf(WALLET.pending)}) as pending,
          sum(p.amount) filter (where p.code = ${codeOf(WALLET.held)}) as held,
          sum(p.amount) filter (where p.code = ${codeOf(WALLET.debt)}) as debt,
          sum(p.amount) filter (where p.code = ${codeOf(SINK.redeemed)}) as redeemed,
          sum(p.amount) filter (where p.code = ${codeOf(SINK.expired)}) as expired,
          sum(p.amount) filter (where p.code = ${codeOf(SINK.clawedBack)}) as clawed_back,
          sum(p.amount) filter (where p.code in (${codes(WALLET)})) as wallets,
          sum(p.amount) filter (where p.code in (${codes(SINK)})) as sinks,
          sum(p.amount) filter (where p.funder is not null) as funders
        from movements as m left join ${postingRowsSql()} as p on true
        where ${scope("m.customer_id")}
        group by m.customer_id, m.kind, p.funder),
      posted as (
        select customer_id, kind, ${sums("available")}, ${sums("pending")}, ${sums("held")}, ${sums("debt")},
          ${sums("redeemed")}, ${sums("expired")}, ${sums("clawed_back")}
        from posted_by_funder group by customer_id, kind),
      in_lots as (
        select customer_id, kind,
          coalesce(sum(remaining) filter (where state = 'available'), 0) as available,
          coalesce(sum(remaining) filter (where state = 'pending'), 0) as pending
        from lots where ${scope("customer_id")} group by customer_id, kind),
      in_holds as (
        select customer_id, kind, coalesce(sum(amount) filter (where state = 'active'), 0) as held
        from holds where ${scope("customer_id")} group by customer_id, kind),
      in_redemptions as (
        select customer_id, kind, sum(amount - refunded) as outstanding
        from redemptions where ${scope("customer_id")} group by customer_id, kind),
      cached as (
        select customer_id, kind, available, pending, held, debt from balances where ${scope("customer_id")}),
      joined as (
        select customer_id || '/' || kind as at,
          coalesce(l.available, 0) as lots_available, coalesce(p.available, 0) as posted_available,
          coalesce(c.available, 0) as cached_available,
          coalesce(l.pending, 0) as lots_pending, coalesce(p.pending, 0) as posted_pending,
          coalesce(c.pending, 0) as cached_pending,
          coalesce(h.held, 0) as holds_held, coalesce(p.held, 0) as posted_held, coalesce(c.held, 0) as cached_held,
          -coalesce(p.debt, 0) as posted_debt, coalesce(c.debt, 0) as cached_debt,
          coalesce(r.outstanding, 0) as outstanding, coalesce(p.redeemed, 0) as posted_redeemed,
          coalesce(p.expired, 0) as posted_expired, coalesce(p.clawed_back, 0) as posted_clawed_back
        from posted as p
          full join in_lots as l using (customer_id, kind)
          full join in_holds as h using (customer_id, kind)
          full join in_redemptions as r using (customer_id, kind)
          full join cached as c using (customer_id, kind)),
      broken as (
        select *, least(lots_available, lots_pending, holds_held, cached_debt, posted_expired, posted_clawed_back,
                        posted_redeemed) < 0 as negative
        from joined
        where lots_available <> posted_available or posted_available <> cached_available
          or lots_pending <> posted_pending or posted_pending <> cached_pending
          or holds_held <> posted_held or posted_held <> cached_held
          or posted_debt <> cached_debt or outstanding <> posted_redeemed
          or least(lots_available, lots_pending, holds_held, cached_debt, posted_expired, posted_clawed_back,
                   posted_redeemed) < 0),
      funder_posted as (
        select funder, sum(funders) as posted from posted_by_funder where funder is not null group by funder),
      issued as (
        select funder, sum(amount) as issued
        from lots where ${scope("customer_id")} and source <> 'refund_grace'
        group by funder),
      given_back as (
        select case when m.type = 'adjust' then 'marketplace' else l.funder end as funder, sum(-d.delta) as given_back
        from movements as m
          cross join ${lotDeltaRowsSql()} as d
          join lots as l on l.customer_id = m.customer_id and l.lot_id = d.lot_id
        where ${scope("m.customer_id")} and m.type in ('clawback', 'adjust') and d.delta < 0
          and (m.type = 'adjust' or m.occurred_at < l.available_from)
        group by 1)
    select
      (select coalesce(json_agg(v), '[]') from (
        select 'balances_match_lots_and_holds' as check, f.message
        from broken as b cross join lateral (values
          (1, b.lots_available <> b.posted_available or b.posted_available <> b.cached_available,
           format('%s: available disagree: lots %s, postings %s, balances %s',
                  b.at, b.lots_available, b.posted_available, b.cached_available)),
          (2, b.lots_pending <> b.posted_pending or b.posted_pending <> b.cached_pending,
           format('%s: pending disagree: lots %s, postings %s, balances %s',
                  b.at, b.lots_pending, b.posted_pending, b.cached_pending)),
          (3, b.holds_held <> b.posted_held or b.posted_held <> b.cached_held,
           format('%s: held disagree: active holds %s, postings %s, balances %s',
                  b.at, b.holds_held, b.posted_held, b.cached_held)),
          (4, b.posted_debt <> b.cached_debt,
           format('%s: debt disagree: postings %s, balances %s', b.at, b.posted_debt, b.cached_debt)),
          (5, b.outstanding <> b.posted_redeemed,
           format('%s: redeemed disagree: redemptions %s, postings %s', b.at, b.outstanding, b.posted_redeemed)),
          (6, b.negative,
           format('%s: negative total: available %s, pending %s, held %s, debt %s, expired %s, clawed back %s, redeemed %s',
                  b.at, b.lots_available, b.lots_pending, b.holds_held, b.cached_debt, b.posted_expired,
                  b.posted_clawed_back, b.posted_redeemed))
        ) as f(n, broken, message)
        where f.broken
        order by b.at, f.n
        limit ${limit + 1}) as v) as balances,
      (select coalesce(json_agg(v), '[]') from (
        select 'funders_match_postings' as check,
          format('funder %s: its account was posted %s, its lots say %s (issued %s, given back %s)',
                 funder, coalesce(posted, 0), coalesce(given_back, 0) - coalesce(issued, 0), coalesce(issued, 0),
                 coalesce(given_back, 0)) as message
        from funder_posted full join issued using (funder) full join given_back using (funder)
        where coalesce(posted, 0) <> coalesce(given_back, 0) - coalesce(issued, 0)
        order by funder
        limit ${limit + 1}) as v) as funders,
      (select json_build_object(
          'movements', sum(movements)::text, 'suspect', sum(suspect)::text, 'wallets', sum(wallets)::text,
          'sinks', sum(sinks)::text, 'funders', sum(funders)::text)
       from posted_by_funder) as totals`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error("reconcile_postings answered no row");
  return row;
}

/** reconcile_movements: the movements that break R32, listed (run only when some do). */
function unbalancedMovements(scope: Scope, limit: number) {
  return sql<{ check: ReconciliationCheck; message: string }>`
    -- reconcile_movements
    select 'movements_net_to_zero' as check,
      format('movement %s/%s (%s): postings net to %s; %s postings over %s account bytes (%s zero, %s to no known account); %s lot ref bytes for %s deltas',
             m.customer_id, m.movement_id, m.type, x.net, x.postings, length(m.accounts), x.zeros,
             x.unknown_accounts, length(m.lot_refs), cardinality(m.lot_deltas)) as message
    from movements as m cross join ${movementPostingsSql()}
    where ${scope("m.customer_id")} and ${UNBALANCED}
    order by m.customer_id, m.movement_id
    limit ${limit + 1}`;
}

/** reconcile_lots (R3): each lot against the deltas posted to it. */
function lotsAgainstDeltas(scope: Scope, limit: number) {
  return sql<{ check: ReconciliationCheck; message: string }>`
    -- reconcile_lots
    with
      posted as (
        select m.customer_id, d.lot_id, sum(d.delta) as posted
        from movements as m cross join ${lotDeltaRowsSql()} as d
        where ${scope("m.customer_id")}
        group by m.customer_id, d.lot_id),
      lot as (select customer_id, lot_id, amount, remaining, state from lots where ${scope("customer_id")})
    select 'lots_match_movements' as check,
      case when l.amount is null
        then format('movements post %s to lot %s/%s, which does not exist', p.posted, customer_id, lot_id)
        else format('lot %s/%s (%s): remaining %s of %s, lot deltas posted to it sum to %s',
                    customer_id, lot_id, l.state, l.remaining, l.amount, coalesce(p.posted, 0)) end as message
    from lot as l full join posted as p using (customer_id, lot_id)
    where l.amount is null or l.remaining <> coalesce(p.posted, 0) or l.remaining < 0 or l.remaining > l.amount
      or l.state not in ('pending', 'available')
    order by customer_id, lot_id
    limit ${limit + 1}`;
}

/** reconcile_takes (R15, R20): holds and redemptions against the lots they took from. */
function takesAgainstLots(scope: Scope, limit: number) {
  return sql<{ check: ReconciliationCheck; message: string }>`
    -- reconcile_takes
    with
      taking as (
        select 'hold' as what, customer_id, hold_id as id, kind, amount, state, 0::bigint as refunded,
          take_lot_ids, take_amounts, take_returned
        from holds where ${scope("customer_id")}
        union all
        select 'redemption', customer_id, redemption_id, kind, amount, null, refunded,
          take_lot_ids, take_amounts, take_returned
        from redemptions where ${scope("customer_id")}),
      take as (
        select t.what, t.customer_id, t.id, t.state, u.lot_id, u.a, u.r,
          (u.lot_id is null or u.a is null or u.r is null or u.a <= 0 or u.r < 0 or u.r > u.a) as bad,
          (l.lot_id is null or l.kind <> t.kind) as missing
        from taking as t
          cross join lateral unnest(t.take_lot_ids, t.take_amounts, t.take_returned) as u(lot_id, a, r)
          left join lots as l on l.customer_id = t.customer_id and l.lot_id = u.lot_id),
      summed as (
        select t.what, t.customer_id, t.id, t.amount, t.state, t.refunded,
          cardinality(t.take_lot_ids) as n_lots, cardinality(t.take_amounts) as n_amounts,
          cardinality(t.take_returned) as n_returned,
          coalesce(g.taken, 0) as taken, coalesce(g.returned, 0) as returned,
          coalesce(g.bad, 0) as bad_takes, coalesce(g.missing, 0) as missing_lots
        from taking as t left join (
          select what, customer_id, id, sum(a) as taken, sum(r) as returned,
            count(*) filter (where bad) as bad, count(*) filter (where missing) as missing
          from take group by what, customer_id, id) as g using (what, customer_id, id)),
      owed as (
        select customer_id, lot_id, sum(a - r) as owed
        from take where what = 'redemption' or state = 'active'
        group by customer_id, lot_id)
    select 'takes_match_lots' as check, message from (
      select format('%s %s/%s: %s', what, customer_id, id, concat_ws('; ',
          case when n_lots <> n_amounts or n_lots <> n_returned
            then format('take arrays have lengths %s/%s/%s', n_lots, n_amounts, n_returned) end,
          case when taken <> amount then format('takes sum to %s, amount is %s', taken, amount) end,
          case when bad_takes > 0 then format('%s takes with a bad amount or returned count', bad_takes) end,
          case when missing_lots > 0 then format('%s takes name no lot of its kind', missing_lots) end,
          case when what = 'redemption' and returned <> refunded
            then format('takes returned %s but refunded %s', returned, refunded) end,
          case when what = 'redemption' and (refunded < 0 or refunded > amount)
            then format('refunded %s of %s', refunded, amount) end,
          case when what = 'hold' and state in ('active', 'captured') and returned <> 0
            then format('%s hold has %s returned', state, returned) end,
          case when what = 'hold' and state = 'released' and returned <> amount
            then format('released hold returned %s of %s', returned, amount) end)) as message
        from summed
        where n_lots <> n_amounts or n_lots <> n_returned or taken <> amount or bad_takes > 0 or missing_lots > 0
          or (what = 'redemption' and (returned <> refunded or refunded < 0 or refunded > amount))
          or (what = 'hold' and state in ('active', 'captured') and returned <> 0)
          or (what = 'hold' and state = 'released' and returned <> amount)
      union all
      select format('lot %s/%s: remaining %s + %s still owed back to it by holds and redemptions exceeds its amount %s',
          l.customer_id, l.lot_id, l.remaining, o.owed, l.amount)
        from owed as o join lots as l using (customer_id, lot_id)
        where l.remaining + o.owed > l.amount
    ) as found
    order by message
    limit ${limit + 1}`;
}

const big = (text: string | null) => BigInt(text ?? "0");

/** The reconciliation of one snapshot: the first `limit` violations and the trial balance. */
export async function reconcileLedger(
  db: Kysely<Database>,
  options: ReconcileOptions,
): Promise<Reconciliation> {
  const { customerId, limit } = options;
  const scope: Scope = (column) =>
    customerId === undefined ? sql<boolean>`true` : sql<boolean>`${sql.ref(column)} = ${customerId}`;
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (tx) => {
      // Aggregates over every customer's rows: room to hash them in memory rather than spill. A
      // memoized unnest of each movement's arrays never hits (they differ row by row): off.
      await sql`set local work_mem = '64MB'`.execute(tx);
      await sql.raw(`set local statement_timeout = '${REPORT_STATEMENT_TIMEOUT}'`).execute(tx);
      await sql`set local enable_memoize = off`.execute(tx);
      const postings = await reconcilePostings(tx, scope, limit);
      const { totals } = postings;
      const wallets = big(totals.wallets);
      const sinks = big(totals.sinks);
      const funders = big(totals.funders);
      const total = wallets + sinks + funders;
      const found: Violation[] = [
        ...(big(totals.suspect) > 0n ? await violationsOf(unbalancedMovements(scope, limit), tx) : []),
        ...(total === 0n
          ? []
          : [
              {
                check: "accounts_sum_to_zero" as const,
                message: `postings over all accounts sum to ${total}, not 0 (wallets ${wallets}, sinks ${sinks}, funders ${funders})`,
              },
            ]),
        ...postings.balances,
        ...(await violationsOf(lotsAgainstDeltas(scope, limit), tx)),
        ...(await violationsOf(takesAgainstLots(scope, limit), tx)),
        ...postings.funders,
      ];
      return {
        violations: found.slice(0, limit),
        truncated: found.length > limit,
        movements: big(totals.movements),
        postings: { wallets, sinks, funders },
      };
    });
}
