import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../app/ports.js";

/** Something that must never grow silently: how many wait, and since when the oldest. */
export interface Backlog {
  /** The metric names' stem: `kopilka_<name>` and `kopilka_<name>_oldest_seconds`. */
  name: string;
  help: string;
  read(): Promise<{ count: number; oldest: Date | null }>;
}

/** What the service reports as it works; `GET /metrics` exposes it. */
export interface Metrics {
  registry: Registry;
  /** One answered HTTP request: its route's template (`/v1/customers/:customerId/balance`), not its URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Order events decided: applied, refused or parked (waiting). */
  countEvents(outcomes: readonly { status: string }[]): void;
  /** A transaction run again: its SQLSTATE (40001 serialization failure, 40P01 deadlock). */
  countRetry(sqlState: string): void;
  /** A scheduled task's round: done, skipped (another instance claimed it) or failed. */
  countRun(task: string, outcome: "done" | "skipped" | "failed"): void;
  /** R31: one delivery attempt to a target of a kind: delivered, failed (retried) or dead (dead-lettered). */
  countDelivery(target: "webhook" | "nats", outcome: "delivered" | "failed" | "dead"): void;
  /** Order-event messages from JetStream: applied (committed, then acked), malformed (terminated), retried (nak'd). */
  countOrderEventMessages(outcome: "applied" | "malformed" | "retried", messages: number): void;
}

/**
 * The service's Prometheus metrics (`GET /metrics`): the process's own (prom-client's defaults),
 * HTTP latency by route and status, order events by outcome, each write lane's queue, and two gauges
 * per backlog — order events waiting for an event that could make them valid, cross-customer effects
 * not yet applied (R23, R24) — each read from its partial index when scraped.
 */
export function createMetrics(
  backlogs: Backlog[],
  clock: Clock,
  /** The works queued in each write lane (group-commit.ts), read when scraped. */
  laneQueues: () => readonly number[],
  /**
   * With order events from JetStream: each partition's messages not yet acknowledged, read from the
   * server when scraped (every instance reports every partition).
   */
  orderEventLag?: () => Promise<readonly { partition: number; messages: number }[]>,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kopilka_" });
  const requests = new Histogram({
    name: "kopilka_http_request_duration_seconds",
    help: "HTTP requests by method, route template and status, seconds from receipt to the answer sent",
    labelNames: ["method", "route", "status"] as const,
    // From a cached read (≈1 ms) to a batch of 1,000 events or a database timeout (5 s).
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const events = new Counter({
    name: "kopilka_order_events_total",
    help: "Order events decided, by outcome: applied, refused, parked (waiting for another event)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of ["applied", "refused", "parked"]) events.inc({ outcome }, 0);
  const retries = new Counter({
    name: "kopilka_transaction_retries_total",
    help: "Transactions run again from the start, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const runs = new Counter({
    name: "kopilka_scheduler_runs_total",
    help: "Scheduled tasks' rounds, by task and outcome (done, skipped: another instance had it, failed)",
    labelNames: ["task", "outcome"] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "kopilka_notification_deliveries_total",
    help: "R31: notification delivery attempts by target kind (webhook, nats) and outcome (delivered; failed: retried later; dead: dead-lettered)",
    labelNames: ["target", "outcome"] as const,
    registers: [registry],
  });
  for (const target of ["webhook", "nats"])
    for (const outcome of ["delivered", "failed", "dead"]) deliveries.inc({ target, outcome }, 0);
  new Gauge({
    name: "kopilka_write_lane_queue_depth",
    help: "Works queued in each write lane (a hash range of customers), not yet in a transaction",
    labelNames: ["lane"] as const,
    registers: [registry],
    collect() {
      laneQueues().forEach((depth, lane) => {
        this.set({ lane: String(lane) }, depth);
      });
    },
  });
  const orderEventMessages = new Counter({
    name: "kopilka_nats_order_event_messages_total",
    help: "Order-event messages from JetStream, by outcome: applied (their batch committed, then acked; kopilka_order_events_total says what each event did), malformed (terminated), retried (nak'd to come again: the batch failed)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  if (orderEventLag) {
    new Gauge({
      name: "kopilka_nats_order_events_lag",
      help: "Order-event messages of each JetStream partition not yet acknowledged: not delivered yet, or delivered and not yet applied (the consumer's num_pending + num_ack_pending)",
      labelNames: ["partition"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        // NATS unreachable: the partitions are left out rather than the whole scrape failed.
        for (const { partition, messages } of await orderEventLag().catch(() => [])) {
          this.set({ partition: String(partition) }, messages);
        }
      },
    });
  }
  for (const backlog of backlogs) {
    let summary: Promise<{ count: number; oldest: Date | null }> | undefined;
    // One read serves both gauges of a scrape.
    const read = () => {
      summary ??= backlog.read().finally(() => {
        summary = undefined;
      });
      return summary;
    };
    new Gauge({
      name: `kopilka_${backlog.name}`,
      help: backlog.help,
      registers: [registry],
      async collect() {
        this.set((await read()).count);
      },
    });
    new Gauge({
      name: `kopilka_${backlog.name}_oldest_seconds`,
      help: `How long the oldest of them has waited, seconds (0 when none waits): ${backlog.help}`,
      registers: [registry],
      async collect() {
        const { oldest } = await read();
        this.set(oldest ? Math.max(0, (clock.now().getTime() - oldest.getTime()) / 1000) : 0);
      },
    });
  }
  return {
    registry,
    observeRequest: (method, route, status, seconds) =>
      requests.observe({ method, route, status: String(status) }, seconds),
    countEvents: (outcomes) => {
      for (const o of outcomes) events.inc({ outcome: o.status });
    },
    countRetry: (sqlState) =>
      retries.inc({ reason: sqlState === "40P01" ? "deadlock" : "serialization_failure" }),
    countRun: (task, outcome) => runs.inc({ task, outcome }),
    countDelivery: (target, outcome) => deliveries.inc({ target, outcome }),
    countOrderEventMessages: (outcome, messages) => orderEventMessages.inc({ outcome }, messages),
  };
}
