import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { progressBar } from "../src/cli/progress.js";
import { orderEventPartition, orderEventSubject } from "../src/infra/nats/partition.js";
import { type CpuShare, cpuMeter, type OrderedFeed } from "./phases.js";
import type { RunningService } from "./service.js";
import { round } from "./stats.js";
import type { OrderEvent } from "./workload.js";

/** The stream of one run: its own name and subjects, so runs never share messages. */
export function benchStream(natsUrl: string, partitions: number, batchSize: number) {
  const id = randomBytes(4).toString("hex");
  const stream = `KOPILKA_BENCH_${id}`;
  const prefix = `kopilka-bench.${id}.order-events`;
  return {
    stream,
    prefix,
    partitions,
    /** What the service consumes it with. */
    env: {
      KOPILKA_NATS_URL: natsUrl,
      KOPILKA_NATS_ORDER_EVENTS: "on",
      KOPILKA_NATS_ORDER_EVENTS_STREAM: stream,
      KOPILKA_NATS_ORDER_EVENTS_SUBJECT_PREFIX: prefix,
      KOPILKA_NATS_ORDER_EVENTS_PARTITIONS: String(partitions),
      KOPILKA_NATS_ORDER_EVENTS_BATCH: String(batchSize),
    },
  };
}
export type BenchStream = ReturnType<typeof benchStream>;

/** Whether a NATS server answers at `url` (the phase is skipped, and says so, when none does). */
export async function natsAnswers(url: string): Promise<boolean> {
  try {
    await (await connect({ servers: url, timeout: 2000 })).close();
    return true;
  } catch {
    return false;
  }
}

export interface JetStreamResult {
  events: number;
  partitions: number;
  /** From the first publish to the last message acknowledged, s. */
  seconds: number;
  publishSeconds: number;
  publishedPerSecond: number;
  /** Events whose status is "applied" in the database, counted before and after. */
  applied: number;
  parked: number;
  refused: number;
  appliedPerSecond: number;
  cpu: CpuShare;
}

async function unacknowledged(connection: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(connection);
  let total = 0;
  for await (const c of jsm.consumers.list(stream)) total += c.num_pending + c.num_ack_pending;
  return total;
}

/**
 * (a′) the same order-event stream as (a), published to the JetStream partitions the service consumes
 * (each event on its customer's partition, in feed order on one connection), timed from the first
 * publish until every message is acknowledged — acknowledged only after its batch committed.
 */
export async function driveJetStream(options: {
  natsUrl: string;
  stream: BenchStream;
  feed: OrderedFeed;
  events: number;
  service: RunningService | undefined;
  statuses: () => Promise<Record<string, number>>;
  label: string;
}): Promise<JetStreamResult> {
  const { stream, feed } = options;
  const connection = await connect({ servers: options.natsUrl });
  const js = jetstream(connection);
  const before = await options.statuses();
  const meter = await cpuMeter(options.service);
  const bar = progressBar(options.label);
  const began = performance.now();
  const chunk = 5_000;
  for (let sent = 0; sent < options.events; sent += chunk) {
    const events: OrderEvent[] = feed.take(Math.min(chunk, options.events - sent));
    await Promise.all(
      events.map((e) =>
        js.publish(
          orderEventSubject(stream.prefix, orderEventPartition(e.customerId, stream.partitions)),
          JSON.stringify(e),
        ),
      ),
    );
    // Published in order on one connection: the partition keeps each order's events in order.
    feed.done(events);
    bar(sent + events.length, options.events);
  }
  const publishSeconds = (performance.now() - began) / 1000;
  while ((await unacknowledged(connection, stream.stream)) > 0) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const seconds = (performance.now() - began) / 1000;
  const after = await options.statuses();
  await connection.close();
  const delta = (status: string) => (after[status] ?? 0) - (before[status] ?? 0);
  return {
    events: options.events,
    partitions: stream.partitions,
    seconds: round(seconds, 2),
    publishSeconds: round(publishSeconds, 2),
    publishedPerSecond: round(options.events / publishSeconds, 1),
    applied: delta("applied"),
    parked: delta("parked"),
    refused: delta("refused"),
    appliedPerSecond: round(delta("applied") / seconds, 1),
    cpu: await meter(),
  };
}

/** Deletes the run's stream. */
export async function deleteBenchStream(natsUrl: string, stream: BenchStream): Promise<void> {
  const connection = await connect({ servers: natsUrl });
  await (await jetstreamManager(connection)).streams.delete(stream.stream).catch(() => false);
  await connection.close();
}
