import { type Kysely, sql, type Transaction } from "kysely";
import type {
  CustomerLoad,
  CustomerState,
  CustomerWrite,
  EventOutcome,
  HistoryPage,
  LedgerStore,
  LedgerTransaction,
  StoredOrderEvent,
} from "../app/ports.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import type { CreditSource, CustomerLedger, Hold, Lot, LotTake, Redemption } from "../domain/ledger/index.js";
import type { Order, OrderEvent } from "../domain/orders/index.js";
import { movementFromRow, movementRow } from "./movement-rows.js";
import type { Database } from "./schema.js";

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
type LotRow = Json<Database["lots"]>;
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

function lotFromRow(r: LotRow | Database["lots"]): Lot {
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

type OrderDocument = Omit<Order, "placedAt" | "updatedAt"> & { placedAt: string; updatedAt: string };

export function orderFromDocument(doc: unknown): Order {
  const d = doc as OrderDocument;
  return { ...d, placedAt: new Date(d.placedAt), updatedAt: new Date(d.updatedAt) };
}

function storedEventFromRow(r: { event: unknown; fingerprint: string; outcome: string }): StoredOrderEvent {
  const e = r.event as OrderEvent & { occurredAt: string };
  return {
    event: { ...e, occurredAt: new Date(e.occurredAt) } as OrderEvent,
    fingerprint: r.fingerprint,
    outcome: JSON.parse(r.outcome) as EventOutcome,
  };
}

function eventStub(e: OrderEvent) {
  return {
    eventId: e.eventId,
    orderId: e.orderId,
    customerId: e.customerId,
    type: e.type,
    sequence: e.sequence,
    occurredAt: e.occurredAt,
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

interface LoadRow {
  holds: HoldRow[];
  redemptions: RedemptionRow[];
  lots: LotRow[];
  debts: { customer_id: string; kind: string; debt: number }[];
  orders: { customer_id: string; document: unknown }[];
  events: { customer_id: string; event: unknown; fingerprint: string; outcome: string }[];
  parked: { customer_id: string; event: unknown; fingerprint: string; outcome: string }[];
  outcomes: { customer_id: string; fingerprint: string; request_id: string; outcome: string }[];
}

/**
 * Everything the customers' operations need, in one statement. Lookups by key go through `lateral`
 * with `limit 1` (`offset 0` where several rows match) so the planner cannot flatten them into a
 * hash join over the whole table: each stays an index probe whatever it guesses about the arrays: open lots (pending, or with points
 * left) plus the lots behind loaded holds and redemptions (points may go back into empty lots),
 * active and referenced holds, referenced redemptions, debts, orders, events and stored answers.
 */
async function loadCustomers(db: Kysely<Database> | Transaction<Database>, requests: CustomerLoad[]) {
  const customers = requests.map((r) => r.customerId);
  const [holdCustomers, holdIds] = pairs(requests, (r) => r.refs?.holdIds);
  const [redemptionCustomers, redemptionIds] = pairs(requests, (r) => r.refs?.redemptionIds);
  const [lotCustomers, lotIds] = pairs(requests, (r) => r.refs?.lotIds);
  const [orderCustomers, orderIds] = pairs(requests, (r) => r.orderIds);
  const [eventCustomers, eventIds] = pairs(requests, (r) => r.eventIds);
  const withKey = requests.filter((r) => r.idempotency);
  const result = await sql<LoadRow>`
    with
      h as (
        select * from holds where customer_id = any(${customers}::text[]) and state = 'active'
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
        select x.customer_id, x.document from wanted_orders as w
          cross join lateral (
            select customer_id, document from orders
            where orders.customer_id = w.customer_id and orders.order_id = w.order_id limit 1) as x),
      -- Lots the operations may name: asked for, behind loaded holds and redemptions (points go back
      -- into them), and credited by loaded orders (returns claw back from them first).
      wanted_lots (customer_id, lot_id) as (
        select * from unnest(${lotCustomers}::text[], ${lotIds}::text[])
        union select customer_id, unnest(take_lot_ids) from h
        union select customer_id, unnest(take_lot_ids) from r
        union select o.customer_id, jsonb_array_elements_text(line -> 'accrualLotIds')
          from o cross join jsonb_array_elements(o.document -> 'lines') as line
        union select o.customer_id, jsonb_array_elements_text(line -> 'sellerLotIds')
          from o cross join jsonb_array_elements(o.document -> 'lines') as line),
      l as (
        select * from lots
        where customer_id = any(${customers}::text[]) and (remaining > 0 or state = 'pending')
        union
        select x.* from wanted_lots as w
          cross join lateral (
            select * from lots where lots.customer_id = w.customer_id and lots.lot_id = w.lot_id limit 1) as x)
    select
      (select coalesce(json_agg(h), '[]') from h) as holds,
      (select coalesce(json_agg(r), '[]') from r) as redemptions,
      (select coalesce(json_agg(l), '[]') from l) as lots,
      (select coalesce(json_agg(json_build_object('customer_id', customer_id, 'kind', kind, 'debt', debt)), '[]')
         from balances where customer_id = any(${customers}::text[]) and debt > 0) as debts,
      (select coalesce(json_agg(o), '[]') from o) as orders,
      (select coalesce(json_agg(json_build_object('customer_id', e.customer_id, 'event', e.event,
                 'fingerprint', e.fingerprint, 'outcome', e.outcome)), '[]')
         from unnest(${eventCustomers}::text[], ${eventIds}::text[]) as w (customer_id, event_id)
         cross join lateral (
           select * from order_events
           where order_events.customer_id = w.customer_id and order_events.event_id = w.event_id limit 1) as e) as events,
      (select coalesce(json_agg(json_build_object('customer_id', e.customer_id, 'event', e.event,
                 'fingerprint', e.fingerprint, 'outcome', e.outcome)), '[]')
         from wanted_orders as w
         cross join lateral (
           select * from order_events
           where order_events.customer_id = w.customer_id and order_events.order_id = w.order_id
             and order_events.status = 'parked' offset 0) as e) as parked,
      (select coalesce(json_agg(json_build_object('customer_id', i.customer_id, 'fingerprint', i.fingerprint,
                 'request_id', i.request_id, 'outcome', i.outcome)), '[]')
         from unnest(${withKey.map((r) => r.customerId)}::text[],
                     ${withKey.map((r) => r.idempotency?.scope ?? "")}::text[],
                     ${withKey.map((r) => r.idempotency?.key ?? "")}::text[]) as w (customer_id, scope, key)
         cross join lateral (
           select * from idempotency
           where idempotency.customer_id = w.customer_id and idempotency.scope = w.scope
             and idempotency.key = w.key limit 1) as i) as outcomes`.execute(db);
  const row = result.rows[0] as LoadRow;
  const states = new Map<string, CustomerState>();
  const state = (customerId: string): CustomerState => {
    let s = states.get(customerId);
    if (!s) {
      const debt = { bonus: 0, savings: 0, referral: 0 } as Record<PointKind, number>;
      s = {
        ledger: { customerId, lots: [], holds: [], redemptions: [], debt },
        orders: [],
        events: [],
        parked: [],
        outcome: undefined,
      };
      states.set(customerId, s);
    }
    return s;
  };
  for (const id of customers) state(id);
  for (const h of row.holds) state(h.customer_id).ledger.holds.push(holdFromRow(h));
  for (const r of row.redemptions) state(r.customer_id).ledger.redemptions.push(redemptionFromRow(r));
  for (const l of row.lots) state(l.customer_id).ledger.lots.push(lotFromRow(l));
  for (const d of row.debts) state(d.customer_id).ledger.debt[d.kind as PointKind] = d.debt;
  for (const o of row.orders) state(o.customer_id).orders.push(orderFromDocument(o.document));
  for (const e of row.events) state(e.customer_id).events.push(storedEventFromRow(e));
  for (const e of row.parked) state(e.customer_id).parked.push(storedEventFromRow(e));
  for (const o of row.outcomes) {
    state(o.customer_id).outcome = {
      fingerprint: o.fingerprint,
      requestId: o.request_id,
      outcome: JSON.parse(o.outcome),
    };
  }
  return states;
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
  const balances = [];
  const orders = [];
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
      }
      // Only the kinds this change moved: the others' cached totals are still right.
      const moved = new Set(change.movements.map((m) => m.kind));
      for (const kind of POINT_KINDS)
        if (moved.has(kind)) balances.push({ customer_id, kind, ...totals[kind] });
    }
    for (const o of w.orders ?? []) {
      orders.push({
        customer_id,
        order_id: o.orderId,
        state: o.state,
        config_version: o.configVersion,
        placed_at: o.placedAt,
        updated_at: o.updatedAt,
        document: o,
      });
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
        event: e.outcome.status === "parked" ? e.event : eventStub(e.event),
        outcome: JSON.stringify(e.outcome),
        received_at: at,
      });
    }
    if (w.outcome) {
      outcomes.push({
        customer_id,
        scope: w.outcome.scope,
        key: w.outcome.key,
        fingerprint: w.outcome.stored.fingerprint,
        request_id: w.outcome.stored.requestId,
        outcome: JSON.stringify(w.outcome.stored.outcome),
        created_at: at,
      });
    }
  }
  const json = (rows: unknown[]) => JSON.stringify(rows);
  await sql`
    with
      lot_rows as (
        insert into lots
        select * from jsonb_to_recordset(${json(lots)}::jsonb) as x(
          customer_id text, lot_id text, kind text, amount bigint, remaining bigint, source text, funder text,
          state text, created_at timestamptz, available_from timestamptz, expires_at timestamptz, reference text)
        on conflict (customer_id, lot_id) do update set remaining = excluded.remaining, state = excluded.state
        returning 1),
      hold_rows as (
        insert into holds
        select * from jsonb_to_recordset(${json(holds)}::jsonb) as x(
          customer_id text, hold_id text, kind text, amount bigint, state text, release_reason text,
          created_at timestamptz, expires_at timestamptz, take_lot_ids text[], take_amounts bigint[],
          take_returned bigint[])
        on conflict (customer_id, hold_id) do update
          set state = excluded.state, release_reason = excluded.release_reason, take_returned = excluded.take_returned
        returning 1),
      redemption_rows as (
        insert into redemptions
        select * from jsonb_to_recordset(${json(redemptions)}::jsonb) as x(
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
      balance_rows as (
        insert into balances
        select * from jsonb_to_recordset(${json(balances)}::jsonb) as x(
          customer_id text, kind text, available bigint, pending bigint, held bigint, debt bigint)
        on conflict (customer_id, kind) do update
          set available = excluded.available, pending = excluded.pending, held = excluded.held, debt = excluded.debt
        returning 1),
      order_rows as (
        insert into orders
        select * from jsonb_to_recordset(${json(orders)}::jsonb) as x(
          customer_id text, order_id text, state text, config_version integer, placed_at timestamptz,
          updated_at timestamptz, document jsonb)
        on conflict (customer_id, order_id) do update
          set state = excluded.state, updated_at = excluded.updated_at, document = excluded.document
        returning 1),
      event_rows as (
        insert into order_events
        select * from jsonb_to_recordset(${json(events)}::jsonb) as x(
          customer_id text, event_id text, order_id text, sequence integer, fingerprint text, status text,
          event jsonb, outcome text, received_at timestamptz)
        on conflict (customer_id, event_id) do update set status = excluded.status, outcome = excluded.outcome
        returning 1),
      outcome_rows as (
        insert into idempotency
        select * from jsonb_to_recordset(${json(outcomes)}::jsonb) as x(
          customer_id text, scope text, key text, fingerprint text, request_id text, outcome text,
          created_at timestamptz)
        returning 1)
    select
      (select count(*) from lot_rows) + (select count(*) from hold_rows) + (select count(*) from redemption_rows)
      + (select count(*) from movement_rows) + (select count(*) from balance_rows) + (select count(*) from order_rows)
      + (select count(*) from event_rows) + (select count(*) from outcome_rows) as written`.execute(trx);
}

export class PostgresLedgerStore implements LedgerStore {
  constructor(private readonly db: Kysely<Database>) {}

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
            load: (requests) => loadCustomers(trx, requests),
            write: (writes, at) => writeCustomers(trx, writes, at),
          });
        });
      } catch (error) {
        if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2 ** attempt + Math.random() * 10));
      }
    }
  }

  async readLedger(customerId: string): Promise<CustomerLedger> {
    const states = await loadCustomers(this.db, [{ customerId }]);
    return (states.get(customerId) as CustomerState).ledger;
  }

  async history(customerId: string, cursor: string | null, limit: number): Promise<HistoryPage> {
    let query = this.db
      .selectFrom("movements")
      .selectAll()
      .where("customer_id", "=", customerId)
      .orderBy("movement_id", "desc")
      .limit(limit + 1);
    if (cursor) query = query.where("movement_id", "<", cursor);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    const movements = page.map(movementFromRow);
    const last = page[page.length - 1];
    return { movements, nextCursor: rows.length > limit && last ? last.movement_id : null };
  }

  async customersWithDueWork(now: Date, limit: number): Promise<string[]> {
    // Each branch walks its partial index in due order; settled rows leave the index, so the next
    // call finds the next customers without a cursor and without scanning what is not due.
    const result = await sql<{ customer_id: string }>`
      select distinct customer_id from (
        (select customer_id from lots where state = 'pending' and available_from <= ${now}
          order by available_from limit ${limit})
        union all
        (select customer_id from lots where state = 'available' and remaining > 0 and expires_at <= ${now}
          order by expires_at limit ${limit})
        union all
        (select customer_id from holds where state = 'active' and expires_at <= ${now}
          order by expires_at limit ${limit})
      ) as due
      limit ${limit}`.execute(this.db);
    return result.rows.map((r) => r.customer_id);
  }
}
