import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import type { OrderEventMessage, OrderEventSource } from "../../app/order-events-consumer/ports.js";
import type { NatsOrderEventsConfig } from "../../config.js";
import { orderEventSubject } from "./partition.js";
import { ensureStream, isNotFound } from "./streams.js";

/** The stream, its partitions and its consumers as configured (KOPILKA_NATS_ORDER_EVENTS_*). */
export type OrderEventStreamSettings = NatsOrderEventsConfig;

/** JetStream's shortest wait of a pull request: a fetch answers within it even when nothing comes. */
const FETCH_EXPIRES_MS = 1000;
/** The server drops a message published again with the same `Nats-Msg-Id` within this window. */
const DUPLICATE_WINDOW_SECONDS = 120;

/** The durable consumer of one partition (consumer names are per stream). */
const partitionConsumerName = (partition: number) => `order-events-${partition}`;

/**
 * The order-event stream on JetStream: `<prefix>.<partition>` subjects in one stream, and one durable
 * pull consumer per partition filtered to its subject, acknowledged message by message. The ack wait
 * is half a lease, and at most one batch per partition is unacknowledged (`max_ack_pending`), so a
 * partition's messages are delivered in stream order to whoever holds its lease.
 */
export class JetStreamOrderEventSource implements OrderEventSource {
  readonly ackWaitMs: number;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly consumers: readonly Consumer[],
    settings: OrderEventStreamSettings,
  ) {
    this.ackWaitMs = ackWaitMsOf(settings);
  }

  /** The stream and the partitions' consumers, created or brought up to date. */
  static async open(
    connection: NatsConnection,
    settings: OrderEventStreamSettings,
  ): Promise<JetStreamOrderEventSource> {
    const jsm = await jetstreamManager(connection);
    const subjects = Array.from({ length: settings.partitions }, (_, p) =>
      orderEventSubject(settings.subjectPrefix, p),
    );
    await ensureStream(jsm, {
      name: settings.stream,
      subjects,
      maxAgeSeconds: settings.maxAgeSeconds,
      duplicateWindowSeconds: DUPLICATE_WINDOW_SECONDS,
    });
    const consumers = await Promise.all(
      subjects.map(async (subject, partition) => {
        await ensurePartitionConsumer(jsm, settings, partition, subject);
        return jsm.jetstream().consumers.get(settings.stream, partitionConsumerName(partition));
      }),
    );
    return new JetStreamOrderEventSource(connection, consumers, settings);
  }

  private consumer(partition: number): Consumer {
    const consumer = this.consumers[partition];
    if (!consumer) throw new RangeError(`no partition ${partition}`);
    return consumer;
  }

  async fetch(partition: number, max: number): Promise<OrderEventMessage[]> {
    const consumer = this.consumer(partition);
    // A pull request waits until it has all it asked for or expires: asking for what is there (the
    // consumer's pending and unacknowledged messages) answers at once under load, and asking for one
    // when nothing is there answers as soon as one comes.
    const info = await consumer.info();
    const waiting = info.num_pending + info.num_ack_pending;
    const messages = await consumer.fetch({
      max_messages: Math.max(1, Math.min(max, waiting)),
      expires: FETCH_EXPIRES_MS,
    });
    const batch: OrderEventMessage[] = [];
    for await (const m of messages) {
      batch.push({
        streamSequence: m.seq,
        deliveryCount: m.info.deliveryCount,
        data: m.data,
        ack: () => m.ack(),
        nak: (delayMs) => m.nak(delayMs),
        // Without a reason: servers before 2.10 take `+TERM <reason>` for no acknowledgement at all.
        term: () => m.term(),
      });
    }
    return batch;
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  /** Per partition, the messages not yet acknowledged: not delivered, or delivered and in hand. */
  async lag(): Promise<{ partition: number; messages: number }[]> {
    return Promise.all(
      this.consumers.map(async (consumer, partition) => {
        const info = await consumer.info();
        return { partition, messages: info.num_pending + info.num_ack_pending };
      }),
    );
  }
}

function ackWaitMsOf(settings: OrderEventStreamSettings): number {
  return (settings.leaseSeconds * 1000) / 2;
}

async function ensurePartitionConsumer(
  jsm: JetStreamManager,
  settings: OrderEventStreamSettings,
  partition: number,
  subject: string,
): Promise<void> {
  const name = partitionConsumerName(partition);
  const wanted = {
    filter_subject: subject,
    ack_wait: nanos(ackWaitMsOf(settings)),
    max_ack_pending: settings.batchSize,
  } satisfies Partial<ConsumerConfig>;
  let current: ConsumerConfig;
  try {
    current = (await jsm.consumers.info(settings.stream, name)).config;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(settings.stream, {
      ...wanted,
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
    });
    return;
  }
  if (
    current.filter_subject !== wanted.filter_subject ||
    current.ack_wait !== wanted.ack_wait ||
    current.max_ack_pending !== wanted.max_ack_pending
  ) {
    await jsm.consumers.update(settings.stream, name, wanted);
  }
}
