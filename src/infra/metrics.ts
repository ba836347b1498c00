import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Clock } from "../app/ports.js";

/** Something that must never grow silently: how many wait, and since when the oldest. */
export interface Backlog {
  /** The metric names' stem: `kopilka_<name>` and `kopilka_<name>_oldest_seconds`. */
  name: string;
  help: string;
  read(): Promise<{ count: number; oldest: Date | null }>;
}

/**
 * The service's Prometheus metrics (`GET /metrics`): the process's own (prom-client's defaults) and
 * two gauges per backlog — order events waiting for an event that could make them valid,
 * cross-customer effects not yet applied (R23, R24) — each read from its partial index when scraped.
 */
export function createMetrics(backlogs: Backlog[], clock: Clock): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kopilka_" });
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
  return registry;
}
