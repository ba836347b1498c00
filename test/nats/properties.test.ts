import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type Harness, line, orderEvents, totals } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { type OrderEventStream, orderEventStream } from "../support/nats.js";
import { assertAsyncProperty } from "../support/property.js";

/**
 * Property: random orders of a few customers, their events interleaved across customers at random
 * and some published twice, end the same through JetStream as sent in one HTTP batch — balances and
 * order views alike. One harness per path for every case, each case with customers of its own.
 */

type Event = { customerId: string; eventId: string };

const orderShape = fc.record({
  lines: fc.array(
    fc.record({
      category: fc.constantFrom("books", "electronics", "groceries", "clothing_shoes", "toys"),
      priceKop: fc.integer({ min: 100, max: 2_000_000 }),
      quantity: fc.integer({ min: 1, max: 3 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  /** How far the order gets, or how it ends. */
  path: fc.constantFrom("placed", "paid", "shipped", "delivered", "returned", "cancelled"),
});

type OrderShape = typeof orderShape extends fc.Arbitrary<infer T> ? T : never;

function eventsOf(h: Harness, customerId: string, orderId: string, shape: OrderShape) {
  const e = orderEvents(customerId, orderId, () => h.clock.now());
  const lines = shape.lines.map((l) => line(l.category, l.priceKop, l.quantity));
  const steps: Event[] = [e.placed(lines)];
  if (shape.path === "cancelled") return [...steps, e.cancelled()];
  if (shape.path === "placed") return steps;
  steps.push(e.paid());
  if (shape.path === "paid") return steps;
  steps.push(e.shipped());
  if (shape.path === "shipped") return steps;
  steps.push(e.delivered());
  const [first] = lines;
  return shape.path === "returned" && first
    ? [...steps, e.returned([{ lineId: first.lineId, quantity: 1 }])]
    : steps;
}

/** Merges the customers' event lists at random, each customer's in its own order (`picks` choose who goes next). */
function interleave(perCustomer: Event[][], picks: number[]): Event[] {
  const queues = perCustomer.map((q) => [...q]);
  const merged: Event[] = [];
  let k = 0;
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0);
    const next = open[(picks[k++ % Math.max(1, picks.length)] ?? 0) % open.length]?.shift();
    if (next) merged.push(next);
  }
  return merged;
}

describe("order events from JetStream: a property", () => {
  let viaHttp: Harness;
  let viaNats: Harness;
  let stream: OrderEventStream;
  let caseNumber = 0;
  beforeAll(async () => {
    stream = await orderEventStream({ partitions: 4 });
    viaHttp = await httpHarness();
    viaNats = await httpHarness(stream.env);
    await viaNats.kopilka.startOrderEventsFromNats();
  });
  afterAll(async () => {
    await viaNats?.close();
    await viaHttp?.close();
    await stream?.close();
  });

  it("interleaved across partitions and redelivered, events end as one HTTP batch leaves them", async () => {
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(fc.array(orderShape, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (customersOrders, picks, repeats) => {
          caseNumber += 1;
          const customers = customersOrders.map((_, i) => `p${caseNumber}-c${i}`);
          const perCustomer = customersOrders.map((orders, i) =>
            orders.flatMap((shape, j) => eventsOf(viaHttp, customers[i] ?? "", `o${j}`, shape)),
          );
          const merged = interleave(perCustomer, picks);
          // A redelivered message: one published again later, after its own first delivery.
          const redelivered = repeats.map((r) => merged[r % merged.length]).filter((e) => e !== undefined);
          await api(viaHttp).batch(merged);
          await stream.publish([...merged, ...redelivered]);
          await stream.drained();
          for (const [i, customerId] of customers.entries()) {
            expect(totals(await api(viaNats).balance(customerId))).toEqual(
              totals(await api(viaHttp).balance(customerId)),
            );
            for (const j of customersOrders[i]?.keys() ?? []) {
              expect(await api(viaNats).order(customerId, `o${j}`)).toEqual(
                await api(viaHttp).order(customerId, `o${j}`),
              );
            }
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});
