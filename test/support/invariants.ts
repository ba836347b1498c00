import { type Kysely, type RawBuilder, sql } from "kysely";
import type { ExplanationCode } from "../../src/domain/ledger/index.js";
import { notificationTypeOf } from "../../src/domain/notifications/index.js";
import { accountsOf, EXPLANATION_CODES, lotIdsOf } from "../../src/infra/movement-rows.js";
import type { Database } from "../../src/infra/schema.js";

/**
 * Ledger invariants checked straight against the tables (R3, R4, R6, R14, R15, R20, R32), independent of
 * the domain code. Every check returns a list of human-readable violations; an empty list means the
 * ledger is consistent. Pass a customer id to check one customer (cheap), or nothing for the whole
 * database.
 *
 * The invariants:
 *  - R32: every movement nets to zero, its parallel arrays line up, and all postings sum to zero;
 *  - R6, R14, R20, per customer and kind: Σ remaining of available lots = postings to wallet:available =
 *    balances.available; the same for pending; Σ active holds = postings to wallet:held = balances.held;
 *    debt = −postings to wallet:debt = balances.debt; Σ (amount − refunded) of redemptions = postings to
 *    sink:redeemed; none of these (nor sink:expired, sink:clawed_back) negative;
 *  - R3: 0 <= remaining <= amount, and a lot's remaining equals the sum of the lot deltas posted to it;
 *  - R15, R20: holds and redemptions took from lots of their kind, their takes sum to their amount, what
 *    came back matches their state / refunded amount, and no lot is owed back more than it gave.
 *
 * Two implementations of the same list: `checkLedgerInvariants` reads the rows with one query and checks
 * them here (fast enough to run after every step on PGlite), `checkLedgerInvariantsInSql` does it all in
 * one SQL statement. Each guards the other, down to how account and lot codes are read: here with the
 * service's decoder, in SQL through the view movements_readable (migration 5).
 */

function scope(customerId: string | undefined, column: RawBuilder<unknown> = sql.ref("customer_id")) {
  return customerId === undefined ? sql<boolean>`true` : sql<boolean>`${column} = ${customerId}`;
}

export interface MovementRow {
  customer_id: string;
  movement_id: string;
  kind: string;
  type: string;
  accounts: string[];
  amounts: number[];
  lot_ids: string[];
  lot_deltas: number[];
  reference: string | null;
  occurred_at: Date;
}

export interface LotRow {
  customer_id: string;
  lot_id: string;
  kind: string;
  amount: number;
  remaining: number;
  source: string;
  funder: string;
  state: string;
  created_at: Date;
  available_from: Date;
  expires_at: Date;
  reference: string | null;
}

interface TakesRow {
  customer_id: string;
  kind: string;
  amount: number;
  created_at: Date;
  take_lot_ids: string[];
  take_amounts: number[];
  take_returned: number[];
}

export interface HoldRow extends TakesRow {
  hold_id: string;
  state: string;
  release_reason: string | null;
  expires_at: Date;
}

export interface RedemptionRow extends TakesRow {
  redemption_id: string;
  refunded: number;
}

export interface BalanceRow {
  customer_id: string;
  kind: string;
  available: number;
  pending: number;
  held: number;
  debt: number;
}

/** One customer's (or every customer's) ledger tables, as stored. */
export interface LedgerRows {
  movements: MovementRow[];
  lots: LotRow[];
  holds: HoldRow[];
  redemptions: RedemptionRow[];
  balances: BalanceRow[];
}

/** Reads the ledger tables in one query (JSON is far cheaper to decode than int8[] columns). */
export async function loadLedgerRows(db: Kysely<Database>, customerId?: string): Promise<LedgerRows> {
  const f = scope(customerId);
  const result = await sql<{
    m: (Omit<MovementRow, "accounts" | "lot_ids"> & {
      accounts: string;
      funders: string[] | null;
      lot_refs: string;
    })[];
    l: LotRow[];
    h: HoldRow[];
    r: RedemptionRow[];
    b: BalanceRow[];
  }>`
    select
      (select coalesce(json_agg(x), '[]') from (
        select customer_id, movement_id, kind, type, encode(accounts, 'hex') as accounts, funders, amounts,
          encode(lot_refs, 'hex') as lot_refs, lot_deltas, reference, occurred_at
        from movements where ${f}) as x) as m,
      (select coalesce(json_agg(x), '[]') from lots as x where ${f}) as l,
      (select coalesce(json_agg(x), '[]') from holds as x where ${f}) as h,
      (select coalesce(json_agg(x), '[]') from redemptions as x where ${f}) as r,
      (select coalesce(json_agg(x), '[]') from balances as x where ${f}) as b`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error("no row");
  const date = (v: unknown) => new Date(v as string);
  return {
    movements: row.m.map(({ funders, lot_refs, ...m }) => ({
      ...m,
      accounts: accountsOf(Buffer.from(m.accounts, "hex"), funders),
      lot_ids: lotIdsOf(Buffer.from(lot_refs, "hex")),
      occurred_at: date(m.occurred_at),
    })),
    lots: row.l.map((l) => ({
      ...l,
      created_at: date(l.created_at),
      available_from: date(l.available_from),
      expires_at: date(l.expires_at),
    })),
    holds: row.h.map((h) => ({ ...h, created_at: date(h.created_at), expires_at: date(h.expires_at) })),
    redemptions: row.r.map((r) => ({ ...r, created_at: date(r.created_at) })),
    balances: row.b,
  };
}

const sum = (values: readonly (number | null | undefined)[]) =>
  values.reduce<number>((s, v) => s + (v ?? 0), 0);

/** The invariants listed at the top, over rows already read. */
export function findLedgerViolations(rows: LedgerRows): string[] {
  const violations: string[] = [];
  const perKind = new Map<
    string,
    {
      lotsAvailable: number;
      lotsPending: number;
      activeHolds: number;
      outstanding: number;
      posted: Map<string, number>;
      cache: BalanceRow | undefined;
    }
  >();
  const at = (customerId: string, kind: string) => {
    const key = `${customerId}/${kind}`;
    let entry = perKind.get(key);
    if (!entry) {
      entry = {
        lotsAvailable: 0,
        lotsPending: 0,
        activeHolds: 0,
        outstanding: 0,
        posted: new Map(),
        cache: undefined,
      };
      perKind.set(key, entry);
    }
    return entry;
  };

  // R32.
  let total = 0;
  const lotDeltas = new Map<string, number>();
  for (const m of rows.movements) {
    const net = sum(m.amounts);
    total += net;
    if (
      net !== 0 ||
      m.accounts.length !== m.amounts.length ||
      m.lot_ids.length !== m.lot_deltas.length ||
      m.accounts.length < 2 ||
      m.amounts.includes(0)
    ) {
      violations.push(
        `movement ${m.customer_id}/${m.movement_id} (${m.type}) nets to ${net}; accounts/amounts/lots/deltas have lengths ` +
          `${m.accounts.length}/${m.amounts.length}/${m.lot_ids.length}/${m.lot_deltas.length}`,
      );
    }
    const posted = at(m.customer_id, m.kind).posted;
    m.accounts.forEach((account, i) => {
      posted.set(account, (posted.get(account) ?? 0) + (m.amounts[i] ?? 0));
    });
    m.lot_ids.forEach((lotId, i) => {
      const key = `${m.customer_id}/${lotId}`;
      lotDeltas.set(key, (lotDeltas.get(key) ?? 0) + (m.lot_deltas[i] ?? 0));
    });
  }
  if (total !== 0) violations.push(`postings over all accounts sum to ${total}, not 0`);

  // R3.
  const lots = new Map<string, LotRow>();
  for (const l of rows.lots) {
    const key = `${l.customer_id}/${l.lot_id}`;
    lots.set(key, l);
    const entry = at(l.customer_id, l.kind);
    if (l.state === "available") entry.lotsAvailable += l.remaining;
    else if (l.state === "pending") entry.lotsPending += l.remaining;
    else violations.push(`lot ${key} is in state ${l.state}`);
    const deltas = lotDeltas.get(key) ?? 0;
    if (l.remaining < 0 || l.remaining > l.amount || deltas !== l.remaining) {
      violations.push(
        `lot ${key}: remaining ${l.remaining} of ${l.amount}, lot deltas posted to it sum to ${deltas}`,
      );
    }
  }
  for (const [key, deltas] of lotDeltas) {
    if (!lots.has(key)) violations.push(`movements post ${deltas} to lot ${key}, which does not exist`);
  }

  // R15, R20.
  const owed = new Map<string, number>();
  const checkTakes = (what: string, id: string, t: TakesRow, owes: boolean): string[] => {
    const problems: string[] = [];
    const n = t.take_lot_ids.length;
    if (t.take_amounts.length !== n || t.take_returned.length !== n) {
      problems.push(`take arrays have lengths ${n}/${t.take_amounts.length}/${t.take_returned.length}`);
    }
    const taken = sum(t.take_amounts);
    if (taken !== t.amount) problems.push(`takes sum to ${taken}, amount is ${t.amount}`);
    t.take_lot_ids.forEach((lotId, i) => {
      const a = t.take_amounts[i];
      const r = t.take_returned[i];
      if (a === undefined || r === undefined || a <= 0 || r < 0 || r > a) {
        problems.push(`take ${i} from ${lotId}: amount ${a}, returned ${r}`);
      }
      const lot = lots.get(`${t.customer_id}/${lotId}`);
      if (!lot || lot.kind !== t.kind) problems.push(`take ${i} names no ${t.kind} lot ${lotId}`);
      if (owes && a !== undefined && r !== undefined) {
        const key = `${t.customer_id}/${lotId}`;
        owed.set(key, (owed.get(key) ?? 0) + a - r);
      }
    });
    return problems.map((p) => `${what} ${t.customer_id}/${id}: ${p}`);
  };
  for (const h of rows.holds) {
    violations.push(...checkTakes("hold", h.hold_id, h, h.state === "active"));
    const returned = sum(h.take_returned);
    if ((h.state === "active" || h.state === "captured") && returned !== 0) {
      violations.push(`hold ${h.customer_id}/${h.hold_id}: ${h.state} hold has ${returned} returned`);
    }
    if (h.state === "released" && returned !== h.amount) {
      violations.push(
        `hold ${h.customer_id}/${h.hold_id}: released hold returned ${returned} of ${h.amount}`,
      );
    }
    if (h.state === "active") at(h.customer_id, h.kind).activeHolds += h.amount;
  }
  for (const r of rows.redemptions) {
    violations.push(...checkTakes("redemption", r.redemption_id, r, true));
    const returned = sum(r.take_returned);
    if (returned !== r.refunded) {
      violations.push(
        `redemption ${r.customer_id}/${r.redemption_id}: takes returned ${returned} but refunded ${r.refunded}`,
      );
    }
    if (r.refunded < 0 || r.refunded > r.amount) {
      violations.push(
        `redemption ${r.customer_id}/${r.redemption_id}: refunded ${r.refunded} of ${r.amount}`,
      );
    }
    at(r.customer_id, r.kind).outstanding += r.amount - r.refunded;
  }
  for (const [key, n] of owed) {
    const lot = lots.get(key);
    if (lot && lot.remaining + n > lot.amount) {
      violations.push(
        `lot ${key}: remaining ${lot.remaining} + ${n} still owed back to it by holds and redemptions exceeds its amount ${lot.amount}`,
      );
    }
  }

  // R6, R14, R20.
  for (const b of rows.balances) at(b.customer_id, b.kind).cache = b;
  for (const [key, e] of perKind) {
    const posted = (account: string) => e.posted.get(account) ?? 0;
    const same = (what: string, values: Record<string, number>) => {
      if (new Set(Object.values(values)).size > 1)
        violations.push(`${key}: ${what} disagree: ${JSON.stringify(values)}`);
    };
    same("available", {
      lots: e.lotsAvailable,
      postings: posted("wallet:available"),
      balances: e.cache?.available ?? 0,
    });
    same("pending", {
      lots: e.lotsPending,
      postings: posted("wallet:pending"),
      balances: e.cache?.pending ?? 0,
    });
    same("held", {
      activeHolds: e.activeHolds,
      postings: posted("wallet:held"),
      balances: e.cache?.held ?? 0,
    });
    same("debt", { postings: -posted("wallet:debt"), balances: e.cache?.debt ?? 0 });
    same("redeemed", { redemptions: e.outstanding, postings: posted("sink:redeemed") });
    const totals = {
      available: e.lotsAvailable,
      pending: e.lotsPending,
      held: e.activeHolds,
      debt: e.cache?.debt ?? 0,
      expired: posted("sink:expired"),
      clawedBack: posted("sink:clawed_back"),
      redeemed: posted("sink:redeemed"),
    };
    if (Object.values(totals).some((v) => v < 0))
      violations.push(`${key}: negative total: ${JSON.stringify(totals)}`);
  }
  return violations;
}

/** Every invariant listed at the top, for one customer or the whole database. */
export async function checkLedgerInvariants(db: Kysely<Database>, customerId?: string): Promise<string[]> {
  return [
    ...findLedgerViolations(await loadLedgerRows(db, customerId)),
    ...(await checkOutboxInSql(db, customerId)),
  ];
}

/** Every invariant listed at the top, in one SQL statement that reads each table once. */
export async function checkLedgerInvariantsInSql(
  db: Kysely<Database>,
  customerId?: string,
): Promise<string[]> {
  const f = scope(customerId);
  const result = await sql<{ problem: string }>`
    with
      mv as materialized (
        select customer_id, movement_id, kind, type, accounts, amounts, lot_ids, lot_deltas
        from movements_readable where ${f}),
      post as materialized (
        select m.customer_id, m.kind, x.account, x.amount
        from mv m, unnest(m.accounts, m.amounts) as x(account, amount)),
      lt as materialized (
        select customer_id, lot_id, kind, amount, remaining, state from lots where ${f}),
      tk as materialized (
        select 'hold' as what, customer_id, hold_id as id, kind, amount, state, 0::bigint as refunded,
          take_lot_ids, take_amounts, take_returned
        from holds where ${f}
        union all
        select 'redemption', customer_id, redemption_id, kind, amount, null, refunded,
          take_lot_ids, take_amounts, take_returned
        from redemptions where ${f}),
      bl as materialized (select customer_id, kind, available, pending, held, debt from balances where ${f}),
      keys as (
        select customer_id, kind from bl
        union select customer_id, kind from lt
        union select customer_id, kind from tk
        union select customer_id, kind from mv),
      pk as (
        select customer_id, kind,
          sum(amount) filter (where account = 'wallet:available') as av,
          sum(amount) filter (where account = 'wallet:pending') as pe,
          sum(amount) filter (where account = 'wallet:held') as held,
          sum(amount) filter (where account = 'wallet:debt') as debt,
          sum(amount) filter (where account = 'sink:redeemed') as redeemed,
          sum(amount) filter (where account = 'sink:expired') as expired,
          sum(amount) filter (where account = 'sink:clawed_back') as clawed
        from post group by customer_id, kind),
      lk as (
        select customer_id, kind,
          sum(remaining) filter (where state = 'available') as av,
          sum(remaining) filter (where state = 'pending') as pe
        from lt group by customer_id, kind),
      hk as (
        select customer_id, kind,
          sum(amount) filter (where what = 'hold' and state = 'active') as held,
          sum(amount - refunded) filter (where what = 'redemption') as outstanding
        from tk group by customer_id, kind),
      rec as (
        select k.customer_id || '/' || k.kind as at,
          coalesce(lk.av, 0) as lots_av, coalesce(pk.av, 0) as post_av, coalesce(bl.available, 0) as cache_av,
          coalesce(lk.pe, 0) as lots_pe, coalesce(pk.pe, 0) as post_pe, coalesce(bl.pending, 0) as cache_pe,
          coalesce(hk.held, 0) as holds_held, coalesce(pk.held, 0) as post_held, coalesce(bl.held, 0) as cache_held,
          -coalesce(pk.debt, 0) as post_debt, coalesce(bl.debt, 0) as cache_debt,
          coalesce(hk.outstanding, 0) as outstanding, coalesce(pk.redeemed, 0) as post_redeemed,
          coalesce(pk.expired, 0) as post_expired, coalesce(pk.clawed, 0) as post_clawed
        from keys k
          left join pk using (customer_id, kind)
          left join lk using (customer_id, kind)
          left join hk using (customer_id, kind)
          left join bl using (customer_id, kind)),
      deltas as (
        select m.customer_id, x.lot_id, sum(x.delta) as s
        from mv m, unnest(m.lot_ids, m.lot_deltas) as x(lot_id, delta)
        group by m.customer_id, x.lot_id),
      nets as (
        select m.customer_id, m.movement_id, m.type, coalesce(sum(x.amount), 0) as net,
          cardinality(m.accounts) as n_accounts, cardinality(m.amounts) as n_amounts,
          cardinality(m.lot_ids) as n_lots, cardinality(m.lot_deltas) as n_deltas,
          count(*) filter (where x.amount = 0) as zeros
        from mv m left join lateral unnest(m.amounts) as x(amount) on true
        group by m.customer_id, m.movement_id, m.type, m.accounts, m.amounts, m.lot_ids, m.lot_deltas),
      tu as (
        select t.what, t.customer_id, t.id, t.state, u.lot_id, u.a, u.r,
          (u.lot_id is null or u.a is null or u.r is null or u.a <= 0 or u.r < 0 or u.r > u.a) as bad,
          (lt.lot_id is null or lt.kind <> t.kind) as missing
        from tk t
          cross join lateral unnest(t.take_lot_ids, t.take_amounts, t.take_returned) as u(lot_id, a, r)
          left join lt on lt.customer_id = t.customer_id and lt.lot_id = u.lot_id),
      tx as (
        select t.what, t.customer_id, t.id, t.amount, t.state, t.refunded,
          cardinality(t.take_lot_ids) as n_lots, cardinality(t.take_amounts) as n_amounts,
          cardinality(t.take_returned) as n_returned,
          coalesce(g.taken, 0) as taken, coalesce(g.returned, 0) as returned,
          coalesce(g.bad, 0) as bad_takes, coalesce(g.missing, 0) as missing_lots
        from tk t left join (
          select what, customer_id, id, sum(a) as taken, sum(r) as returned,
            count(*) filter (where bad) as bad, count(*) filter (where missing) as missing
          from tu group by what, customer_id, id) as g using (what, customer_id, id)),
      owed as (
        select customer_id, lot_id, sum(a - r) as owed
        from tu where what = 'redemption' or state = 'active'
        group by customer_id, lot_id)
    select problem from (
      select format('movement %s/%s (%s) nets to %s; accounts/amounts/lots/deltas have lengths %s/%s/%s/%s',
          customer_id, movement_id, type, net, n_accounts, n_amounts, n_lots, n_deltas) as problem
        from nets
        where net <> 0 or n_accounts <> n_amounts or n_lots <> n_deltas or n_accounts < 2 or zeros > 0
      union all
      select format('postings over all accounts sum to %s, not 0', s)
        from (select coalesce(sum(amount), 0) as s from post) as t where s <> 0
      union all
      select format('%s: available disagree: lots %s, postings %s, balances %s', at, lots_av, post_av, cache_av)
        from rec where lots_av <> post_av or post_av <> cache_av
      union all
      select format('%s: pending disagree: lots %s, postings %s, balances %s', at, lots_pe, post_pe, cache_pe)
        from rec where lots_pe <> post_pe or post_pe <> cache_pe
      union all
      select format('%s: held disagree: active holds %s, postings %s, balances %s', at, holds_held, post_held, cache_held)
        from rec where holds_held <> post_held or post_held <> cache_held
      union all
      select format('%s: debt disagree: postings %s, balances %s', at, post_debt, cache_debt)
        from rec where post_debt <> cache_debt
      union all
      select format('%s: redeemed disagree: redemptions %s, postings %s', at, outstanding, post_redeemed)
        from rec where outstanding <> post_redeemed
      union all
      select format('%s: negative total: available %s, pending %s, held %s, debt %s, expired %s, clawed back %s, redeemed %s',
          at, lots_av, lots_pe, holds_held, cache_debt, post_expired, post_clawed, post_redeemed)
        from rec
        where least(lots_av, lots_pe, holds_held, cache_debt, post_expired, post_clawed, post_redeemed) < 0
      union all
      select case when l.lot_id is null
          then format('movements post %s to lot %s/%s, which does not exist', d.s, d.customer_id, d.lot_id)
          else format('lot %s/%s: remaining %s of %s, lot deltas posted to it sum to %s',
            l.customer_id, l.lot_id, l.remaining, l.amount, coalesce(d.s, 0)) end
        from lt l full join deltas d on d.customer_id = l.customer_id and d.lot_id = l.lot_id
        where l.lot_id is null or l.remaining < 0 or l.remaining > l.amount or coalesce(d.s, 0) <> l.remaining
      union all
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
            then format('released hold returned %s of %s', returned, amount) end))
        from tx
        where n_lots <> n_amounts or n_lots <> n_returned or taken <> amount or bad_takes > 0 or missing_lots > 0
          or (what = 'redemption' and (returned <> refunded or refunded < 0 or refunded > amount))
          or (what = 'hold' and state in ('active', 'captured') and returned <> 0)
          or (what = 'hold' and state = 'released' and returned <> amount)
      union all
      select format('lot %s/%s: remaining %s + %s still owed back to it by holds and redemptions exceeds its amount %s',
          l.customer_id, l.lot_id, l.remaining, o.owed, l.amount)
        from owed o join lt l using (customer_id, lot_id)
        where l.remaining + o.owed > l.amount
    ) as violations
    limit 50`.execute(db);
  return [...result.rows.map((r) => r.problem), ...(await checkOutboxInSql(db, customerId))];
}

/**
 * R31, the outbox against the ledger: every movement whose explanation tells the customer something
 * has exactly its notification (its digits, its type), and every notification but an expiry notice
 * names a movement of its customer that causes one — so none was written for a refused request (it
 * writes no movement) and none lost for an applied one. Only before the retention sweep.
 */
export async function checkOutboxInSql(db: Kysely<Database>, customerId?: string): Promise<string[]> {
  const codes = Object.entries(EXPLANATION_CODES).flatMap(([code, n]) => {
    const type = notificationTypeOf(code as ExplanationCode);
    return type === null ? [] : [sql`(${n}::smallint, ${type}::text)`];
  });
  // Each lookup goes through a primary key: a check run after every step must not be quadratic.
  const result = await sql<{ problem: string }>`
    with codes (code, type) as (values ${sql.join(codes)})
    select problem from (
      select format('movement %s/%s has no %s notification', m.customer_id, m.movement_id, c.type) as problem
        from movements m join codes c on c.code = m.explanation_code
        where ${scope(customerId, sql.ref("m.customer_id"))} and not exists (
          select 1 from notifications n
          where n.customer_id = m.customer_id and n.notification_id = 'ntf_' || substr(m.movement_id, 5)
            and n.movement_id = m.movement_id and n.type = c.type)
      union all
      select format('notification %s/%s (%s) names no movement of its customer that causes one',
          n.customer_id, n.notification_id, n.type)
        from notifications n
        where ${scope(customerId, sql.ref("n.customer_id"))} and n.threshold_days is null and not exists (
          select 1 from movements m join codes c on c.code = m.explanation_code
          where m.customer_id = n.customer_id and m.movement_id = n.movement_id)
    ) as violations
    limit 50`.execute(db);
  return result.rows.map((r) => r.problem);
}

/** R4 order: soonest-expiring first, then oldest, then by lot id. */
function spendingOrder(
  a: { expires_at: Date; created_at: Date; lot_id: string },
  b: { expires_at: Date; created_at: Date; lot_id: string },
): number {
  return (
    a.expires_at.getTime() - b.expires_at.getTime() ||
    a.created_at.getTime() - b.created_at.getTime() ||
    (a.lot_id < b.lot_id ? -1 : a.lot_id > b.lot_id ? 1 : 0)
  );
}

/**
 * R4: right after a spend or hold took `takes` from a customer's `kind` lots, the taken lots must be the
 * first lots in spending order among the lots that still had points, every one but the last emptied, in
 * that order, and none of them expired at `now`. `lots` are the customer's lots as stored after the take.
 */
export function takesFollowSpendingOrder(
  lots: LotRow[],
  kind: string,
  takes: { lotId: string; amount: number }[],
  now: Date,
): string[] {
  const byId = new Map(lots.map((r) => [r.lot_id, r]));
  const violations: string[] = [];
  const takenIds = new Set<string>();
  for (const t of takes) {
    const lot = byId.get(t.lotId);
    if (!lot) {
      violations.push(`took ${t.amount} from unknown lot ${t.lotId}`);
      continue;
    }
    if (takenIds.has(t.lotId)) violations.push(`took twice from lot ${t.lotId}`);
    takenIds.add(t.lotId);
    if (lot.kind !== kind) violations.push(`took ${kind} points from ${lot.kind} lot ${t.lotId}`);
    if (lot.state !== "available") violations.push(`took from ${lot.state} lot ${t.lotId}`);
    if (lot.expires_at.getTime() <= now.getTime()) {
      violations.push(`took from lot ${t.lotId}, expired at ${lot.expires_at.toISOString()}`);
    }
    if (t.amount <= 0) violations.push(`took ${t.amount} from lot ${t.lotId}`);
  }
  if (violations.length > 0) return violations;
  const candidates = lots
    .filter((r) => r.kind === kind && r.state === "available" && (r.remaining > 0 || takenIds.has(r.lot_id)))
    .sort(spendingOrder);
  const prefix = candidates.slice(0, takes.length).map((r) => r.lot_id);
  const taken = takes.map((t) => t.lotId);
  if (JSON.stringify(prefix) !== JSON.stringify(taken)) {
    violations.push(
      `R4: took from ${JSON.stringify(taken)} but the lots in spending order were ${JSON.stringify(
        candidates.map((r) => `${r.lot_id} exp ${r.expires_at.toISOString()} rem ${r.remaining}`),
      )}`,
    );
  }
  for (const id of taken.slice(0, -1)) {
    const lot = byId.get(id);
    if (lot && lot.remaining !== 0) {
      violations.push(
        `R4: lot ${id} was not emptied (${lot.remaining} left) although a later lot was taken from`,
      );
    }
  }
  return violations;
}

/** `takesFollowSpendingOrder` against the customer's lots as they are stored now. */
export async function checkTakesInSpendingOrder(
  db: Kysely<Database>,
  customerId: string,
  kind: string,
  takes: { lotId: string; amount: number }[],
  now: Date,
): Promise<string[]> {
  return takesFollowSpendingOrder((await loadLedgerRows(db, customerId)).lots, kind, takes, now);
}
