import { afterEach, describe, expect, it } from "vitest";
import { api, type Harness, line, orderEvents, totals } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";
import { orderEventStream } from "../support/nats.js";

/**
 * Order events consumed from a real JetStream server (test/support/nats.ts), applied to a real
 * database (PGlite, or PostgreSQL with KOPILKA_DATABASE_URL), checked through the HTTP API.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function consumingHarness(options: { partitions?: number } = {}) {
  const stream = await orderEventStream(options);
  const h = await httpHarness(stream.env);
  cleanups.push(
    () => stream.close(),
    () => h.close(),
  );
  await h.kopilka.startOrderEventsFromNats();
  return { h, stream };
}

/** One customer's order, placed to delivered, all of it at once. */
function lifecycle(h: Harness, customerId: string, orderId: string) {
  const e = orderEvents(customerId, orderId, () => h.clock.now());
  return [e.placed([line("books", 100_000, 2)]), e.paid(), e.shipped(), e.delivered()] as const;
}

describe("order events from JetStream", () => {
  it("applies the events published to the partitions, each once, as the HTTP path would", async () => {
    const { h, stream } = await consumingHarness();
    const customers = ["c-1", "c-2", "c-3", "c-4", "c-5", "c-6"];
    expect(new Set(customers.map(stream.partitionOf)).size).toBeGreaterThan(1);
    const events = customers.flatMap((c) => lifecycle(h, c, `o-${c}`));
    await stream.publish(events);
    await stream.drained();
    const client = api(h);
    for (const c of customers) {
      const order = await client.order(c, `o-${c}`);
      expect(order.state).toBe("delivered");
      // R7 books 5% of 2,000.00 RUB: 100 points, pending from the shipment (R13).
      expect(order.accrualPoints).toBe(100);
      expect(totals(await client.balance(c)).bonus).toEqual({ available: 0, pending: 100, held: 0, debt: 0 });
    }
    const metrics = (await h.send({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(`kopilka_nats_order_event_messages_total{outcome="applied"} ${events.length}`);
    expect(metrics).toMatch(/kopilka_nats_order_events_lag\{partition="0"\} 0/);
  });

  it("a message published again changes nothing: the event answers what it answered first", async () => {
    const { h, stream } = await consumingHarness();
    const events = lifecycle(h, "c-1", "o-1");
    await stream.publish(events);
    await stream.publish([...events, ...events]);
    await stream.drained();
    const client = api(h);
    expect((await client.order("c-1", "o-1")).accrualPoints).toBe(100);
    expect(totals(await client.balance("c-1")).bonus.pending).toBe(100);
    expect(await client.history("c-1")).toHaveLength(1);
  });

  it("terminates a malformed message, logs and counts it, and goes on with the partition", async () => {
    const { h, stream } = await consumingHarness({ partitions: 1 });
    const [placed, paid, shipped, delivered] = lifecycle(h, "c-1", "o-1");
    await stream.publish([placed, paid]);
    await stream.publishRaw(0, "{not json");
    await stream.publishRaw(0, JSON.stringify({ ...shipped, type: "teleported" }));
    await stream.publish([shipped, delivered]);
    await stream.drained();
    expect((await api(h).order("c-1", "o-1")).state).toBe("delivered");
    const metrics = (await h.send({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(`kopilka_nats_order_event_messages_total{outcome="malformed"} 2`);
    expect(metrics).toContain(`kopilka_nats_order_event_messages_total{outcome="applied"} 4`);
  });
});
