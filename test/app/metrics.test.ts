import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type Harness, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/** /metrics: latency by route template and status, order events by outcome, lanes, and who may read it. */

const value = (body: string, series: string) => {
  const escaped = series.replace(/[{}"/.:+]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} ([\\d.e+-]+)$`, "m").exec(body)?.[1]);
};

describe("GET /metrics", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const scrape = async () => (await h.send({ method: "GET", url: "/metrics" })).body;

  it("counts requests by route template and status, never by URL", async () => {
    await h.send({ method: "GET", url: "/v1/customers/m-1/balance", key: h.keys.operator });
    await h.send({ method: "GET", url: "/v1/customers/m-2/balance", key: h.keys.operator });
    await h.send({ method: "GET", url: "/v1/customers/m-3/balance" });
    const body = await scrape();
    const ok =
      'kopilka_http_request_duration_seconds_count{method="GET",route="/v1/customers/:customerId/balance",status="200"}';
    const refused =
      'kopilka_http_request_duration_seconds_count{method="GET",route="/v1/customers/:customerId/balance",status="401"}';
    expect(value(body, ok)).toBe(2);
    expect(value(body, refused)).toBe(1);
    expect(body).not.toContain("m-1");
  });

  it("counts the order events each request decided, by outcome (replays are not counted again)", async () => {
    const k = api(h);
    const before = await scrape();
    const e = orderEvents("m-events", "o-1", () => h.clock.now());
    const placed = e.placed([
      { lineId: "1", sku: "b", sellerId: "s-1", category: "books", quantity: 1, unitPriceKop: 10_000 },
    ]);
    const refused = {
      ...orderEvents("m-events", "o-2", () => h.clock.now()).placed(placed.lines),
      promoCode: "NO-SUCH",
    };
    // Placed applies; shipped before paid waits; a placed event with an unknown promo code is refused.
    await k.batch([placed, e.shipped(), refused]);
    await k.batch([placed]);
    const after = await scrape();
    const count = (body: string, outcome: string) =>
      value(body, `kopilka_order_events_total{outcome="${outcome}"}`);
    expect(count(after, "applied") - count(before, "applied")).toBe(1);
    expect(count(after, "parked") - count(before, "parked")).toBe(1);
    expect(count(after, "refused") - count(before, "refused")).toBe(1);
    expect(value(after, 'kopilka_write_lane_queue_depth{lane="0"}')).toBe(0);
  });
});

describe("GET /metrics with KOPILKA_METRICS_TOKEN", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await httpHarness({ KOPILKA_METRICS_TOKEN: "metrics-secret-1" });
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers only the token", async () => {
    for (const authorization of [undefined, "Bearer wrong", "Bearer metrics-secret-12", h.keys.operator]) {
      const res = await h.send({
        method: "GET",
        url: "/metrics",
        ...(authorization ? { headers: { authorization } } : {}),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("UNAUTHENTICATED");
    }
    const res = await h.send({
      method: "GET",
      url: "/metrics",
      headers: { authorization: "Bearer metrics-secret-1" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("kopilka_http_request_duration_seconds");
  });
});

describe("transaction retries and scheduler runs", () => {
  it("a transaction run again after a serialization failure or deadlock is counted by reason", async () => {
    const h = await httpHarness();
    try {
      const { PostgresLedgerStore } = await import("../../src/infra/ledger-store.js");
      const seen: string[] = [];
      const store = new PostgresLedgerStore(h.database.db, (code) => seen.push(code));
      let attempts = 0;
      await store.withCustomers(["m-retry"], async () => {
        attempts += 1;
        if (attempts === 1) throw Object.assign(new Error("could not serialize access"), { code: "40001" });
        if (attempts === 2) throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
      });
      expect(seen).toEqual(["40001", "40P01"]);
      const { createMetrics } = await import("../../src/infra/metrics.js");
      const metrics = createMetrics([], h.clock, () => [0]);
      for (const code of seen) metrics.countRetry(code);
      metrics.countRun("manager_month", "done");
      const body = await metrics.registry.metrics();
      expect(value(body, 'kopilka_transaction_retries_total{reason="serialization_failure"}')).toBe(1);
      expect(value(body, 'kopilka_transaction_retries_total{reason="deadlock"}')).toBe(1);
      expect(value(body, 'kopilka_scheduler_runs_total{task="manager_month",outcome="done"}')).toBe(1);
    } finally {
      await h.close();
    }
  });

  it("the scheduler reports each task's round: settlement claimed or skipped, tasks done or failed", async () => {
    const { startScheduler } = await import("../../src/infra/scheduler.js");
    const pino = (await import("pino")).default;
    const runs: string[] = [];
    const work = { run: async () => ({ claimed: false, customersSettled: 0 }) };
    const stop = startScheduler(
      work as never,
      { now: () => new Date() },
      3600,
      "test",
      pino({ level: "silent" }),
      [
        { task: "ok", name: "ok", run: async () => undefined },
        { task: "broken", name: "broken", run: async () => Promise.reject(new Error("down")) },
      ],
      (task, outcome) => runs.push(`${task}:${outcome}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await stop();
    expect(runs).toEqual(["settle_due_work:skipped", "ok:done", "broken:failed"]);
  });
});
