import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Clock, OrderStore } from "../app/ports.js";

/**
 * The service's Prometheus metrics (`GET /metrics`): the process's own (prom-client's defaults) and
 * what must never grow silently — order events waiting for an event that could make them valid,
 * read from the `order_events_waiting` index when scraped.
 */
export function createMetrics(orders: OrderStore, clock: Clock): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kopilka_" });
  let summary: Promise<{ count: number; oldestReceivedAt: Date | null }> | undefined;
  // One read serves both gauges of a scrape.
  const read = () => {
    summary ??= orders.waitingSummary().finally(() => {
      summary = undefined;
    });
    return summary;
  };
  new Gauge({
    name: "kopilka_order_events_waiting",
    help: "Order events that cannot apply yet and wait (for an earlier sequence, or an event that could make them valid)",
    registers: [registry],
    async collect() {
      this.set((await read()).count);
    },
  });
  new Gauge({
    name: "kopilka_order_events_waiting_oldest_seconds",
    help: "How long the oldest waiting order event has waited, seconds (0 when none waits)",
    registers: [registry],
    async collect() {
      const oldest = (await read()).oldestReceivedAt;
      this.set(oldest ? Math.max(0, (clock.now().getTime() - oldest.getTime()) / 1000) : 0);
    },
  });
  return registry;
}
