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
