import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import { assertAsyncProperty } from "../support/property.js";
import { api, type Harness, type Line, line, type Outcome, orderEvents } from "./helpers.js";

/**
 * Issue 8.6: order events delivered out of order. Without `sequence`, an event that cannot apply yet
 * but could after a later one waits (parked) and applies when that event comes; one no later event
 * can make valid is refused. With `sequence`, an event ahead of its turn waits for its predecessors,
 * and one whose predecessor was refused is refused with PREDECESSOR_REFUSED. Waiting events show in
 * the order, in the operator's listing with their age, and in the metrics.
 */
describe("order events out of order", () => {
  let h: Harness;
  let k: ReturnType<typeof api>;
  beforeAll(async () => {
    h = await httpHarness();
    k = api(h);
  });
  afterAll(async () => {
    await h.close();
  });
  const now = () => h.clock.now();

  it("shipped before placed and paid waits, then applies: the same order as in order", async () => {
    const lines = [line("books", 100_000, 2, { lineId: "a" })];
    const late = orderEvents("c-ooo-1", "o-ooo-1", now);
    const [placed, paid, shipped] = [late.placed(lines), late.paid(), late.shipped()];
    expect((await k.post(shipped)).json()).toMatchObject({
      status: "parked",
      waitingFor: "order o-ooo-1 to be placed",
    });
    expect((await k.post(paid)).json()).toMatchObject({ status: "parked" });
    expect((await k.post(placed)).json()).toMatchObject({ status: "applied", orderState: "placed" });
    const inOrder = orderEvents("c-ooo-2", "o-ooo-2", now);
    for (const event of [inOrder.placed(lines), inOrder.paid(), inOrder.shipped()]) await k.apply(event);
    const [a, b] = [await k.order("c-ooo-1", "o-ooo-1"), await k.order("c-ooo-2", "o-ooo-2")];
    expect(a.state).toBe("shipped");
    expect(comparable(a)).toEqual(comparable(b));
    expect(await k.balance("c-ooo-1")).toEqual(await k.balance("c-ooo-2"));
  });

  it("a sequenced event whose predecessor was refused is refused with PREDECESSOR_REFUSED, and so is one sent after", async () => {
    const e = orderEvents("c-seq", "o-seq", now, true);
    const lines = [line("books", 100_000, 1, { lineId: "a" })];
    const placed = e.placed(lines);
    const shippedTooEarly = e.shipped(); // sequence 2: shipped on a placed order, refused
    const delivered = e.delivered(); // sequence 3
    expect((await k.post(delivered)).json()).toMatchObject({ status: "parked", waitingForSequence: 1 });
    await k.apply(placed);
    const refused = await k.post(shippedTooEarly);
    expect(refused.statusCode).toBe(409);
    const [after] = await k.batch([{ ...e.returned([{ lineId: "a", quantity: 1 }]) }]); // sequence 4
    for (const outcome of [after as Outcome]) {
      expect(outcome).toMatchObject({ status: "refused", error: { code: "PREDECESSOR_REFUSED" } });
      expect(outcome.error?.details).toMatchObject({
        refusedSequence: 2,
        refusedCode: "ORDER_STATE_CONFLICT",
      });
    }
    const replay = await k.post(delivered);
    expect(replay.statusCode).toBe(422);
    expect(replay.json().error).toMatchObject({
      code: "PREDECESSOR_REFUSED",
      details: { orderId: "o-seq", sequence: 3, refusedEventId: "o-seq.2", refusedSequence: 2 },
    });
    expect((await k.order("c-seq", "o-seq")).state).toBe("placed");
  });

  it("in one batch, the same event id with another body is IDEMPOTENCY_CONFLICT, even when a later event moves the first", async () => {
    const e = orderEvents("c-dup", "o-dup", now);
    const lines = [line("books", 100_000, 1, { lineId: "a" })];
    const shipped = e.shipped();
    const results = await k.batch([
      shipped,
      { ...shipped, lines: [{ lineId: "a", quantity: 1 }] },
      e.placed(lines),
      e.paid(),
    ]);
    expect(results.map((r) => r.status)).toEqual(["applied", "refused", "applied", "applied"]);
    expect(results[1]?.error?.code).toBe("IDEMPOTENCY_CONFLICT");
  });

  it("a refused event sent again answers byte for byte what it answered first, its request id included", async () => {
    const e = orderEvents("c-replay", "o-replay", now);
    await k.apply(e.placed([line("books", 100_000, 1, { lineId: "a" })]));
    await k.apply(e.paid());
    const overShip = e.shipped([{ lineId: "a", quantity: 5 }]);
    const first = await k.post(overShip);
    expect(first.statusCode).toBe(422);
    const again = await k.post(overShip);
    expect(again.statusCode).toBe(422);
    expect(again.body).toBe(first.body);
    expect(again.headers["x-request-id"]).not.toBe(first.json().error.requestId);
  });

  it("waiting events show in the order, in the operator's listing with their age, and in the metrics", async () => {
    const e = orderEvents("c-wait", "o-wait", now);
    const lines = [line("books", 100_000, 1, { lineId: "a" })];
    const paid = e.paid();
    const returned = e.returned([{ lineId: "a", quantity: 1 }]);
    await k.batch([paid, returned]);
    const missing = await h.send({
      method: "GET",
      url: "/v1/orders/o-wait?customerId=c-wait",
      key: h.keys.readonly,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.details.waitingEvents.map((w: { eventId: string }) => w.eventId)).toEqual([
      paid.eventId,
      returned.eventId,
    ]);
    h.clock.advanceSeconds(90);
    const listing = await h.send({
      method: "GET",
      url: "/v1/order-events/waiting?olderThanSeconds=60&limit=1",
      key: h.keys.support,
    });
    expect(listing.statusCode, listing.body).toBe(200);
    const page = listing.json() as {
      events: { eventId: string; waitingSeconds: number; waitingFor: string }[];
      next: string;
    };
    expect(page.events).toHaveLength(1);
    expect(page.events[0]?.waitingSeconds).toBeGreaterThanOrEqual(90);
    expect(page.next).toEqual(expect.any(String));
    const all: string[] = [];
    for (let next: string | null = null, first = true; first || next; first = false) {
      const res = await h.send({
        method: "GET",
        url: `/v1/order-events/waiting?limit=2${next ? `&after=${next}` : ""}`,
        key: h.keys.operator,
      });
      const body = res.json() as { events: { eventId: string }[]; next: string | null };
      all.push(...body.events.map((w) => w.eventId));
      next = body.next;
    }
    expect(all).toEqual(expect.arrayContaining([paid.eventId, returned.eventId]));
    expect(new Set(all).size).toBe(all.length);
    const fresh = await h.send({
      method: "GET",
      url: "/v1/order-events/waiting?olderThanSeconds=3600",
      key: h.keys.operator,
    });
    expect(fresh.json().events).toEqual([]);
    const bad = await h.send({
      method: "GET",
      url: "/v1/order-events/waiting?after=nonsense",
      key: h.keys.operator,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.fields[0].field).toBe("query.after");
    const metrics = await h.send({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers["content-type"]).toContain("text/plain");
    const waiting = Number(/^kopilka_order_events_waiting (\d+)$/m.exec(metrics.body)?.[1]);
    expect(waiting).toBeGreaterThanOrEqual(2);
    const oldest = Number(/^kopilka_order_events_waiting_oldest_seconds ([\d.]+)$/m.exec(metrics.body)?.[1]);
    expect(oldest).toBeGreaterThanOrEqual(90);

    await k.apply(e.placed(lines));
    const order = await h.send({
      method: "GET",
      url: "/v1/orders/o-wait?customerId=c-wait",
      key: h.keys.readonly,
    });
    expect(order.json()).toMatchObject({
      state: "paid",
      waitingEvents: [{ eventId: returned.eventId, type: "returned" }],
    });
    await k.apply(e.shipped());
    const done = await h.send({
      method: "GET",
      url: "/v1/orders/o-wait?customerId=c-wait",
      key: h.keys.readonly,
    });
    expect(done.json()).toMatchObject({ state: "returned", waitingEvents: [] });
  });

  /**
   * Random lifecycles of placed, paid, partial shipments and partial returns (each valid in order),
   * delivered shuffled without `sequence`, in random batches: the order and the balance end as in
   * order. (Events whose meaning depends on their order — a cancel racing a shipment, a shipment
   * after delivery — are left out: without `sequence` those keep the order they arrive in.)
   */
  it("property: unsequenced events of valid lifecycles, shuffled into random batches, end as delivered in order", async () => {
    let run = 0;
    await assertAsyncProperty(
      fc.asyncProperty(lifecycleArb, fc.infiniteStream(fc.nat()), async (plan, randoms) => {
        run += 1;
        const events = (customerId: string) => {
          const e = orderEvents(customerId, `o-${customerId}`, now);
          return [
            e.placed(plan.lines),
            e.paid(),
            ...plan.steps.map((s) => (s.type === "shipped" ? e.shipped(s.lines) : e.returned(s.lines))),
          ];
        };
        const inOrder = `p${run}-in`;
        for (const event of events(inOrder)) await k.apply(event);
        const shuffled = `p${run}-out`;
        const rest = [...events(shuffled)];
        const pick = randoms[Symbol.iterator]();
        const order: typeof rest = [];
        while (rest.length > 0) order.push(...rest.splice((pick.next().value as number) % rest.length, 1));
        while (order.length > 0) {
          const size = 1 + ((pick.next().value as number) % order.length);
          await k.batch(order.splice(0, size));
        }
        const [a, b] = [await k.order(inOrder, `o-${inOrder}`), await k.order(shuffled, `o-${shuffled}`)];
        expect(comparable(b)).toEqual(comparable(a));
        const [ba, bb] = [await k.balance(inOrder), await k.balance(shuffled)];
        expect(bb).toEqual(ba);
      }),
      { numRuns: 25 },
    );
  });
});

/** What must match between two customers' copies of an order (ids and times aside). */
function comparable(order: { state: string; accrualPoints: number; shortfall: number; lines: unknown[] }) {
  return {
    state: order.state,
    accrualPoints: order.accrualPoints,
    shortfall: order.shortfall,
    lines: (order.lines as Record<string, unknown>[]).map(({ explanation: _e, ...rest }) => rest),
  };
}

type Step = { type: "shipped" | "returned"; lines: { lineId: string; quantity: number }[] };

/** A cart and a sequence of shipments and returns, each valid when applied in order. */
const lifecycleArb = fc
  .record({
    quantities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    moves: fc.array(
      fc.record({ ship: fc.boolean(), line: fc.nat(), quantity: fc.integer({ min: 1, max: 3 }) }),
      {
        maxLength: 8,
      },
    ),
  })
  .map(({ quantities, moves }) => {
    const lines: Line[] = quantities.map((quantity, i) =>
      line(i % 2 === 0 ? "books" : "electronics", 50_000 + i * 10_000, quantity, { lineId: `l${i}` }),
    );
    const shipped = quantities.map(() => 0);
    const returned = quantities.map(() => 0);
    const steps: Step[] = [];
    for (const move of moves) {
      const i = move.line % quantities.length;
      const room = move.ship
        ? (quantities[i] as number) - (shipped[i] as number)
        : (shipped[i] as number) - (returned[i] as number);
      const quantity = Math.min(room, move.quantity);
      if (quantity === 0) continue;
      if (move.ship) shipped[i] = (shipped[i] as number) + quantity;
      else returned[i] = (returned[i] as number) + quantity;
      steps.push({ type: move.ship ? "shipped" : "returned", lines: [{ lineId: `l${i}`, quantity }] });
    }
    return { lines, steps };
  });
