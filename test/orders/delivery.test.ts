import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ON_POSTGRES } from "../support/database.js";
import { httpHarness } from "../support/http.js";
import { checkLedgerInvariantsInSql } from "../support/invariants.js";
import { api, type Harness, type Line, type Outcome, totals } from "./helpers.js";

/**
 * At-least-once, out-of-order, concurrent delivery (real PostgreSQL only): every event of several
 * customers' lifecycles is delivered 1-5 times, shuffled, by many parallel requests mixing single
 * events and batches. The result must equal a fresh database that received each event once, in
 * order: balances, order views, per-event outcomes, and the movements (nothing applied twice).
 */

const T0 = new Date("2026-01-15T09:00:00.000Z");
const CUSTOMERS = 8;
/** Customers below this index get points first; the others first appear in a concurrent `placed`. */
const CREDITED = 6;

/** A small deterministic PRNG (mulberry32), so a failing shuffle can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Event = Record<string, unknown> & {
  eventId: string;
  customerId: string;
  orderId: string;
  sequence: number;
};

const LINES: Line[] = [
  { lineId: "A", sku: "novel", sellerId: "s-1", category: "books", quantity: 2, unitPriceKop: 100_000 },
  { lineId: "B", sku: "cable", sellerId: "s-2", category: "electronics", quantity: 3, unitPriceKop: 50_000 },
  {
    lineId: "C",
    sku: "tea",
    sellerId: "s-3",
    category: "groceries",
    quantity: 1,
    unitPriceKop: 30_000,
    originalUnitPriceKop: 45_000,
  },
];

type Step =
  | { type: "placed"; spend?: Record<string, number>; paymentMethod?: string }
  | { type: "paid" | "delivered" | "cancelled" }
  | { type: "shipped"; lines?: { lineId: string; quantity?: number }[] }
  | { type: "returned"; lines: { lineId: string; quantity: number }[] };

/** Lifecycles of one order each; shipments split by line, returns partial and full. */
const TEMPLATES: Step[][] = [
  [
    { type: "placed", spend: { bonus: 300, savings: 200, referral: 100 }, paymentMethod: "marketplace_card" },
    { type: "paid" },
    { type: "shipped", lines: [{ lineId: "A" }] },
    { type: "shipped" },
    { type: "delivered" },
    { type: "returned", lines: [{ lineId: "A", quantity: 1 }] },
    {
      type: "returned",
      lines: [
        { lineId: "B", quantity: 2 },
        { lineId: "C", quantity: 1 },
      ],
    },
  ],
  [{ type: "placed", spend: { bonus: 200 } }, { type: "cancelled" }],
  [{ type: "placed", spend: { savings: 150 } }, { type: "paid" }, { type: "cancelled" }],
  [
    { type: "placed" },
    { type: "paid" },
    { type: "shipped" },
    { type: "delivered" },
    {
      type: "returned",
      lines: [
        { lineId: "A", quantity: 2 },
        { lineId: "B", quantity: 3 },
        { lineId: "C", quantity: 1 },
      ],
    },
  ],
  [
    { type: "placed", spend: { referral: 50, bonus: 120 }, paymentMethod: "other" },
    { type: "paid" },
    { type: "shipped", lines: [{ lineId: "B", quantity: 3 }] },
    { type: "shipped" },
    { type: "returned", lines: [{ lineId: "B", quantity: 1 }] },
  ],
];

/** Every event of every customer, each order's in sequence 1..n. */
function scenario(): Event[] {
  const events: Event[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const customerId = `dlv-${c}`;
    const templates = c < CREDITED ? [c % TEMPLATES.length, (c + 2) % TEMPLATES.length] : [3, 3];
    for (const [n, t] of templates.entries()) {
      const orderId = `o-${c}-${t}-${n}`;
      (TEMPLATES[t] ?? []).forEach((step, i) => {
        const occurredAt = new Date(T0.getTime() + i * 60_000).toISOString();
        const base = { eventId: `${orderId}.${i + 1}`, orderId, customerId, sequence: i + 1, occurredAt };
        events.push(
          step.type === "placed"
            ? {
                ...base,
                type: "placed",
                lines: LINES,
                paymentMethod: step.paymentMethod ?? "other_card",
                spend: step.spend ?? {},
              }
            : { ...base, ...step },
        );
      });
    }
  }
  return events;
}

async function creditCustomers(h: Harness) {
  const k = api(h);
  for (let c = 0; c < CREDITED; c++)
    await k.creditAll(`dlv-${c}`, { bonus: 3000, savings: 2000, referral: 1000 });
}

/** What a database holds for the scenario, with ids and processing instants that may differ left out. */
async function snapshot(h: Harness, events: Event[]) {
  const k = api(h);
  const customers = [...new Set(events.map((e) => e.customerId))];
  const orders = [...new Set(events.map((e) => `${e.customerId}/${e.orderId}`))];
  const balances = Object.fromEntries(
    await Promise.all(customers.map(async (c) => [c, totals(await k.balance(c))] as const)),
  );
  const views = Object.fromEntries(
    await Promise.all(
      orders.map(async (key) => {
        const [customerId, orderId] = key.split("/") as [string, string];
        const { updatedAt: _updatedAt, ...view } = (await k.order(customerId, orderId)) as unknown as Record<
          string,
          unknown
        >;
        return [key, view] as const;
      }),
    ),
  );
  const eventRows = await sql<{ customer_id: string; event_id: string; status: string; outcome: unknown }>`
    select customer_id, event_id, status, outcome from order_events order by customer_id, event_id`.execute(
    h.database.db,
  );
  // Outcomes may be stored as JSON text (byte-identical replays) or jsonb: compare them as values.
  const storedEvents = eventRows.rows.map((r) => ({
    ...r,
    outcome: typeof r.outcome === "string" ? (JSON.parse(r.outcome) as unknown) : r.outcome,
  }));
  const movementRows = await sql<{
    customer_id: string;
    kind: string;
    type: string;
    accounts: string[];
    amounts: string[];
    reference: string | null;
    explanation: string;
  }>`select customer_id, kind, type, accounts, amounts::text[] as amounts, reference,
       explanation_code || ' ' || explanation_params::text as explanation
     from movements_readable order by customer_id, movement_id`.execute(h.database.db);
  // Orders of one customer may interleave differently: compare movements as a sorted multiset.
  const movements = movementRows.rows
    .map((m) =>
      JSON.stringify([m.customer_id, m.type, m.kind, m.reference, m.accounts, m.amounts, m.explanation]),
    )
    .sort();
  const counts: Record<string, number> = {};
  for (const m of movementRows.rows) {
    const key = `${m.customer_id} ${m.type}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return { balances, views, events: storedEvents, movements, counts };
}

describe.runIf(ON_POSTGRES)(
  "at-least-once, shuffled, concurrent delivery of order events (PostgreSQL)",
  () => {
    const events = scenario();
    let reference: Harness;
    let expected: Awaited<ReturnType<typeof snapshot>>;

    beforeAll(async () => {
      reference = await httpHarness();
      reference.clock.set(T0);
      await creditCustomers(reference);
      const k = api(reference);
      for (const event of events) {
        const [outcome] = await k.batch([event]);
        expect(outcome?.status, JSON.stringify(outcome)).toBe("applied");
      }
      expected = await snapshot(reference, events);
    });
    afterAll(async () => {
      await reference?.close();
    });

    it("the reference run applied every event once, in order, and its ledger is consistent", async () => {
      expect(expected.events).toHaveLength(events.length);
      expect(expected.events.every((e) => e.status === "applied")).toBe(true);
      expect(await checkLedgerInvariantsInSql(reference.database.db)).toEqual([]);
      // A sanity check of the scenario itself: template 0 partly returned, template 3 fully returned.
      expect(expected.views["dlv-0/o-0-0-0"]).toMatchObject({ state: "delivered" });
      expect(
        (expected.views["dlv-0/o-0-0-0"] as { lines: { returnedQuantity: number }[] }).lines.map(
          (l) => l.returnedQuantity,
        ),
      ).toEqual([1, 2, 1]);
      expect(expected.views["dlv-3/o-3-3-0"]).toMatchObject({ state: "returned", accrualPoints: 0 });
      expect(expected.views["dlv-4/o-4-4-0"]).toMatchObject({ state: "shipped" });
    });

    for (const seed of [1, 2, 3]) {
      it(`seed ${seed}: every event delivered 1-5 times, shuffled, concurrently → the same state as once in order`, async () => {
        const h = await httpHarness();
        try {
          h.clock.set(T0);
          await creditCustomers(h);
          const k = api(h);
          const random = prng(seed);
          const copies = events.flatMap((e) => Array.from({ length: 1 + Math.floor(random() * 5) }, () => e));
          for (let i = copies.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [copies[i], copies[j]] = [copies[j] as Event, copies[i] as Event];
          }
          // Cut into requests: single events, batches of one, and batches of up to 8 (mixing customers).
          const requests: { single: boolean; events: Event[] }[] = [];
          for (let i = 0; i < copies.length; ) {
            const size = random() < 0.35 ? 1 : 1 + Math.floor(random() * 8);
            requests.push({ single: size === 1 && random() < 0.6, events: copies.slice(i, i + size) });
            i += size;
          }
          expect(new Set(copies.map((e) => e.eventId)).size).toBe(events.length);

          const answers = await Promise.all(
            requests.map((r) => k.post(r.single ? r.events[0] : { events: r.events })),
          );
          const outcomes: Outcome[] = [];
          answers.forEach((res, i) => {
            expect(res.statusCode, res.body).toBe(200);
            const body = res.json() as Outcome | { results: Outcome[] };
            outcomes.push(...("results" in body ? body.results : [body]));
            if (!requests[i]?.single)
              expect((body as { results: Outcome[] }).results).toHaveLength(requests[i]?.events.length ?? -1);
          });
          expect(outcomes).toHaveLength(copies.length);
          // No delivery is refused: a duplicate answers the stored outcome, an early event is parked.
          expect(outcomes.filter((o) => o.status === "refused")).toEqual([]);
          expect(outcomes.some((o) => o.status === "parked")).toBe(true);

          const actual = await snapshot(h, events);
          expect(actual.events).toEqual(expected.events);
          expect(actual.balances).toEqual(expected.balances);
          expect(actual.views).toEqual(expected.views);
          expect(actual.counts).toEqual(expected.counts);
          expect(actual.movements).toEqual(expected.movements);
          expect(await checkLedgerInvariantsInSql(h.database.db)).toEqual([]);

          // A redelivery now answers every event's final, stored outcome.
          const replay = await k.batch(events);
          expect(replay.map((o) => o.status)).toEqual(events.map(() => "applied"));
          const stored = new Map(expected.events.map((e) => [e.event_id, e.outcome]));
          expect(replay).toEqual(events.map((e) => stored.get(e.eventId)));
          expect(await snapshot(h, events)).toEqual(actual);
        } finally {
          await h.close();
        }
      });
    }
  },
);
