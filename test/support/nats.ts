import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { notificationStreamSubjects } from "../../src/infra/nats/notification-publisher.js";
import { orderEventPartition, orderEventSubject } from "../../src/infra/nats/partition.js";
import { ensureStream } from "../../src/infra/nats/streams.js";

/** Tests that need NATS use this server (CI starts one: .ci/run `ensure_nats`). */
export const TEST_NATS_URL = process.env.KOPILKA_NATS_URL || "nats://127.0.0.1:4222";

/**
 * A JetStream stream of order events of one test's own (unique name and subject prefix, so tests
 * never see each other's messages), the Kopilka settings that consume it, a publisher, and `close()`,
 * which deletes the stream.
 */
export async function orderEventStream(options: { partitions?: number; leaseSeconds?: number } = {}) {
  const partitions = options.partitions ?? 4;
  const id = randomBytes(5).toString("hex");
  const stream = `KOPILKA_TEST_${id}`;
  const prefix = `kopilka-test.${id}.order-events`;
  const connection = await connect({ servers: TEST_NATS_URL });
  const js = jetstream(connection);
  const jsm = await jetstreamManager(connection);
  // Made here so that events can be published before Kopilka starts (which brings its limits to its settings).
  await ensureStream(jsm, {
    name: stream,
    subjects: Array.from({ length: partitions }, (_, p) => orderEventSubject(prefix, p)),
    maxAgeSeconds: 3600,
    duplicateWindowSeconds: 120,
  });
  const env = {
    KOPILKA_NATS_URL: TEST_NATS_URL,
    KOPILKA_NATS_ORDER_EVENTS: "on",
    KOPILKA_NATS_ORDER_EVENTS_STREAM: stream,
    KOPILKA_NATS_ORDER_EVENTS_SUBJECT_PREFIX: prefix,
    KOPILKA_NATS_ORDER_EVENTS_PARTITIONS: String(partitions),
    KOPILKA_NATS_ORDER_EVENTS_LEASE_SECONDS: String(options.leaseSeconds ?? 3),
  };
  /** Messages not acknowledged yet, over every partition's consumer. */
  const unacknowledged = async () => {
    let total = 0;
    for await (const c of jsm.consumers.list(stream)) total += c.num_pending + c.num_ack_pending;
    return total;
  };
  return {
    env,
    stream,
    prefix,
    partitions,
    partitionOf: (customerId: string) => orderEventPartition(customerId, partitions),
    /** Each event on its customer's partition, in the order given (one connection keeps it). */
    async publish(events: readonly { customerId: string }[]) {
      await Promise.all(
        events.map((e) =>
          js.publish(
            orderEventSubject(prefix, orderEventPartition(e.customerId, partitions)),
            JSON.stringify(e),
          ),
        ),
      );
    },
    /** A message body as given (malformed ones), on a partition. */
    async publishRaw(partition: number, body: string) {
      return (await js.publish(orderEventSubject(prefix, partition), body)).seq;
    },
    unacknowledged,
    /** Waits until every published message is acknowledged (or terminated). */
    async drained(timeoutMs = 20_000) {
      const began = Date.now();
      while ((await jsm.streams.info(stream)).state.messages === 0 || (await unacknowledged()) > 0) {
        if (Date.now() - began > timeoutMs) {
          throw new Error(
            `${await unacknowledged()} order-event messages still unacknowledged after ${timeoutMs} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await jsm.streams.delete(stream).catch(() => false);
      await connection.close();
    },
  };
}

export type OrderEventStream = Awaited<ReturnType<typeof orderEventStream>>;

/**
 * A JetStream stream for one test's notifications (unique name and subject prefix), the Kopilka
 * settings that publish to it, `messages()` reading every message stored, and `close()`.
 */
export async function notificationStream() {
  const id = randomBytes(5).toString("hex");
  const stream = `KOPILKA_TEST_NTF_${id}`;
  const prefix = `kopilka-test.${id}`;
  const connection = await connect({ servers: TEST_NATS_URL });
  const jsm = await jetstreamManager(connection);
  const env = {
    KOPILKA_NATS_URL: TEST_NATS_URL,
    KOPILKA_NATS_NOTIFICATIONS: "on",
    KOPILKA_NATS_NOTIFICATIONS_STREAM: stream,
    KOPILKA_NATS_NOTIFICATIONS_SUBJECT_PREFIX: prefix,
  };
  return {
    env,
    stream,
    prefix,
    /** How many messages the stream holds (0 before Kopilka made it). */
    count: async () =>
      (await jsm.streams.info(stream).catch(() => ({ state: { messages: 0 } }))).state.messages,
    /** Every message the stream holds, in stream order: subject, `Nats-Msg-Id` and body. */
    async messages() {
      const total = (await jsm.streams.info(stream)).state.messages;
      const consumer = await jetstream(connection).consumers.get(stream);
      const out: { subject: string; msgId: string | undefined; body: Record<string, unknown> }[] = [];
      if (total === 0) return out;
      const iterator = await consumer.consume();
      for await (const m of iterator) {
        out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), body: m.json() });
        if (out.length >= total) break;
      }
      await iterator.close();
      return out;
    },
    /** Removes the stream (a broker that lost it), as an operator's mistake would. */
    deleteStream: () => jsm.streams.delete(stream),
    /** Makes it again as Kopilka makes it at start. */
    recreate: () =>
      ensureStream(jsm, {
        name: stream,
        subjects: notificationStreamSubjects(prefix),
        maxAgeSeconds: 3600,
        duplicateWindowSeconds: 120,
      }),
    async close() {
      await jsm.streams.delete(stream).catch(() => false);
      await connection.close();
    },
  };
}
