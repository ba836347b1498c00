import { afterEach, describe, expect, it } from "vitest";
import { OrderEventsConsumer } from "../../src/app/order-events-consumer/consumer.js";
import type { MessageOutcome } from "../../src/app/order-events-consumer/ports.js";
import { loadConfig } from "../../src/config.js";
import { decodeOrderEventMessage } from "../../src/http/order-event-body.js";
import { connectNats } from "../../src/infra/nats/connection.js";
import { JetStreamOrderEventSource } from "../../src/infra/nats/order-event-source.js";
import { PostgresPartitionLeases } from "../../src/infra/order-event-partition-leases.js";
import { createKopilka } from "../../src/main.js";
import { api, type Harness, line, orderEvents } from "../orders/helpers.js";
import { httpHarness, TEST_JWT_SECRET } from "../support/http.js";
import { orderEventStream, TEST_NATS_URL } from "../support/nats.js";

/** Leases, redelivery after a failed batch, and partitions shared between instances (real NATS and database). */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const quiet = { info() {}, warn() {}, error() {} };

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const began = Date.now();
  while (!(await condition())) {
    if (Date.now() - began > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lifecycles(h: Harness, customers: readonly string[]) {
  return customers.flatMap((c) => {
    const e = orderEvents(c, `o-${c}`, () => h.clock.now());
    return [e.placed([line("books", 100_000, 2)]), e.paid(), e.shipped(), e.delivered()];
  });
}

async function expectAllDelivered(h: Harness, customers: readonly string[]) {
  for (const c of customers) {
    const order = await api(h).order(c, `o-${c}`);
    expect([order.state, order.accrualPoints]).toEqual(["delivered", 100]);
  }
}

describe("order events from JetStream: failures and sharing", () => {
  it("a batch that fails is nak'd and applied when delivered again, in stream order", async () => {
    const stream = await orderEventStream({ partitions: 1 });
    const h = await httpHarness();
    cleanups.push(
      () => stream.close(),
      () => h.close(),
    );
    const settings = loadConfig(stream.env).natsOrderEvents;
    if (!settings) throw new Error("the stream's settings turn order events on");
    const connection = await connectNats(TEST_NATS_URL, quiet);
    cleanups.push(() => connection.close());
    const source = await JetStreamOrderEventSource.open(connection, settings);
    const leases = new PostgresPartitionLeases(h.database.db, stream.stream, 1, settings.leaseSeconds);
    await leases.ensurePartitions();
    // The database refusing twice, as when it is down, then answering.
    let outages = 2;
    const counted: Record<MessageOutcome, number> = { applied: 0, malformed: 0, retried: 0 };
    const consumer = new OrderEventsConsumer(
      {
        source,
        leases,
        apply: async (incoming, requestId) => {
          if (outages-- > 0) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
          return h.kopilka.orders.handleEvents(incoming, "test", requestId);
        },
        decode: decodeOrderEventMessage,
        log: quiet,
        count: (outcome, messages) => {
          counted[outcome] += messages;
        },
        newRequestId: () => `req_test_${Date.now()}`,
      },
      {
        owner: "test",
        partitions: 1,
        batchSize: 500,
        leaseSeconds: settings.leaseSeconds,
        retryDelayMs: 100,
      },
    );
    await stream.publish(lifecycles(h, ["c-1", "c-2"]));
    await consumer.start();
    cleanups.push(() => consumer.stop());
    await stream.drained();
    await expectAllDelivered(h, ["c-1", "c-2"]);
    expect(counted.retried).toBeGreaterThanOrEqual(2);
    expect(counted.applied).toBe(8);
  });

  it("two instances share the partitions; one that stops hands its partitions to the other", async () => {
    const stream = await orderEventStream({ partitions: 8, leaseSeconds: 2 });
    const a = await httpHarness(stream.env);
    // A second instance on the same database (its own committer, consumer and NATS connection).
    const b = await createKopilka(
      loadConfig({ ...stream.env, KOPILKA_JWT_SECRET: TEST_JWT_SECRET, KOPILKA_LOG_LEVEL: "silent" }),
      {
        clock: a.clock,
        database: { ...a.database, close: async () => {} },
      },
    );
    cleanups.push(
      () => stream.close(),
      () => a.close(),
    );
    let bRunning = true;
    cleanups.push(async () => bRunning && b.close());
    await a.kopilka.startOrderEventsFromNats();
    await b.startOrderEventsFromNats();
    await until("the partitions split 4 and 4", () => {
      const [ofA, ofB] = [a.kopilka.orderEventPartitions(), b.orderEventPartitions()];
      return ofA.length === 4 && ofB.length === 4 && new Set([...ofA, ...ofB]).size === 8;
    });
    const customers = Array.from({ length: 16 }, (_, i) => `c-${i}`);
    expect(new Set(customers.map(stream.partitionOf)).size).toBe(8);
    await stream.publish(lifecycles(a, customers.slice(0, 8)));
    await stream.drained();
    await b.close();
    bRunning = false;
    await until("the one left holds every partition", () => a.kopilka.orderEventPartitions().length === 8);
    await stream.publish(lifecycles(a, customers.slice(8)));
    await stream.drained();
    await expectAllDelivered(a, customers);
  });
});
