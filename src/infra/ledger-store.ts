import { type Kysely, sql, type Transaction } from "kysely";
import {
  type BalanceSnapshot,
  type CustomerLoad,
  type CustomerState,
  type CustomerWrite,
  type EventOutcome,
  type HistoryPage,
  type HistoryQuery,
  idempotencySlot,
  type LedgerStore,
  type LedgerTransaction,
  type StoredOrderEvent,
} from "../app/ports.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import {
  addDays,
  type BalanceTotals,
  type CreditSource,
  type Hold,
  type Lot,
  type LotTake,
  type Redemption,
  type SpendableCoverage,
  zeroTotals,
} from "../domain/ledger/index.js";
import type { OrderEvent } from "../domain/orders/index.js";
import { loadBudgets, readBudgetSlices, reserveFromBudgets } from "./budget-store.js";
import { settleDueLotsInBulk } from "./bulk-settlement.js";
import { movementFromRow, movementRow } from "./movement-rows.js";
import {
  type NotificationRow,
  notificationRowOfMovement,
  notificationRowsFromJson,
  notificationWrites,
} from "./notification-rows.js";
import { type OrderRow, orderFromRows, orderRow, type PlacedLine, placedLines } from "./order-rows.js";
import { loadPremium, writePremium } from "./premium-store.js";
import { loadProgrammes, type ProgrammeRow, programmesOfEvents, writeProgrammes } from "./programme-store.js";
import { loadReviews, writeReviews } from "./review-store.js";
import { payInterestInBulk } from "./savings-interest-bulk.js";
import { loadSavings, writeSavings } from "./savings-store.js";
import type { Database } from "./schema.js";
import { writeOrderDays } from "./segment-store.js";
import { writeSellerStats } from "./seller-discount-store.js";

/** SQLSTATEs after which the whole transaction can simply run again: serialization failure, deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 5;

export function isRetryable(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && RETRYABLE.has((error as { code?: string }).code ?? "")
  );
}

// Rows as json_agg returns them: timestamps are ISO strings, bigints are numbers.
type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
export type LotRow = Json<Database["lots"]>;
type HoldRow = Json<Database["holds"]>;
type RedemptionRow = Json<Database["redemptions"]>;

function takesFromRow(row: {
  take_lot_ids: string[];
  take_amounts: number[];
  take_returned: number[];
}): LotTake[] {
  return row.take_lot_ids.map((lotId, i) => ({
    lotId,
    amount: row.take_amounts[i] ?? 0,
    returned: row.take_returned[i] ?? 0,
  }));
}

function takeColumns(takes: LotTake[]) {
  return {
    take_lot_ids: takes.map((t) => t.lotId),
    take_amounts: takes.map((t) => t.amount),
    take_returned: takes.map((t) => t.returned),
  };
}

export function lotFromRow(r: LotRow | Database["lots"]): Lot {
  return {
    lotId: r.lot_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    remaining: r.remaining,
    source: r.source as CreditSource,
    funder: r.funder,
    state: r.state as Lot["state"],
    createdAt: new Date(r.created_at),
    availableFrom: new Date(r.available_from),
    expiresAt: new Date(r.expires_at),
    reference: r.reference,
  };
}

function holdFromRow(r: HoldRow): Hold {
  return {
    holdId: r.hold_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    state: r.state as Hold["state"],
    releaseReason: r.release_reason as Hold["releaseReason"],
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    takes: takesFromRow(r),
  };
}

function redemptionFromRow(r: RedemptionRow): Redemption {
  return {
    redemptionId: r.redemption_id,
    kind: r.kind as PointKind,
    amount: r.amount,
    refunded: r.refunded,
    createdAt: new Date(r.created_at),
    takes: takesFromRow(r),
  };
}

function parkedEventFromRow(r: StoredEventRow): StoredOrderEvent {
  const e = r.event as OrderEvent & { occurredAt: string };
  return {
    event: { ...e, occurredAt: new Date(e.occurredAt) } as OrderEvent,
    fingerprint: r.fingerprint,
    outcome: JSON.parse(r.outcome) as EventOutcome,
    requestId: r.request_id,
  };
}

/** Parallel arrays of (customer, id) pairs, the shape `unnest($a, $b)` takes. */
function pairs(
  requests: CustomerLoad[],
  pick: (r: CustomerLoad) => readonly string[] | undefined,
): [string[], string[]] {
  const customers: string[] = [];
  const ids: string[] = [];
  for (const r of requests) {
    for (const id of pick(r) ?? []) {
      customers.push(r.customerId);
      ids.push(id);
    }
  }
  return [customers, ids];
}

type StoredEventRow = {
  customer_id: string;
  event: unknown;
  fingerprint: string;
  outcome: string;
  request_id: string | null;
};

interface LoadRow {
  balances: ({ customer_id: string; kind: string } & BalanceTotals)[];
  holds: HoldRow[];
  redemptions: RedemptionRow[];
  lots: LotRow[];
  /** Per (customer, kind) asked to cover: whether the prefix was walked, and how far it got. */
  prefixes: {
    customer_id: string;
    kind: string;
    target: number;
    walked: boolean;
    reached: number | null;
    last_expires_at: string | null;
    last_created_at: string | null;
    last_lot_id: string | null;
  }[];
  orders: { row: OrderRow; lines: PlacedLine[] }[];
  events: {
    customer_id: string;
    event_id: string;
    fingerprint: string;
    outcome: string;
    request_id: string | null;
  }[];
  parked: StoredEventRow[];
  refused_in_sequence: {
    customer_id: string;
    event_id: string;
    order_id: string;
    sequence: number;
    code: string;
  }[];
  outcomes: {
    customer_id: string;
    caller: string;
    key: string;
    scope: string;
    fingerprint: string;
    request_id: string;
    outcome: string;
  }[];
  /** R23, R24 on the order-event path: see `programmesOfEvents` in programme-store.ts. */
  invitations: ProgrammeRow[];
  referred_orders: ProgrammeRow[];
  managers: ProgrammeRow[];
}

/**
 * The working sets of a transaction's customers, in one statement (`customers_working_set`). Nothing
 * in it reads a customer's whole history:
 *  - due: pending lots whose time has come, lots expired by now, holds timed out by now (and the lots
 *    behind them) — the three `*_due`/`lots_spendable` index ranges up to `now`;
 *  - named: holds, redemptions and lots by id, the lots behind their takes, orders and their lots,
 *    events by id, parked events of those orders, stored answers by Idempotency-Key;
 *  - spend prefix (R4): per (customer, kind, points to cover) the soonest-expiring spendable lots
 *    whose running sum covers the points, walked one `lots_spendable` probe a lot by a recursive
 *    CTE. A prefix the balance could not pay anyway is skipped unless `spendBeyondBalance`.
 * Lookups by key go through `lateral … limit 1` so the planner keeps each an index probe whatever it
 * guesses about the arrays.
 */
async function loadWorkingSets(
  db: Kysely<Database> | Transaction<Database>,
  requests: CustomerLoad[],
  now: Date,
) {
  const customers = requests.map((r) => r.customerId);
  const [holdCustomers, holdIds] = pairs(requests, (r) => r.refs?.holdIds);
  const [redemptionCustomers, redemptionIds] = pairs(requests, (r) => r.refs?.redemptionIds);
  const [lotCustomers, lotIds] = pairs(requests, (r) => r.refs?.lotIds);
  const [orderCustomers, orderIds] = pairs(requests, (r) => r.orderIds);
  const [eventCustomers, eventIds] = pairs(requests, (r) => r.eventIds);
  const keys = requests.flatMap((r) =>
    (r.idempotency ?? []).map((k) => ({ customerId: r.customerId, ...k })),
  );
  const targets = requests.flatMap((r) =>
    POINT_KINDS.filter((k) => (r.spend?.[k] ?? 0) > 0).map((kind) => ({
      customerId: r.customerId,
      kind,
      target: r.spend?.[kind] ?? 0,
      guarded: !r.spendBeyondBalance,
    })),
  );
  const asked = (f: (p: NonNullable<CustomerLoad["programmes"]>) => boolean | undefined) =>
    requests.filter((r) => r.programmes && f(r.programmes)).map((r) => r.customerId);
  const [referredCustomers, referredIds] = pairs(requests, (r) => r.programmes?.referredOrderIds);
  const result = await sql<LoadRow>`
    with recursive
      due_holds as (
        select x.* from unnest(${customers}::text[]) as c (customer_id)
          cross join lateral (
            select * from holds
            where holds.customer_id = c.customer_id and holds.state = 'active' and holds.expires_at <= ${now}
            offset 0) as x),
      h as (
        select * from due_holds
        union
        select x.* from unnest(${holdCustomers}::text[], ${holdIds}::text[]) as w (customer_id, hold_id)
          cross join lateral (
            select * from holds where holds.customer_id = w.customer_id and holds.hold_id = w.hold_id limit 1) as x),
      r as (
        select x.* from unnest(${redemptionCustomers}::text[], ${redemptionIds}::text[]) as w (customer_id, redemption_id)
          cross join lateral (
            select * from redemptions
            where redemptions.customer_id = w.customer_id and redemptions.redemption_id = w.redemption_id limit 1) as x),
      wanted_orders (customer_id, order_id) as (
        select * from unnest(${orderCustomers}::text[], ${orderIds}::text[])),
      o as (
        select x.* from wanted_orders as w
          cross join lateral (
            select * from orders
            where orders.customer_id = w.customer_id and orders.order_id = w.order_id limit 1) as x),
      -- Lots the operations may name: asked for, behind loaded holds and redemptions (points go back
      -- into them), and credited by loaded orders (returns claw back from them first).
      wanted_lots (customer_id, lot_id) as (
        select * from unnest(${lotCustomers}::text[], ${lotIds}::text[])
        union select customer_id, unnest(take_lot_ids) from h
        union select customer_id, unnest(take_lot_ids) from r
        union select o.customer_id, jsonb_array_elements_text(line -> 7)
          from o cross join jsonb_array_elements(o.progress -> 'lines') as line
        union select o.customer_id, jsonb_array_elements_text(line -> 8)
          from o cross join jsonb_array_elements(o.progress -> 'lines') as line
        -- R25: an order's savings cashback lots (progress.cashback, absent on most orders).
        union select o.customer_id, jsonb_array_elements_text(o.progress -> 'cashback' -> 'lotIds') from o
        -- R26: the lots each campaign credited the order (progress.campaigns, absent on most orders).
        union select o.customer_id, jsonb_array_elements_text(c -> 'lotIds')
          from o cross join jsonb_array_elements(coalesce(o.progress -> 'campaigns', '[]')) as c),
      due_lots as (
        select x.* from unnest(${customers}::text[]) as c (customer_id)
          cross join lateral (
            select * from lots
            where lots.customer_id = c.customer_id and lots.state = 'pending' and lots.available_from <= ${now}
            offset 0) as x
        union all
        select x.* from unnest(${customers}::text[]) as c (customer_id)
          cross join unnest(array['bonus', 'savings', 'referral']) as k (kind)
          cross join lateral (
            select * from lots
            where lots.customer_id = c.customer_id and lots.kind = k.kind and lots.state = 'available'
              and lots.remaining > 0 and lots.expires_at <= ${now}
            offset 0) as x),
      -- R4: which prefixes to walk. The guard is an upper bound of what settling can make available
      -- (the cache, plus due pending lots, plus timed-out holds): below it the spend is refused anyway.
      targets as (
        select t.customer_id, t.kind, t.target,
               (not t.guarded
                or coalesce((select b.available from balances as b
                             where b.customer_id = t.customer_id and b.kind = t.kind), 0)
                   + coalesce((select sum(remaining) from due_lots as d
                               where d.customer_id = t.customer_id and d.kind = t.kind and d.state = 'pending'), 0)
                   + coalesce((select sum(amount) from due_holds as d
                               where d.customer_id = t.customer_id and d.kind = t.kind), 0)
                   >= t.target) as walked
        from unnest(${targets.map((t) => t.customerId)}::text[], ${targets.map((t) => t.kind)}::text[],
                    ${targets.map((t) => t.target)}::bigint[], ${targets.map((t) => t.guarded)}::boolean[])
          as t (customer_id, kind, target, guarded)),
      prefix (customer_id, kind, target, lot_id, expires_at, created_at, running) as (
        select t.customer_id, t.kind, t.target, x.lot_id, x.expires_at, x.created_at, x.remaining
        from targets as t
          cross join lateral (
            select lot_id, expires_at, created_at, remaining from lots
            where lots.customer_id = t.customer_id and lots.kind = t.kind and lots.state = 'available'
              and lots.remaining > 0 and lots.expires_at > ${now}
            order by expires_at, created_at, lot_id limit 1) as x
        where t.walked
        union all
        select p.customer_id, p.kind, p.target, x.lot_id, x.expires_at, x.created_at, p.running + x.remaining
        from prefix as p
          cross join lateral (
            select lot_id, expires_at, created_at, remaining from lots
            where lots.customer_id = p.customer_id and lots.kind = p.kind and lots.state = 'available'
              and lots.remaining > 0
              and (lots.expires_at, lots.created_at, lots.lot_id) > (p.expires_at, p.created_at, p.lot_id)
            order by expires_at, created_at, lot_id limit 1) as x
        where p.running < p.target),
      l as (
        select * from due_lots
        union
        select x.* from wanted_lots as w
          cross join lateral (
            select * from lots where lots.customer_id = w.customer_id and lots.lot_id = w.lot_id limit 1) as x
        union
        select x.* from prefix as p
          cross join lateral (
            select * from lots where lots.customer_id = p.customer_id and lots.lot_id = p.lot_id limit 1) as x)
    select
      (select coalesce(json_agg(json_build_object('customer_id', customer_id, 'kind', kind,
                 'available', available, 'pending', pending, 'held', held, 'debt', debt)), '[]')
         from balances where customer_id = any(${customers}::text[])) as balances,
      (select coalesce(json_agg(h), '[]') from h) as holds,
      (select coalesce(json_agg(r), '[]') from r) as redemptions,
      (select coalesce(json_agg(l), '[]') from l) as lots,
      (select coalesce(json_agg(json_build_object('customer_id', t.customer_id, 'kind', t.kind,
                 'target', t.target, 'walked', t.walked, 'reached', last.running,
                 'last_expires_at', last.expires_at, 'last_created_at', last.created_at,
                 'last_lot_id', last.lot_id)), '[]')
         from targets as t
         left join lateral (
           select * from prefix as p where p.customer_id = t.customer_id and p.kind = t.kind
           order by p.running desc limit 1) as last on true) as prefixes,
      (select coalesce(json_agg(json_build_object('row', o, 'lines', ol.lines)), '[]')
         from o join order_lines as ol on ol.customer_id = o.customer_id and ol.order_id = o.order_id) as orders,
      (select coalesce(json_agg(json_build_object('customer_id', e.customer_id, 'event_id', e.event_id,
                 'fingerprint', e.fingerprint, 'outcome', e.outcome, 'request_id', e.request_id)), '[]')
         from unnest(${eventCustomers}::text[], ${eventIds}::text[]) as w (customer_id, event_id)
         cross join lateral (
           select * from order_events
           where order_events.customer_id = w.customer_id and order_events.event_id = w.event_id limit 1) as e) as events,
      (select coalesce(json_agg(json_build_object('customer_id', e.customer_id, 'event', e.event,
                 'fingerprint', e.fingerprint, 'outcome', e.outcome, 'request_id', e.request_id)
                 order by e.received_at, e.event_id), '[]')
         from wanted_orders as w
         cross join lateral (
           select * from order_events
           where order_events.customer_id = w.customer_id and order_events.order_id = w.order_id
             and order_events.status = 'parked' offset 0) as e) as parked,
      -- The lowest refused event holding a sequence number the order has not passed: the events after
      -- it wait in vain (PREDECESSOR_REFUSED). Index order_events_refused_in_sequence (migration 6).
      (select coalesce(json_agg(json_build_object('customer_id', e.customer_id, 'event_id', e.event_id,
                 'order_id', e.order_id, 'sequence', e.sequence, 'code', e.outcome::json #>> '{error,code}')), '[]')
         from wanted_orders as w
         cross join lateral (
           select * from order_events
           where order_events.customer_id = w.customer_id and order_events.order_id = w.order_id
             and order_events.status = 'refused' and order_events.sequence is not null
             and order_events.sequence > coalesce((
               select (o.progress ->> 'lastSequence')::integer from o
               where o.customer_id = w.customer_id and o.order_id = w.order_id), 0)
           order by order_events.sequence limit 1) as e) as refused_in_sequence,
      -- The caller's own answer; one stored before migration 6 (no caller) for any caller, the same
      -- operation's first.
      (select coalesce(json_agg(json_build_object('customer_id', w.customer_id, 'caller', w.caller, 'key', w.key,
                 'scope', i.scope, 'fingerprint', i.fingerprint, 'request_id', i.request_id,
                 'outcome', i.outcome)), '[]')
         from unnest(${keys.map((k) => k.customerId)}::text[], ${keys.map((k) => k.caller)}::text[],
                     ${keys.map((k) => k.key)}::text[], ${keys.map((k) => k.scope)}::text[])
           as w (customer_id, caller, key, scope)
         cross join lateral (
           select * from idempotency
           where idempotency.customer_id = w.customer_id and idempotency.caller in (w.caller, '')
             and idempotency.key = w.key
           order by idempotency.caller desc, idempotency.scope = w.scope desc limit 1) as i) as outcomes,
      -- R23, R24: what every order event may touch of the programmes (primary-key probes), here rather
      -- than in a statement of its own: the event path's round trips are what it costs.
      (select coalesce(json_agg(x), '[]') from unnest(${asked((p) => p.invitation)}::text[]) as c (customer_id)
         cross join lateral (select * from invitations where invitations.customer_id = c.customer_id) as x) as invitations,
      (select coalesce(json_agg(x), '[]')
         from unnest(${referredCustomers}::text[], ${referredIds}::text[]) as w (customer_id, order_id)
         cross join lateral (
           select * from referred_orders
           where referred_orders.customer_id = w.customer_id and referred_orders.order_id = w.order_id) as x) as referred_orders,
      (select coalesce(json_agg(x), '[]') from unnest(${asked((p) => p.manager)}::text[]) as c (customer_id)
         cross join lateral (select * from managers where managers.customer_id = c.customer_id) as x) as managers`.execute(
    db,
  );
  const row = result.rows[0] as LoadRow;
  const states = new Map<string, CustomerState>();
  const state = (customerId: string): CustomerState => {
    let s = states.get(customerId);
    if (!s) {
      s = {
        ledger: {
          customerId,
          lots: [],
          holds: [],
          redemptions: [],
          totals: zeroTotals(),
          spendable: { bonus: NOTHING_SPENDABLE, savings: NOTHING_SPENDABLE, referral: NOTHING_SPENDABLE },
        },
        orders: [],
        events: [],
        parked: [],
        refusedInSequence: [],
        outcomes: new Map(),
        reviews: [],
        budgets: new Map(),
      };
      states.set(customerId, s);
    }
    return s;
  };
  for (const id of customers) state(id);
  for (const b of row.balances) {
    const { customer_id, kind, ...totals } = b;
    state(customer_id).ledger.totals[kind as PointKind] = totals;
  }
  for (const h of row.holds) state(h.customer_id).ledger.holds.push(holdFromRow(h));
  for (const r of row.redemptions) state(r.customer_id).ledger.redemptions.push(redemptionFromRow(r));
  for (const l of row.lots) state(l.customer_id).ledger.lots.push(lotFromRow(l));
  for (const p of row.prefixes) {
    state(p.customer_id).ledger.spendable[p.kind as PointKind] = coverage(p);
  }
  for (const o of row.orders) state(o.row.customer_id).orders.push(orderFromRows(o.row, o.lines));
  for (const e of row.events) {
    state(e.customer_id).events.push({
      eventId: e.event_id,
      fingerprint: e.fingerprint,
      outcome: JSON.parse(e.outcome) as EventOutcome,
      requestId: e.request_id,
    });
  }
  for (const e of row.parked) state(e.customer_id).parked.push(parkedEventFromRow(e));
  for (const { customer_id, event_id, order_id, sequence, code } of row.refused_in_sequence) {
    state(customer_id).refusedInSequence.push({ eventId: event_id, orderId: order_id, sequence, code });
  }
  for (const o of row.outcomes) {
    state(o.customer_id).outcomes.set(idempotencySlot(o), {
      scope: o.scope,
      fingerprint: o.fingerprint,
      requestId: o.request_id,
      outcome: JSON.parse(o.outcome),
    });
  }
  programmesOfEvents(requests, states, row);
  if (requests.some((r) => (r.reviewIds?.length ?? 0) + (r.reviewSkus?.length ?? 0) > 0))
    await loadReviews(db, requests, states);
  await loadBudgets(db, requests, states);
  return states;
}

const NOTHING_SPENDABLE: SpendableCoverage = { complete: false, through: null, covers: 0 };

/** What a walked prefix says: it reached the target (up to its last lot), or ran out (all lots). */
function coverage(p: LoadRow["prefixes"][number]): SpendableCoverage {
  if (!p.walked) return { complete: false, through: null, covers: p.target };
  if (p.reached === null || p.reached < p.target || !p.last_lot_id) return { complete: true };
  return {
    complete: false,
    covers: p.target,
    through: {
      expiresAt: new Date(p.last_expires_at as string),
      createdAt: new Date(p.last_created_at as string),
      lotId: p.last_lot_id,
    },
  };
}

/**
 * Everything the customers' operations changed, in one statement: each table's rows arrive as one
 * JSON array and go in with `jsonb_to_recordset`. The statement is all or nothing; the CHECKs (lot
 * remaining within its amount, postings that net to zero, no negative balance) guard every row.
 */
async function writeCustomers(trx: Transaction<Database>, writes: CustomerWrite[], at: Date): Promise<void> {
  const lots = [];
  const holds = [];
  const redemptions = [];
  const movements = [];
  const notifications: NotificationRow[] = [];
  const balances = [];
  const orders: OrderRow[] = [];
  const orderLines: { customer_id: string; order_id: string; lines: PlacedLine[] }[] = [];
  const events = [];
  const outcomes = [];
  for (const w of writes) {
    const customer_id = w.customerId;
    if (w.ledger) {
      const { change, totals } = w.ledger;
      for (const l of change.lots) {
        lots.push({
          customer_id,
          lot_id: l.lotId,
          kind: l.kind,
          amount: l.amount,
          remaining: l.remaining,
          source: l.source,
          funder: l.funder,
          state: l.state,
          created_at: l.createdAt,
          available_from: l.availableFrom,
          expires_at: l.expiresAt,
          reference: l.reference,
        });
      }
      for (const h of change.holds) {
        holds.push({
          customer_id,
          hold_id: h.holdId,
          kind: h.kind,
          amount: h.amount,
          state: h.state,
          release_reason: h.releaseReason,
          created_at: h.createdAt,
          expires_at: h.expiresAt,
          ...takeColumns(h.takes),
        });
      }
      for (const r of change.redemptions) {
        redemptions.push({
          customer_id,
          redemption_id: r.redemptionId,
          kind: r.kind,
          amount: r.amount,
          refunded: r.refunded,
          created_at: r.createdAt,
          ...takeColumns(r.takes),
        });
      }
      for (const m of change.movements) {
        movements.push(movementRow(customer_id, m, m.causedBy === "clock" ? "system" : w.actor));
        const notification = notificationRowOfMovement(customer_id, m, at);
        if (notification) notifications.push(notification);
      }
      // Only the kinds this change moved: the others' cached totals are still right.
      const moved = new Set(change.movements.map((m) => m.kind));
      for (const kind of POINT_KINDS)
        if (moved.has(kind)) balances.push({ customer_id, kind, ...totals[kind] });
    }
    const created = new Set(w.newOrderIds ?? []);
    for (const o of w.orders ?? []) {
      orders.push(orderRow(o));
      if (created.has(o.orderId))
        orderLines.push({ customer_id, order_id: o.orderId, lines: placedLines(o) });
    }
    for (const e of w.events ?? []) {
      events.push({
        customer_id,
        event_id: e.event.eventId,
        order_id: e.event.orderId,
        sequence: e.event.sequence ?? null,
        fingerprint: e.fingerprint,
        status: e.outcome.status,
        // The whole event is kept only while it waits; a replay needs just its fingerprint and outcome.
        event: e.outcome.status === "parked" ? e.event : null,
        outcome: JSON.stringify(e.outcome),
        received_at: at,
        request_id: e.requestId,
      });
    }
    for (const o of w.outcomes ?? []) {
      outcomes.push({
        customer_id,
        scope: o.stored.scope,
        key: o.key,
        fingerprint: o.stored.fingerprint,
        request_id: o.stored.requestId,
        outcome: JSON.stringify(o.stored.outcome),
        created_at: at,
        caller: o.caller,
      });
    }
  }
  const json = (rows: unknown[]) => JSON.stringify(rows);
  // Several works of one customer in one group commit may change the same row: the last state wins
  // (an upsert cannot touch a row twice in one statement).
  const latest = <R extends { customer_id: string }>(rows: R[], key: (r: R) => string) =>
    json([...new Map(rows.map((r) => [`${r.customer_id}\u0000${key(r)}`, r])).values()]);
  await sql`
    with
      lot_rows as (
        insert into lots
        select * from jsonb_to_recordset(${latest(lots, (r) => r.lot_id)}::jsonb) as x(
          customer_id text, lot_id text, kind text, amount bigint, remaining bigint, source text, funder text,
          state text, created_at timestamptz, available_from timestamptz, expires_at timestamptz, reference text)
        on conflict (customer_id, lot_id) do update
          set remaining = excluded.remaining, state = excluded.state,
              -- R22: a lot that waited for moderation becomes available, and starts to expire, when approved.
              available_from = excluded.available_from, expires_at = excluded.expires_at
        returning 1),
      hold_rows as (
        insert into holds
        select * from jsonb_to_recordset(${latest(holds, (r) => r.hold_id)}::jsonb) as x(
          customer_id text, hold_id text, kind text, amount bigint, state text, release_reason text,
          created_at timestamptz, expires_at timestamptz, take_lot_ids text[], take_amounts bigint[],
          take_returned bigint[])
        on conflict (customer_id, hold_id) do update
          set state = excluded.state, release_reason = excluded.release_reason, take_returned = excluded.take_returned
        returning 1),
      redemption_rows as (
        insert into redemptions
        select * from jsonb_to_recordset(${latest(redemptions, (r) => r.redemption_id)}::jsonb) as x(
          customer_id text, redemption_id text, kind text, amount bigint, refunded bigint, created_at timestamptz,
          take_lot_ids text[], take_amounts bigint[], take_returned bigint[])
        on conflict (customer_id, redemption_id) do update
          set refunded = excluded.refunded, take_returned = excluded.take_returned
        returning 1),
      movement_rows as (
        insert into movements (customer_id, movement_id, occurred_at, kind, type, reference, actor,
          explanation_code, explanation_params, accounts, funders, amounts, lot_refs, lot_deltas)
        select customer_id, movement_id, occurred_at, kind, type, reference, actor,
          explanation_code, explanation_params::json, accounts, funders, amounts, lot_refs, lot_deltas
        from jsonb_to_recordset(${json(movements)}::jsonb) as x(
          customer_id text, movement_id text, occurred_at timestamptz, kind text, type text, reference text,
          actor text, explanation_code smallint, explanation_params text, accounts bytea, funders text[],
          amounts bigint[], lot_refs bytea, lot_deltas bigint[])
        returning 1),
      ${notificationWrites(notificationRowsFromJson(json(notifications)))},
      balance_rows as (
        insert into balances
        select * from jsonb_to_recordset(${latest(balances, (r) => r.kind)}::jsonb) as x(
          customer_id text, kind text, available bigint, pending bigint, held bigint, debt bigint)
        on conflict (customer_id, kind) do update
          set available = excluded.available, pending = excluded.pending, held = excluded.held, debt = excluded.debt
        returning 1),
      order_rows as (
        insert into orders
          (customer_id, order_id, state, config_version, placed_at, updated_at, payment_method, spend, progress)
        select * from jsonb_to_recordset(${latest(orders, (r) => r.order_id)}::jsonb) as x(
          customer_id text, order_id text, state text, config_version integer, placed_at timestamptz,
          updated_at timestamptz, payment_method text, spend bigint[], progress jsonb)
        on conflict (customer_id, order_id) do update
          set state = excluded.state, updated_at = excluded.updated_at, progress = excluded.progress
        returning 1),
      order_line_rows as (
        insert into order_lines
        select * from jsonb_to_recordset(${latest(orderLines, (r) => r.order_id)}::jsonb) as x(
          customer_id text, order_id text, lines jsonb)
        on conflict (customer_id, order_id) do nothing
        returning 1),
      event_rows as (
        insert into order_events
        select * from jsonb_to_recordset(${latest(events, (r) => r.event_id)}::jsonb) as x(
          customer_id text, event_id text, order_id text, sequence integer, fingerprint text, status text,
          event jsonb, outcome text, received_at timestamptz, request_id text)
        on conflict (customer_id, event_id) do update
          set status = excluded.status, event = excluded.event, outcome = excluded.outcome,
              request_id = excluded.request_id
        returning 1),
      outcome_rows as (
        insert into idempotency
        select * from jsonb_to_recordset(${json(outcomes)}::jsonb) as x(
          customer_id text, scope text, key text, fingerprint text, request_id text, outcome text,
          created_at timestamptz, caller text)
        returning 1)
    select
      (select count(*) from lot_rows) + (select count(*) from hold_rows) + (select count(*) from redemption_rows)
      + (select count(*) from movement_rows) + (select count(*) from notification_rows)
      + (select count(*) from notification_delivery_rows) + (select count(*) from balance_rows) + (select count(*) from order_rows) + (select count(*) from order_line_rows)
      + (select count(*) from event_rows) + (select count(*) from outcome_rows) as written`.execute(trx);
  if (writes.some((w) => (w.reviews?.length ?? 0) > 0)) await writeReviews(trx, writes, at);
}

export class PostgresLedgerStore implements LedgerStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** Told of each transaction run again after a serialization failure or a deadlock (its SQLSTATE). */
    private readonly onRetry: (sqlState: string) => void = () => {},
  ) {}

  async withCustomers<T>(customerIds: string[], work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    // Sorted and distinct: every transaction takes its locks in the same order, so two batches that
    // share customers wait for each other instead of deadlocking.
    const customers = [...new Set(customerIds)].sort();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          // Creates the customers that are new and locks every one: the rows that serialize a
          // customer's writes, and only that customer's. Reads come after, in later statements,
          // so they see everything committed before the locks were granted.
          await sql`
            insert into customers (customer_id)
            select * from unnest(${customers}::text[])
            on conflict (customer_id) do update set customer_id = excluded.customer_id`.execute(trx);
          return work({
            load: async (requests, now) => {
              const states = await loadWorkingSets(trx, requests, now);
              await loadSavings(trx, requests, states);
              await loadProgrammes(trx, requests, states);
              await loadPremium(trx, requests, states);
              return states;
            },
            write: async (writes, at) => {
              await writeCustomers(trx, writes, at);
              await writeSavings(trx, writes, at);
              await writeProgrammes(trx, writes, at);
              await writePremium(trx, writes, at);
              await writeSellerStats(trx, writes);
              await writeOrderDays(trx, writes);
            },
            reserveFromBudgets: (reservations) => reserveFromBudgets(trx, reservations),
            budgetSlices: (budgetIds) => readBudgetSlices(trx, budgetIds),
            settleDueLotsInBulk: (now, movementIdBase) =>
              settleDueLotsInBulk(trx, customers, now, movementIdBase),
            payInterestInBulk: (run) => payInterestInBulk(trx, customers, run),
          });
        });
      } catch (error) {
        if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
        this.onRetry((error as { code: string }).code);
        await new Promise((resolve) => setTimeout(resolve, 2 ** attempt + Math.random() * 10));
      }
    }
  }

  /**
   * `sweep_stored_answers`: the oldest stored answers made before `cutoff`, at most `limit` of them,
   * in one statement on the `idempotency_created_at` index.
   */
  async sweepStoredAnswers(cutoff: Date, limit: number): Promise<number> {
    const result = await sql`
      delete from idempotency
      where (customer_id, caller, key, scope) in (
        select customer_id, caller, key, scope from idempotency
        where created_at < ${cutoff} order by created_at limit ${limit})`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }

  /**
   * R6 (`customer_balance`): the cached totals, the expiring-soon sum over the `lots_spendable`
   * range from now to the horizon, and the earliest due instant from the three per-customer due
   * indexes (one probe each). No lot is loaded.
   */
  async readBalance(customerId: string, now: Date, expiringWithinDays: number): Promise<BalanceSnapshot> {
    const horizon = addDays(now, expiringWithinDays);
    const result = await sql<{
      balances: ({ kind: string } & BalanceTotals)[];
      expiring: { kind: string; amount: number; nearest: string }[];
      next_due_at: Date | null;
    }>`
      select
        (select coalesce(json_agg(json_build_object('kind', kind, 'available', available, 'pending', pending,
                   'held', held, 'debt', debt)), '[]')
           from balances where customer_id = ${customerId}) as balances,
        (select coalesce(json_agg(json_build_object('kind', k.kind, 'amount', e.amount, 'nearest', e.nearest)), '[]')
           from unnest(array['bonus', 'savings', 'referral']) as k (kind)
           cross join lateral (
             select sum(remaining)::bigint as amount, min(expires_at) as nearest from lots
             where customer_id = ${customerId} and lots.kind = k.kind and state = 'available' and remaining > 0
               and expires_at > ${now} and expires_at <= ${horizon}) as e
           where e.amount is not null) as expiring,
        -- One probe per due index of the customer (migration 3 keeps the scheduler's global ones
        -- out of reach of per-customer queries).
        least(
          (select available_from from lots where customer_id = ${customerId} and state = 'pending'
             order by available_from limit 1),
          (select min(e.expires_at) from unnest(array['bonus', 'savings', 'referral']) as k (kind)
             cross join lateral (
               select expires_at from lots
               where customer_id = ${customerId} and lots.kind = k.kind and state = 'available' and remaining > 0
               order by customer_id, kind, expires_at limit 1) as e),
          (select expires_at from holds where customer_id = ${customerId} and state = 'active'
             order by expires_at limit 1)
        ) as next_due_at`.execute(this.db);
    const row = result.rows[0];
    const totals = zeroTotals();
    const expiringSoon = {
      bonus: { amount: 0, nearestDate: null },
      savings: { amount: 0, nearestDate: null },
      referral: { amount: 0, nearestDate: null },
    } as BalanceSnapshot["expiringSoon"];
    for (const { kind, ...t } of row?.balances ?? []) totals[kind as PointKind] = t;
    for (const e of row?.expiring ?? []) {
      expiringSoon[e.kind as PointKind] = { amount: e.amount, nearestDate: new Date(e.nearest) };
    }
    const nextDue = row?.next_due_at ?? null;
    return { totals, expiringSoon, nextDueAt: nextDue === null ? null : new Date(nextDue) };
  }

  async history(customerId: string, q: HistoryQuery): Promise<HistoryPage> {
    const { cursor, limit } = q;
    // Newest first along the primary key; filters narrow the walk (history is not a hot path).
    let query = this.db
      .selectFrom("movements")
      .selectAll()
      .where("customer_id", "=", customerId)
      .orderBy("movement_id", "desc")
      .limit(limit + 1);
    if (cursor) query = query.where("movement_id", "<", cursor);
    if (q.kind) query = query.where("kind", "=", q.kind);
    if (q.type) query = query.where("type", "=", q.type);
    if (q.reference !== undefined) query = query.where("reference", "=", q.reference);
    if (q.from) query = query.where("occurred_at", ">=", q.from);
    if (q.to) query = query.where("occurred_at", "<", q.to);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const movements = page.map(movementFromRow);
    const last = page[page.length - 1];
    return { movements, nextCursor: rows.length > limit && last ? last.movement_id : null };
  }

  async customersWithDueWork(now: Date, limit: number): Promise<string[]> {
    // Each branch walks its partial index in due order; settled rows leave the index, so the next
    // call finds the next customers without a cursor and without scanning what is not due. The
    // `amount > 0` terms are what select those global indexes (migration 3).
    const result = await sql<{ customer_id: string }>`
      select distinct customer_id from (
        (select customer_id from lots where state = 'pending' and amount > 0 and available_from <= ${now}
          order by available_from limit ${limit})
        union all
        (select customer_id from lots where state = 'available' and remaining > 0 and amount > 0 and expires_at <= ${now}
          order by expires_at limit ${limit})
        union all
        (select customer_id from holds where state = 'active' and amount > 0 and expires_at <= ${now}
          order by expires_at limit ${limit})
      ) as due
      limit ${limit}`.execute(this.db);
    return result.rows.map((r) => r.customer_id);
  }
}
