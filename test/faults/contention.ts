import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import { Random, type ScenarioDatabase } from "./support.js";
import {
  type Answered,
  ledgerSummary,
  newStats,
  normalizeValue,
  type RunStats,
  type Step,
  sendUntilAnswered,
  summaryDifferences,
  type Target,
} from "./workload.js";

/**
 * Contention: besides its own customers, every client writes a few customers it shares with all the
 * others. Their credits and the events of their orders (each event with its `sequence`) are shuffled
 * and dealt out to the clients, so one customer's transactions come from several clients at once and
 * an order's events arrive out of order, from different clients, under the scenario's faults.
 *
 * The answers then depend on the interleaving, so these steps are not compared answer by answer with
 * a replay. What must hold is the end state, checked against the same credits and events delivered
 * once, in order, one at a time, on a fresh database (`verifyShared`). Every event is retried until it
 * is answered (a 2xx or 4xx): accepted — applied, or parked to wait for its predecessors, which makes
 * the service responsible for it — or refused. A refused event is delivered again after the load, in
 * sequence order, until its answer stops changing: then it is refused for good ("redelivery until
 * accepted"). Every order whose events all ended applied must equal the in-order delivery, and no
 * order that applies in order may be left with a parked event. That holds whether an event that
 * cannot apply yet waits (today: it is parked, and applied when its predecessor arrives; nothing is
 * redelivered) or is refused (then its order may end incomplete, and is only counted).
 *
 * Shared orders spend no points and the shared customers are only credited, so the order in which
 * different orders and credits of a customer apply changes nothing: the whole customer's ledger must
 * also equal the in-order delivery's once every order is complete.
 */

type OrderEvent = Record<string, unknown> & {
  eventId: string;
  type: string;
  orderId: string;
  customerId: string;
  sequence: number;
};

export interface SharedOrder {
  orderId: string;
  customerId: string;
  /** In sequence order. */
  events: OrderEvent[];
}

export interface SharedWork {
  customers: string[];
  credits: Step[];
  orders: SharedOrder[];
  /** Per client: its share of the credits and events, in the order it sends them. */
  queues: Step[][];
}

export interface SharedAnswered extends Answered {
  client: number;
}

export interface SharedResult {
  work: SharedWork;
  answered: SharedAnswered[];
  /** Events delivered again after the load because they had not applied. */
  redelivered: number;
}

const CATEGORIES = ["electronics", "household_appliances", "clothing_shoes", "groceries", "books", "toys"];
const EVENTS_PATH = "/v1/orders/events";

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function eventStep(id: string, events: OrderEvent[]): Step {
  const first = events[0];
  if (!first) throw new Error("a step without events");
  return {
    id,
    kind: events.length === 1 ? "event" : "events",
    customerId: first.customerId,
    method: "POST",
    path: EVENTS_PATH,
    body: events.length === 1 ? first : { events },
    eventIds: events.map((e) => e.eventId),
  };
}

/**
 * The shared customers' work for `clients` clients: `customers` customers, `orders` orders over them
 * (lifecycles as in workload.ts, without points spent), `creditsPerCustomer` credits each. Events go
 * one per request, or two of one order in a batch in reverse sequence order. Everything is shuffled
 * and dealt out; the first order's events all go to client 0, first in its queue and last event first,
 * so at least one event certainly arrives before its predecessors.
 */
export function sharedWork(options: {
  prefix: string;
  seed: number;
  clients: number;
  customers: number;
  orders: number;
  creditsPerCustomer: number;
  baseTime: Date;
}): SharedWork {
  const r = new Random(options.seed ^ 0x5ba7ed);
  const base = `${options.prefix}-shared`;
  const customers = Array.from({ length: options.customers }, (_, i) => `${base}-${i}`);
  let clock = options.baseTime.getTime();
  const credits: Step[] = [];
  for (const customerId of customers) {
    for (let n = 0; n < options.creditsPerCustomer; n++) {
      const id = `${base}-c${credits.length + 1}`;
      credits.push({
        id,
        kind: "credit",
        customerId,
        method: "POST",
        path: `/v1/customers/${customerId}/credits`,
        body: {
          kind: "bonus",
          amount: r.int(1, 500),
          source: "purchase",
          funder: "marketplace",
          reference: id,
        },
        idempotencyKey: id,
      });
    }
  }
  const orders: SharedOrder[] = [];
  const units: Step[][] = [];
  for (let o = 0; o < options.orders; o++) {
    const orderId = `${base}-o${o + 1}`;
    const customerId = customers[o % customers.length] as string;
    const lines = Array.from({ length: r.int(1, 3) }, (_, i) => ({
      lineId: `L${i + 1}`,
      sku: `sku-${r.int(1, 40)}`,
      sellerId: `seller-${r.int(1, 5)}`,
      category: r.pick(CATEGORIES),
      quantity: r.int(1, 3),
      unitPriceKop: r.int(100, 5_000) * 100,
    }));
    const events: OrderEvent[] = [];
    const push = (type: string, extra: Record<string, unknown> = {}) => {
      clock += 100;
      const sequence = events.length + 1;
      events.push({
        eventId: `${orderId}-e${sequence}`,
        type,
        orderId,
        customerId,
        sequence,
        occurredAt: new Date(clock).toISOString(),
        ...extra,
      });
    };
    push("placed", { lines, paymentMethod: r.pick(["marketplace_card", "other_card", "other"]) });
    if (r.chance(0.2)) {
      if (r.chance(0.5)) push("paid");
      push("cancelled");
    } else {
      push("paid");
      const first = lines[0];
      if (first && lines.length > 1 && r.chance(0.4)) {
        push("shipped", { lines: [{ lineId: first.lineId }] });
        push("shipped");
      } else push("shipped");
      if (r.chance(0.6)) push("delivered");
      if (r.chance(0.5)) {
        const line = r.pick(lines);
        push("returned", { lines: [{ lineId: line.lineId, quantity: r.int(1, line.quantity) }] });
      }
    }
    orders.push({ orderId, customerId, events });
    const steps: Step[] = [];
    for (let i = 0; i < events.length; ) {
      const a = events[i] as OrderEvent;
      const b = events[i + 1];
      if (b && r.chance(0.25)) {
        steps.push(eventStep(`${orderId}-s${i + 1}`, [b, a]));
        i += 2;
      } else {
        steps.push(eventStep(`${orderId}-s${i + 1}`, [a]));
        i += 1;
      }
    }
    units.push(steps);
  }
  const queues: Step[][] = Array.from({ length: options.clients }, () => []);
  const [firstOrder, ...otherOrders] = units;
  const dealt = shuffle(r, [...credits, ...otherOrders.flat()]);
  dealt.forEach((step, i) => {
    queues[i % options.clients]?.push(step);
  });
  queues[0]?.unshift(...[...(firstOrder ?? [])].reverse());
  return { customers, credits, orders, queues };
}

/** The per-event outcomes an events answer carries (a single event's answer, or a batch's results). */
export function outcomesOf(answer: { json: unknown }): { eventId?: string; status?: string }[] {
  const body = answer.json as { results?: unknown[] } | { status?: string } | undefined;
  if (!body || typeof body !== "object") return [];
  if ("results" in body && Array.isArray(body.results)) return body.results as { status?: string }[];
  return [body as { eventId?: string; status?: string }];
}

/**
 * After the load: every event whose answer was a refusal is delivered again, order by order in
 * sequence order, up to three rounds or until a round changes no answer. A parked event is not: it was
 * accepted, and the service must apply it when its turn comes (a lost or stuck one must show, not be
 * papered over). Today no sequenced event is refused for arriving early, so nothing is redelivered.
 */
export async function redeliverUntilAccepted(
  target: Target,
  operatorKey: string,
  stats: RunStats,
  result: SharedResult,
  options: { fatal?: () => string | undefined } = {},
): Promise<void> {
  const status = new Map<string, string | undefined>();
  for (const a of result.answered) {
    const outcomes = outcomesOf(a.answer);
    (a.step.eventIds ?? []).forEach((id, i) => {
      // A batch answers in request order; a single event's refusal is the error envelope.
      status.set(id, a.answer.status >= 400 ? "refused" : outcomes[i]?.status);
    });
  }
  for (let round = 0; round < 3; round++) {
    let changed = false;
    for (const order of result.work.orders) {
      for (const event of order.events) {
        const before = status.get(event.eventId);
        if (before !== "refused") continue;
        const step = eventStep(`${event.eventId}-redelivery${round + 1}`, [event]);
        const { answer } = await sendUntilAnswered(target, step, operatorKey, stats, {
          deadlineMs: 60_000,
          ...(options.fatal ? { fatal: options.fatal } : {}),
        });
        result.redelivered += 1;
        const after = answer.status >= 400 ? "refused" : outcomesOf(answer)[0]?.status;
        status.set(event.eventId, after);
        if (after !== before) changed = true;
      }
    }
    if (!changed) return;
  }
}

/** Everything an order left in a database, ids and instants aside: its row, its events, lots and movements. */
async function orderSnapshots(database: ScenarioDatabase, orderIds: string[]): Promise<Map<string, string>> {
  const db = database.handle.db;
  const ids = sql`${orderIds}::text[]`;
  const [orders, events, lots, movements] = await Promise.all([
    sql<{ order_id: string }>`select order_id, customer_id, state, config_version, payment_method, spend,
        progress from orders where order_id = any(${ids}) order by order_id`.execute(db),
    sql<{ order_id: string; outcome: string }>`select order_id, event_id, sequence, status, outcome
        from order_events where order_id = any(${ids}) order by order_id, sequence, event_id`.execute(db),
    sql<{ order_id: string }>`select reference as order_id, kind, state, source, funder, count(*)::int as n,
        sum(amount)::bigint as amount, sum(remaining)::bigint as remaining
      from lots where reference = any(${ids}) group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5`.execute(db),
    sql<{ order_id: string }>`select reference as order_id, kind, type, count(*)::int as n,
        sum(kopilka_sum(array(select abs(a) from unnest(amounts) as a)))::bigint as volume
      from movements where reference = any(${ids}) group by 1, 2, 3 order by 1, 2, 3`.execute(db),
  ]);
  const out = new Map<string, string>();
  for (const orderId of orderIds) {
    const of = <T extends { order_id: string }>(rows: T[]) => rows.filter((row) => row.order_id === orderId);
    out.set(
      orderId,
      JSON.stringify(
        normalizeValue({
          order: of(orders.rows),
          events: of(events.rows).map((e) => ({ ...e, outcome: JSON.parse(e.outcome) as unknown })),
          lots: of(lots.rows),
          movements: of(movements.rows),
        }),
      ),
    );
  }
  return out;
}

/**
 * The checks of the shared customers (see the top of this file). `report(what, problems)` logs and
 * collects; `reference` is a fault-free service on a fresh database (the private steps' replay may
 * have run on it: the shared customers are not theirs).
 */
export async function verifyShared(options: {
  database: ScenarioDatabase;
  referenceDatabase: ScenarioDatabase;
  reference: { target: Target; operatorKey: string };
  shared: SharedResult;
  resend?: { target: Target; operatorKey: string } | undefined;
  report: (what: string, problems: string[]) => void;
  log: (message: string) => void;
}): Promise<void> {
  const { database, shared, report, log } = options;
  const { work } = shared;
  const db = database.handle.db;
  const allEvents = work.orders.flatMap((o) => o.events);

  // The contention itself: customers written by several clients, events that arrived early.
  const clientsPerCustomer = new Map<string, Set<number>>();
  for (const a of shared.answered) {
    const set = clientsPerCustomer.get(a.step.customerId) ?? new Set<number>();
    set.add(a.client);
    clientsPerCustomer.set(a.step.customerId, set);
  }
  const contended = [...clientsPerCustomer.values()].filter((s) => s.size > 1).length;
  const early = shared.answered
    .filter((a) => a.step.kind === "event")
    .filter((a) => a.answer.status >= 400 || outcomesOf(a.answer)[0]?.status !== "applied").length;
  log(
    `shared customers: ${work.customers.length}, ${contended} of them written by several clients side by side; ` +
      `${work.credits.length} credits and ${allEvents.length} events of ${work.orders.length} orders dealt out shuffled, ` +
      `${early} single events answered before their turn (parked or refused), ${shared.redelivered} refused ones redelivered after the load`,
  );
  report("the shared customers were contended and events arrived out of order", [
    ...(contended > 0 ? [] : ["no shared customer was written by more than one client"]),
    ...(early > 0 ? [] : ["no event arrived before its predecessors"]),
  ]);

  // Exactly once on the rows: a lot per credit answered 201, a row per event.
  const found: string[] = [];
  const lots = await sql<{ reference: string; n: number }>`select reference, count(*)::int as n from lots
    where reference = any(${work.credits.map((c) => c.id)}::text[]) group by reference`.execute(db);
  const lotCounts = new Map(lots.rows.map((r) => [r.reference, r.n]));
  for (const a of shared.answered.filter((x) => x.step.kind === "credit")) {
    const n = lotCounts.get(a.step.id) ?? 0;
    if (n !== (a.answer.status === 201 ? 1 : 0))
      found.push(`credit ${a.step.id} answered ${a.answer.status}, ${n} lots`);
  }
  const stored = await sql<{
    event_id: string;
    status: string;
    n: number;
  }>`select event_id, min(status) as status,
      count(*)::int as n from order_events where event_id = any(${allEvents.map((e) => e.eventId)}::text[])
      group by event_id`.execute(db);
  const statusOf = new Map(stored.rows.map((r) => [r.event_id, r.status]));
  const storedTimes = new Map(stored.rows.map((r) => [r.event_id, r.n]));
  for (const e of allEvents) {
    const n = storedTimes.get(e.eventId) ?? 0;
    if (n !== 1) found.push(`event ${e.eventId} stored ${n} times`);
  }
  report(
    "shared customers, exactly once on the rows: one lot per credit answered 201, one row per event",
    found,
  );

  // The same credits and events, delivered once, in order, one at a time, without faults.
  const stats = newStats();
  const inOrder = new Map<string, string | undefined>();
  for (const credit of work.credits) {
    await sendUntilAnswered(options.reference.target, credit, options.reference.operatorKey, stats);
  }
  for (const order of work.orders) {
    for (const event of order.events) {
      const { answer } = await sendUntilAnswered(
        options.reference.target,
        eventStep(`${event.eventId}-in-order`, [event]),
        options.reference.operatorKey,
        stats,
      );
      inOrder.set(event.eventId, answer.status >= 400 ? "refused" : outcomesOf(answer)[0]?.status);
    }
  }
  const appliesInOrder = work.orders.filter((o) =>
    o.events.every((e) => inOrder.get(e.eventId) === "applied"),
  );
  report("the scenario's own shared orders all apply when delivered in order (fault-free, fresh database)", [
    ...stats.unexpected,
    ...work.orders
      .filter((o) => !appliesInOrder.includes(o))
      .map((o) => `${o.orderId}: ${o.events.map((e) => `${e.type} ${inOrder.get(e.eventId)}`).join(", ")}`),
  ]);

  // Under faults, delivered shuffled: the orders whose events all applied must equal in-order delivery.
  const complete = work.orders.filter((o) => o.events.every((e) => statusOf.get(e.eventId) === "applied"));
  const stuck = appliesInOrder.flatMap((o) =>
    o.events.filter((e) => statusOf.get(e.eventId) === "parked").map((e) => `${e.eventId} still parked`),
  );
  const [actual, expected] = await Promise.all([
    orderSnapshots(
      database,
      complete.map((o) => o.orderId),
    ),
    orderSnapshots(
      options.referenceDatabase,
      complete.map((o) => o.orderId),
    ),
  ]);
  const differences = complete.flatMap((o) =>
    actual.get(o.orderId) === expected.get(o.orderId)
      ? []
      : [`${o.orderId}: shuffled ${actual.get(o.orderId)}, in order ${expected.get(o.orderId)}`],
  );
  report(
    `every shared order whose events all applied (${complete.length} of ${work.orders.length}) ends as delivered in order: its row, events, lots and movements; none is left with parked events`,
    [
      ...(complete.length > 0 ? [] : ["no shared order had all its events applied"]),
      ...stuck,
      ...differences,
    ],
  );
  if (complete.length === work.orders.length) {
    report(
      "the shared customers' whole ledger equals the in-order delivery's",
      summaryDifferences(
        await ledgerSummary(database, work.customers),
        await ledgerSummary(options.referenceDatabase, work.customers),
      ),
    );
  } else {
    log(
      `${work.orders.length - complete.length} shared orders are incomplete: the shared customers' whole ledgers are not compared`,
    );
  }

  if (options.resend) {
    // Re-sending every shared write: credits answer what they answered, as replays; events answer
    // their stored outcome; nothing changes.
    const { target, operatorKey } = options.resend;
    const resendStats = newStats();
    const before = await ledgerSummary(database, work.customers);
    const problems: string[] = [];
    for (const a of shared.answered) {
      const again = await sendUntilAnswered(target, a.step, operatorKey, resendStats, { deadlineMs: 60_000 });
      if (a.step.kind === "credit") {
        const x = { status: again.answer.status, body: again.answer.json };
        const y = { status: a.answer.status, body: a.answer.json };
        if (!isDeepStrictEqual(x, y))
          problems.push(`${a.step.id}: re-sent got ${JSON.stringify(x)}, first ${JSON.stringify(y)}`);
        if (again.answer.headers["idempotent-replayed"] !== "true")
          problems.push(`${a.step.id}: not replayed`);
      } else {
        const statuses = outcomesOf(again.answer).map((o) => o.status);
        const wanted = (a.step.eventIds ?? []).map((id) => statusOf.get(id));
        if (again.answer.status < 400 && !isDeepStrictEqual(statuses, wanted)) {
          problems.push(`${a.step.id}: re-sent answered ${statuses.join(",")}, stored ${wanted.join(",")}`);
        }
        if (again.answer.status >= 400 && !wanted.every((s) => s === "refused")) {
          problems.push(
            `${a.step.id}: re-sent refused (${again.answer.text.slice(0, 120)}), stored ${wanted.join(",")}`,
          );
        }
      }
    }
    problems.push(...resendStats.unexpected);
    problems.push(
      ...summaryDifferences(await ledgerSummary(database, work.customers), before).map(
        (d) => `re-send changed: ${d}`,
      ),
    );
    report(
      `re-sending the ${shared.answered.length} shared writes answers their stored outcomes and changes nothing`,
      problems,
    );
  }
}
