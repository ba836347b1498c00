import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, type Harness, line, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/**
 * R29 through HTTP on a real database: segments defined over the customers' statistics, which the
 * customers' own order events keep; membership follows events and the passing days at once, and a
 * campaign limited to a segment applies to its members only.
 */

const T0 = new Date("2026-03-10T09:00:00.000Z");
const DAY = 86_400_000;

let h: Harness;
let k: Api;
beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});

const put = (segmentId: string, body: unknown, key = h.keys.operator) =>
  h.send({ method: "PUT", url: `/v1/segments/${segmentId}`, key, body });

interface Membership {
  stats: { aov90Kop: number; orders30: number; orders90: number; usesCard: boolean; balancePoints: number };
  segments: string[];
}
async function membership(customerId: string): Promise<Membership> {
  const res = await h.send({
    method: "GET",
    url: `/v1/customers/${customerId}/segments`,
    key: h.keys.readonly,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Membership;
}

/** Places (and pays) an order at `at` of one book at `priceKop`; its events. */
async function buy(
  customerId: string,
  orderId: string,
  at: number,
  priceKop: number,
  paymentMethod = "other_card",
) {
  h.clock.set(new Date(at));
  const e = orderEvents(customerId, orderId, () => h.clock.now());
  await k.apply(e.placed([line("books", priceKop)], {}, paymentMethod as "other_card"));
  return e;
}

const frequent = {
  name: { ru: "Частые покупатели", en: "Frequent buyers" },
  rule: {
    all: [
      { stat: "orders30", op: "gte", value: 2 },
      { stat: "aov90Kop", op: "gte", value: 100_000 },
    ],
  },
};

describe("R29: segments", () => {
  it("a definition is versioned: the same one again changes nothing, another is the next version", async () => {
    h.clock.set(T0);
    const first = await put("frequent", frequent);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ segmentId: "frequent", version: 1, rule: frequent.rule });
    expect((await put("frequent", frequent)).json()).toMatchObject({ version: 1 });
    const wider = { ...frequent, rule: { stat: "orders30", op: "gte", value: 1 } };
    expect((await put("frequent-2", wider)).json()).toMatchObject({ version: 1 });
    expect(
      (await put("frequent-2", { ...wider, rule: { stat: "orders30", op: "gte", value: 3 } })).json(),
    ).toMatchObject({
      version: 2,
    });
  });

  it("membership follows the customer's orders, cancellations and the passing days", async () => {
    const t = T0.getTime() + DAY;
    await buy("seg-a", "a-1", t, 150_000);
    expect((await membership("seg-a")).segments).not.toContain("frequent");
    const second = await buy("seg-a", "a-2", t + 2 * DAY, 50_000);
    // Two orders in 30 days, averaging 1,000.00 RUB exactly: a member.
    let m = await membership("seg-a");
    expect(m.stats).toMatchObject({ orders30: 2, orders90: 2, aov90Kop: 100_000 });
    expect(m.segments).toContain("frequent");
    // The second order is cancelled: one order left, not a member any more.
    await k.apply(second.cancelled());
    m = await membership("seg-a");
    expect(m.stats).toMatchObject({ orders30: 1, aov90Kop: 150_000 });
    expect(m.segments).not.toContain("frequent");
    // Again two orders; 31 days later the first has left the 30-day window, with no event at all.
    await buy("seg-a", "a-3", t + 3 * DAY, 150_000);
    expect((await membership("seg-a")).segments).toContain("frequent");
    h.clock.set(new Date(t + 31 * DAY));
    m = await membership("seg-a");
    expect(m.stats).toMatchObject({ orders30: 1, orders90: 2 });
    expect(m.segments).not.toContain("frequent");
  });

  it("lists and counts a segment's members", async () => {
    const t = T0.getTime() + 40 * DAY;
    for (const c of ["seg-m1", "seg-m2"]) {
      await buy(c, `${c}-1`, t, 200_000, "marketplace_card");
      await buy(c, `${c}-2`, t + DAY, 200_000, "marketplace_card");
    }
    await put("card-users", {
      name: { ru: "С картой", en: "Card users" },
      rule: { stat: "usesCard", op: "eq", value: true },
    });
    const members = await h.send({
      method: "GET",
      url: "/v1/segments/card-users/members?limit=1",
      key: h.keys.readonly,
    });
    expect(members.statusCode, members.body).toBe(200);
    const page = members.json() as { members: { customerId: string }[]; next: string | null };
    expect(page.members.map((m) => m.customerId)).toEqual(["seg-m1"]);
    const rest = await h.send({
      method: "GET",
      url: `/v1/segments/card-users/members?limit=10&after=${page.next}`,
      key: h.keys.readonly,
    });
    expect((rest.json() as { members: { customerId: string }[] }).members.map((m) => m.customerId)).toEqual([
      "seg-m2",
    ]);
    const size = await h.send({ method: "GET", url: "/v1/segments/card-users/size", key: h.keys.readonly });
    expect(size.json()).toMatchObject({ members: 2 });
    expect((size.json() as { customers: number }).customers).toBeGreaterThanOrEqual(3);
  });

  it("a campaign limited to a segment applies to its members' orders only, and names an existing segment", async () => {
    const t = T0.getTime() + 60 * DAY;
    h.clock.set(new Date(t));
    const unknown = await h.send({
      method: "POST",
      url: "/v1/campaigns",
      key: h.keys.operator,
      body: {
        name: { ru: "Для своих", en: "For our own" },
        conditions: {
          startsAt: new Date(t).toISOString(),
          endsAt: new Date(t + 10 * DAY).toISOString(),
          segmentId: "nobody",
        },
        effect: { type: "unit_points", pointsPerUnit: 10 },
        combinable: true,
      },
    });
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json()).toMatchObject({
      error: { code: "SEGMENT_NOT_FOUND", details: { field: "body.conditions.segmentId" } },
    });
    await put("big-spenders", {
      name: { ru: "Крупные", en: "Big spenders" },
      rule: { stat: "aov90Kop", op: "gte", value: 500_000 },
    });
    const created = await h.send({
      method: "POST",
      url: "/v1/campaigns",
      key: h.keys.operator,
      body: {
        name: { ru: "Крупным покупателям", en: "For big spenders" },
        conditions: {
          startsAt: new Date(t).toISOString(),
          endsAt: new Date(t + 10 * DAY).toISOString(),
          segmentId: "big-spenders",
        },
        effect: { type: "unit_points", pointsPerUnit: 10 },
        combinable: true,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { campaignId } = created.json() as { campaignId: string };
    expect(
      (await h.send({ method: "POST", url: `/v1/campaigns/${campaignId}/publish`, key: h.keys.operator }))
        .statusCode,
    ).toBe(200);
    await buy("seg-big", "big-1", t + 1_000, 600_000);
    // The second order of the big spender gets the campaign; a first order of 600,000 did not
    // (the customer was not in the segment when it was placed), nor does a small buyer's.
    const e = orderEvents("seg-big", "big-2", () => h.clock.now());
    h.clock.set(new Date(t + 2_000));
    const placed = await k.apply(e.placed([line("books", 10_000)]));
    expect(placed.effect).toMatchObject({ expectedCampaignPoints: 10 });
    const small = orderEvents("seg-small", "small-1", () => h.clock.now());
    const other = await k.apply(small.placed([line("books", 10_000)]));
    expect(other.effect).not.toHaveProperty("expectedCampaignPoints");
    const first = await k.order("seg-big", "big-1");
    expect((first as unknown as { campaigns?: unknown[] }).campaigns).toBeUndefined();
  });

  it("bad input names the field", async () => {
    const res = await put("bad", {
      name: { ru: "x", en: "x" },
      rule: { any: [{ stat: "lifetime", op: "gt", value: 1 }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: "VALIDATION_FAILED", details: { fields: [{ field: "body.rule.any[0].stat" }] } },
    });
    const missing = await h.send({ method: "GET", url: "/v1/segments/nope", key: h.keys.readonly });
    expect(missing.statusCode).toBe(404);
  });
});
