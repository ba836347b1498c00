import { isDeepStrictEqual } from "node:util";
import { sql } from "kysely";
import { ERROR_CODES } from "../../src/http/errors.js";
import { type HttpAnswer, type HttpCall, Random, type ScenarioDatabase, sleep } from "./support.js";

/**
 * The scenarios' load: per client a reproducible stream of requests over two customers of its own —
 * credits, adjustments, spends and refunds, holds captured or released, order lifecycles (placed with
 * points, paid, shipped, delivered, returned, cancelled; some events in batches), and reads. Each
 * client sends its requests one after another, so the answers are a function of the requests alone:
 * a fault-free run of the same requests on another database must answer the same and leave the same
 * ledger, which is how "applied exactly once" is checked. The customers all clients share, whose
 * answers depend on the interleaving, are contention.ts's.
 */

export type StepKind =
  | "credit"
  | "adjust"
  | "spend"
  | "refund"
  | "hold"
  | "capture"
  | "release"
  | "event"
  | "events"
  | "balance"
  | "order";

export interface Step {
  /** Unique in the run: the Idempotency-Key of ledger writes, the prefix of event ids, the proxy's tag. */
  id: string;
  kind: StepKind;
  customerId: string;
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  /** Ledger writes: sent as Idempotency-Key (order events are idempotent by their eventId). */
  idempotencyKey?: string;
  eventIds?: string[];
}

export const isWrite = (step: Step) => step.method === "POST";
export const isLedgerWrite = (step: Step) => step.idempotencyKey !== undefined;

const CATEGORIES = ["electronics", "household_appliances", "clothing_shoes", "groceries", "books", "toys"];
const KINDS = ["bonus", "savings", "referral"] as const;

/** One client's requests, generated as they are asked for (a scenario runs its clients as long as it needs). */
export class Workload {
  private readonly random: Random;
  private readonly queue = new Map<string, Step[]>();
  private readonly lastOrder = new Map<string, string>();
  private counter = 0;
  private clock: number;
  readonly customers: string[];

  constructor(
    readonly prefix: string,
    seed: number,
    baseTime: Date,
  ) {
    this.random = new Random(seed);
    this.clock = baseTime.getTime();
    this.customers = [`${prefix}-a`, `${prefix}-b`];
    for (const c of this.customers) this.queue.set(c, []);
  }

  private nextId(): string {
    this.counter += 1;
    return `${this.prefix}-${this.counter}`;
  }

  private occurredAt(): string {
    this.clock += 100;
    return new Date(this.clock).toISOString();
  }

  next(): Step {
    const customerId = this.random.pick(this.customers);
    const pending = this.queue.get(customerId) ?? [];
    const queued = pending.shift();
    if (queued) return queued;
    const steps = this.flow(customerId);
    const [first, ...rest] = steps;
    if (!first) throw new Error("empty flow");
    pending.push(...rest);
    return first;
  }

  private ledgerStep(kind: StepKind, customerId: string, path: string, body: unknown): Step {
    const id = this.nextId();
    const resolved = typeof body === "function" ? (body as (id: string) => unknown)(id) : body;
    return {
      id,
      kind,
      customerId,
      method: "POST",
      path: `/v1/customers/${customerId}/${path}`,
      ...(resolved === undefined ? {} : { body: resolved }),
      idempotencyKey: id,
    };
  }

  private flow(customerId: string): Step[] {
    const r = this.random;
    const roll = r.next();
    if (roll < 0.3) {
      const source = r.pick(["purchase", "review", "campaign"] as const);
      return [
        this.ledgerStep("credit", customerId, "credits", (id: string) => ({
          kind: r.chance(0.7) ? "bonus" : r.pick(KINDS),
          amount: r.int(1, 2_000),
          source,
          funder: source === "campaign" ? "campaign:spring" : "marketplace",
          reference: id,
        })),
      ];
    }
    if (roll < 0.35) {
      const amount = r.int(1, 60) * (r.chance(0.3) ? -1 : 1);
      return [
        this.ledgerStep("adjust", customerId, "adjustments", (id: string) => ({
          kind: "bonus",
          amount,
          reason: `fault suite ${id}`,
        })),
      ];
    }
    if (roll < 0.47) {
      const spend = this.ledgerStep("spend", customerId, "spends", (id: string) => ({
        redemptionId: id,
        kind: "bonus",
        amount: r.int(1, 400),
      }));
      const redemptionId = (spend.body as { redemptionId: string }).redemptionId;
      if (!r.chance(0.5)) return [spend];
      return [
        spend,
        this.ledgerStep("refund", customerId, "refunds", { redemptionId, amount: r.int(1, 50) }),
      ];
    }
    if (roll < 0.57) {
      const hold = this.ledgerStep("hold", customerId, "holds", (id: string) => ({
        holdId: id,
        kind: "bonus",
        amount: r.int(1, 300),
        timeoutSeconds: 86_400,
      }));
      const holdId = (hold.body as { holdId: string }).holdId;
      const end = r.chance(0.6) ? "capture" : "release";
      return [hold, this.ledgerStep(end, customerId, `holds/${holdId}/${end}`, undefined)];
    }
    if (roll < 0.92) return this.orderFlow(customerId);
    if (roll < 0.96) {
      return [
        {
          id: this.nextId(),
          kind: "balance",
          customerId,
          method: "GET",
          path: `/v1/customers/${customerId}/balance`,
        },
      ];
    }
    return [
      {
        id: this.nextId(),
        kind: "order",
        customerId,
        method: "GET",
        path: `/v1/orders/${this.lastOrder.get(customerId) ?? "none"}?customerId=${customerId}`,
      },
    ];
  }

  private orderFlow(customerId: string): Step[] {
    const r = this.random;
    const orderId = `${this.nextId()}-o`;
    this.lastOrder.set(customerId, orderId);
    const lines = Array.from({ length: r.int(1, 3) }, (_, i) => ({
      lineId: `L${i + 1}`,
      sku: `sku-${r.int(1, 40)}`,
      sellerId: `seller-${r.int(1, 5)}`,
      category: r.pick(CATEGORIES),
      quantity: r.int(1, 3),
      unitPriceKop: r.int(100, 5_000) * 100,
    }));
    let sequence = 0;
    const event = (type: string, extra: Record<string, unknown> = {}) => {
      sequence += 1;
      return {
        eventId: `${orderId}-e${sequence}`,
        type,
        orderId,
        customerId,
        sequence,
        occurredAt: this.occurredAt(),
        ...extra,
      };
    };
    const spend = r.chance(0.6) ? { bonus: r.int(1, 300) } : undefined;
    const events = [
      event("placed", {
        lines,
        paymentMethod: r.pick(["marketplace_card", "other_card", "other"]),
        ...(spend ? { spend } : {}),
      }),
    ];
    const end = r.next();
    if (end < 0.15) {
      if (r.chance(0.5)) events.push(event("paid"));
      events.push(event("cancelled"));
    } else {
      events.push(event("paid"));
      if (end > 0.25) {
        events.push(event("shipped"));
        if (r.chance(0.5)) events.push(event("delivered"));
        if (r.chance(0.35)) {
          const line = r.pick(lines);
          events.push(
            event("returned", { lines: [{ lineId: line.lineId, quantity: r.int(1, line.quantity) }] }),
          );
        }
      }
    }
    // Some events go one by one, some two at a time in a batch.
    const steps: Step[] = [];
    for (let i = 0; i < events.length; ) {
      const take = i + 1 < events.length && r.chance(0.3) ? 2 : 1;
      const group = events.slice(i, i + take);
      i += take;
      steps.push({
        id: `${orderId}-s${i}`,
        kind: take === 1 ? "event" : "events",
        customerId,
        method: "POST",
        path: "/v1/orders/events",
        body: take === 1 ? group[0] : { events: group },
        eventIds: group.map((e) => e.eventId),
      });
    }
    return steps;
  }
}

// ---------------------------------------------------------------------------------------------------
// Sending

/** How a scenario reaches the service: HTTP to a port (a child process, through a proxy) or app.inject. */
export type Target = (call: HttpCall) => Promise<HttpAnswer>;

export function callOf(step: Step, operatorKey: string, extraHeaders: Record<string, string> = {}): HttpCall {
  const headers: Record<string, string> = { authorization: `Bearer ${operatorKey}`, ...extraHeaders };
  if (step.idempotencyKey) headers["idempotency-key"] = step.idempotencyKey;
  let body: string | undefined;
  if (step.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(step.body);
  }
  return { method: step.method, path: step.path, headers, body };
}

export interface Answered {
  step: Step;
  answer: HttpAnswer;
  attempts: number;
  /** Why attempts before the answer failed: connection errors, 503s. */
  failures: string[];
}

export interface RunStats {
  requests: number;
  attempts: number;
  connectionErrors: number;
  unavailable: number;
  /** 5xx other than 503: each one is a bug (INTERNAL), the request is retried. */
  unexpected: string[];
  replayed: number;
  /** Failed attempts by cause: ECONNREFUSED (service down), ECONNRESET (killed mid-request), 503… */
  failureKinds: Record<string, number>;
}

export const newStats = (): RunStats => ({
  requests: 0,
  attempts: 0,
  connectionErrors: 0,
  unavailable: 0,
  unexpected: [],
  replayed: 0,
  failureKinds: {},
});

/**
 * Sends a step until it is answered (2xx or 4xx), with the same key, eventIds and body each time;
 * connection errors and 503 are retried after a short pause, other 5xx are recorded and retried.
 */
export async function sendUntilAnswered(
  target: Target,
  step: Step,
  operatorKey: string,
  stats: RunStats,
  options: {
    deadlineMs?: number;
    beforeRetry?: (step: Step, attempt: number) => Promise<void>;
    /** Asked after every failed attempt: a reason to stop retrying at once (the service process died). */
    fatal?: () => string | undefined;
  } = {},
): Promise<Answered> {
  const deadline = Date.now() + (options.deadlineMs ?? 180_000);
  const failures: string[] = [];
  stats.requests += 1;
  for (let attempt = 1; ; attempt++) {
    stats.attempts += 1;
    let failure: string;
    try {
      // x-fault-tag names the step for the cutting proxy; it is not part of what makes a request "the same".
      const answer = await target(callOf(step, operatorKey, { "x-fault-tag": step.id }));
      if (answer.status < 500) {
        if (answer.headers["idempotent-replayed"] === "true") stats.replayed += 1;
        return { step, answer, attempts: attempt, failures };
      }
      const code = (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
      failure = `${answer.status} ${code ?? answer.text.slice(0, 80)}`;
      stats.failureKinds[String(answer.status)] = (stats.failureKinds[String(answer.status)] ?? 0) + 1;
      if (answer.status === 503 && code === "SERVICE_UNAVAILABLE") stats.unavailable += 1;
      else stats.unexpected.push(`${step.method} ${step.path} (${step.id}): ${answer.status} ${answer.text}`);
    } catch (error) {
      stats.connectionErrors += 1;
      failure = (error as Error).message;
      const kind = (error as NodeJS.ErrnoException).code ?? failure.replace(/\d+/g, "N");
      stats.failureKinds[kind] = (stats.failureKinds[kind] ?? 0) + 1;
    }
    failures.push(failure);
    const fatal = options.fatal?.();
    if (fatal) throw new Error(`${step.id}: ${fatal} (last failure: ${failure})`);
    if (Date.now() > deadline) {
      throw new Error(`${step.id} got no answer in ${attempt} attempts: ${failures.slice(-5).join("; ")}`);
    }
    await options.beforeRetry?.(step, attempt);
    await sleep(Math.min(50 * attempt, 300));
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparing answers and ledgers

const ID = /\b[a-z]{2,5}_[0-9A-HJKMNP-TV-Z]{26}\b/g;
const INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;
const DATE = /\d{4}-\d{2}-\d{2}/g;

export function normalizeValue(value: unknown): unknown {
  if (typeof value === "string") {
    return value.replace(ID, "<id>").replace(INSTANT, "<instant>").replace(DATE, "<date>");
  }
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeValue(v)]));
  }
  return value;
}

/**
 * What must be the same in two runs of the same request: the status and the body, with generated ids
 * and instants (which depend on when the request ran) replaced by placeholders.
 */
export function normalizedAnswer(answer: HttpAnswer): { status: number; body: unknown } {
  return { status: answer.status, body: normalizeValue(answer.json ?? answer.text) };
}

/**
 * A stored answer as a replay must repeat it: everything, except that a single order event's refusal
 * envelope carries the requestId of the request that asked (the per-event outcome is what is stored).
 */
export function replayComparable(step: Step, body: unknown): unknown {
  if (step.kind !== "event" || !body || typeof body !== "object" || !("error" in body)) return body;
  const { requestId: _, ...error } = (body as { error: Record<string, unknown> }).error;
  return { error };
}

/** A 4xx must be the error envelope with a code from the closed list. */
export function envelopeProblem(answer: HttpAnswer): string | undefined {
  if (answer.status < 400) return undefined;
  const body = answer.json as { error?: Record<string, unknown> } | undefined;
  const keys = body && typeof body === "object" ? Object.keys(body) : [];
  const inner = body?.error ? Object.keys(body.error).sort() : [];
  if (keys.join() !== "error" || inner.join() !== "code,details,message,requestId") {
    return `not the error envelope: ${answer.text.slice(0, 200)}`;
  }
  if (!(ERROR_CODES as readonly string[]).includes(String(body?.error?.code))) {
    return `code ${String(body?.error?.code)} is not in ERROR_CODES`;
  }
  return undefined;
}

/**
 * The ledger and order tables as a comparable value, per customer: what two runs of the same requests
 * must agree on (counts and sums, never generated ids or instants).
 */
export async function ledgerSummary(database: ScenarioDatabase, customers?: string[]) {
  const db = database.handle.db;
  const only = customers ? sql`customer_id = any(${customers}::text[])` : sql`true`;
  const q = async (query: ReturnType<typeof sql>) =>
    (await query.execute(db)).rows.map((r) => JSON.stringify(r));
  return {
    balances: await q(sql`select customer_id, kind, available, pending, held, debt from balances
      where ${only} and (available, pending, held, debt) <> (0, 0, 0, 0) order by 1, 2`),
    lots: await q(sql`select customer_id, kind, state, source, funder, reference, count(*)::int as n,
        sum(amount)::bigint as amount, sum(remaining)::bigint as remaining
      from lots where ${only} group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6`),
    movements: await q(sql`select customer_id, kind, type, reference, count(*)::int as n,
        sum(kopilka_sum(array(select abs(a) from unnest(amounts) as a))) :: bigint as volume
      from movements where ${only} group by 1, 2, 3, 4 order by 1, 2, 3, 4`),
    holds: await q(sql`select customer_id, hold_id, kind, amount, state, release_reason from holds
      where ${only} order by 1, 2`),
    redemptions: await q(sql`select customer_id, redemption_id, kind, amount, refunded from redemptions
      where ${only} order by 1, 2`),
    orders: await q(
      sql`select customer_id, order_id, state, config_version from orders where ${only} order by 1, 2`,
    ),
    orderEvents: await q(sql`select customer_id, event_id, order_id, status from order_events
      where ${only} order by 1, 2`),
    idempotency: await q(
      sql`select customer_id, scope, key, fingerprint from idempotency where ${only} order by 1, 2, 3`,
    ),
  };
}

export type LedgerSummary = Awaited<ReturnType<typeof ledgerSummary>>;

/** The rows one summary has and the other has not, per table (empty: equal). */
export function summaryDifferences(actual: LedgerSummary, expected: LedgerSummary): string[] {
  const out: string[] = [];
  for (const table of Object.keys(expected) as (keyof LedgerSummary)[]) {
    const a = new Set(actual[table]);
    const e = new Set(expected[table]);
    for (const row of actual[table]) if (!e.has(row)) out.push(`${table}: unexpected ${row}`);
    for (const row of expected[table]) if (!a.has(row)) out.push(`${table}: missing ${row}`);
  }
  return out;
}

/** Differences between each step's answer and the reference run's answer to the same step. */
export function answerDifferences(actual: Answered[], expected: Map<string, HttpAnswer>): string[] {
  const out: string[] = [];
  for (const { step, answer } of actual) {
    const reference = expected.get(step.id);
    if (!reference) {
      out.push(`${step.id}: no reference answer`);
      continue;
    }
    const a = normalizedAnswer(answer);
    const e = normalizedAnswer(reference);
    if (!isDeepStrictEqual(a, e)) {
      out.push(
        `${step.id} ${step.method} ${step.path}: got ${JSON.stringify(a)}, fault-free ${JSON.stringify(e)}`,
      );
    }
  }
  return out;
}

/**
 * Exactly-once, checked on the rows themselves: every credit answered 201 made one lot (its reference is
 * the key), every credit refused made none; every event has one stored row; every order's state is the
 * state the last applied event reported.
 */
export async function exactlyOnceProblems(
  database: ScenarioDatabase,
  answered: Answered[],
): Promise<string[]> {
  const problems: string[] = [];
  const credits = answered.filter((a) => a.step.kind === "credit");
  const counts = new Map<string, number>();
  if (credits.length > 0) {
    const rows = await sql<{ reference: string; n: number }>`select reference, count(*)::int as n from lots
      where reference = any(${credits.map((c) => c.step.id)}::text[]) group by reference`.execute(
      database.handle.db,
    );
    for (const r of rows.rows) counts.set(r.reference, r.n);
  }
  for (const c of credits) {
    const n = counts.get(c.step.id) ?? 0;
    const expected = c.answer.status === 201 ? 1 : 0;
    if (n !== expected) problems.push(`credit ${c.step.id} answered ${c.answer.status} made ${n} lots`);
  }
  const events = answered.flatMap((a) => a.step.eventIds ?? []);
  if (events.length > 0) {
    const rows = await sql<{
      event_id: string;
      n: number;
    }>`select event_id, count(*)::int as n from order_events
      where event_id = any(${events}::text[]) group by event_id`.execute(database.handle.db);
    const seen = new Map(rows.rows.map((r) => [r.event_id, r.n]));
    for (const e of events)
      if (seen.get(e) !== 1) problems.push(`event ${e} stored ${seen.get(e) ?? 0} times`);
  }
  const lastState = new Map<string, { customerId: string; state: string }>();
  for (const a of answered) {
    if (a.step.kind !== "event" && a.step.kind !== "events") continue;
    const body = a.answer.json as
      | { results?: { orderId: string; status: string; orderState?: string }[] }
      | { orderId: string; status: string; orderState?: string };
    const results =
      "results" in body && body.results
        ? body.results
        : [body as { orderId: string; status: string; orderState?: string }];
    for (const r of results) {
      if (r.status === "applied" && r.orderState) {
        lastState.set(r.orderId, { customerId: a.step.customerId, state: r.orderState });
      }
    }
  }
  if (lastState.size > 0) {
    const rows = await sql<{ order_id: string; state: string }>`select order_id, state from orders
      where order_id = any(${[...lastState.keys()]}::text[])`.execute(database.handle.db);
    const stored = new Map(rows.rows.map((r) => [r.order_id, r.state]));
    for (const [orderId, { state }] of lastState) {
      if (stored.get(orderId) !== state) {
        problems.push(
          `order ${orderId}: the last applied event said ${state}, stored ${stored.get(orderId)}`,
        );
      }
    }
  }
  return problems;
}

/** Runs each client's steps one after another on `target`, all clients side by side, and keeps every answer. */
export async function replayOn(
  target: Target,
  operatorKey: string,
  perClient: Step[][],
): Promise<Map<string, HttpAnswer>> {
  const answers = new Map<string, HttpAnswer>();
  const stats = newStats();
  await Promise.all(
    perClient.map(async (steps) => {
      for (const step of steps) {
        const { answer } = await sendUntilAnswered(target, step, operatorKey, stats, { deadlineMs: 60_000 });
        answers.set(step.id, answer);
      }
    }),
  );
  if (stats.unexpected.length > 0)
    throw new Error(`the fault-free run got 5xx: ${stats.unexpected.join("\n")}`);
  return answers;
}

/** An app.inject target (no network). */
export function injectTarget(app: {
  inject(options: {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: string;
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>;
}): Target {
  return async (call) => {
    const res = await app.inject({
      method: call.method,
      url: call.path,
      headers: call.headers,
      ...(call.body === undefined ? {} : { payload: call.body }),
    });
    let json: unknown;
    try {
      json = res.body.length > 0 ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers as HttpAnswer["headers"], text: res.body, json };
  };
}

/** "12 credit, 4 spend, …": what a list of steps did, for the log. */
export function describeSteps(steps: Step[]): string {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  return [...counts.entries()]
    .sort()
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
}

/** "201×40, 422×3, …": the statuses of the answers, for the log. */
export function describeStatuses(answered: { answer: HttpAnswer }[]): string {
  const counts = new Map<number, number>();
  for (const a of answered) counts.set(a.answer.status, (counts.get(a.answer.status) ?? 0) + 1);
  return [...counts.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([s, n]) => `${s}×${n}`)
    .join(", ");
}
