import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRAMME_CONFIG } from "../../src/domain/orders/index.js";
import {
  type Api,
  api,
  expectLedgerConsistent,
  type Harness,
  type Line,
  line,
  orderEvents,
} from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/**
 * R28 through HTTP on a real database: periods reported by the marketplace, the extra accrual fixed
 * when an order is placed, and free delivery in the quote.
 */

const T0 = new Date("2026-03-02T09:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

let h: Harness;
let k: Api;
beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});

function putPeriod(customerId: string, periodId: string, body: unknown, idempotencyKey?: string) {
  return h.send({
    method: "PUT",
    url: `/v1/customers/${customerId}/premium/periods/${periodId}`,
    key: h.keys.operator,
    body,
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
}

async function subscribe(customerId: string, startsAt: number, endsAt: number, periodId = "p1") {
  const res = await putPeriod(customerId, periodId, { startsAt: iso(startsAt), endsAt: iso(endsAt) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { version: number; startsAt: string; endsAt: string };
}

const book = (priceKop: number, quantity = 1, lineId = "book"): Line =>
  line("books", priceKop, quantity, { lineId });

interface PremiumQuote {
  lines: {
    lineId: string;
    accrualKop: number;
    premiumBp: number;
    premiumKop: number;
    explanation: { ru: string; en: string };
  }[];
  accrual: { points: number };
  premium: { active: boolean; bonusBp: number; accrualKop: number; points: number };
  delivery: { free: boolean; thresholdKop: number; reason: { ru: string; en: string } };
}

async function quote(customerId: string, lines: Line[], spendable?: number) {
  if (spendable) await k.credit(customerId, "bonus", spendable);
  const res = await k.quoteRaw(customerId, lines);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as PremiumQuote;
}

/** Places an order at `placedAt`, pays it and ships it at `shippedAt`; the events' outcomes. */
async function placeAndShip(
  customerId: string,
  orderId: string,
  lines: Line[],
  placedAt: number,
  shippedAt: number,
  spend = {},
) {
  let now = placedAt;
  const e = orderEvents(customerId, orderId, () => new Date(now));
  const placed = await k.apply(e.placed(lines, spend));
  await k.apply(e.paid());
  now = shippedAt;
  const shipped = await k.apply(e.shipped());
  return { placed, shipped, e };
}

describe("R28: Premium subscription", () => {
  it("R28: Premium +1% and free delivery at the threshold", async () => {
    h.clock.set(T0);
    await subscribe("prem-1", T0.getTime() - DAY, T0.getTime() + 30 * DAY);
    // A book at 1,000.00 by an ordinary card: 5% + 1% of 100,000 kop = 6,000 kop → 60 points.
    const q = await quote("prem-1", [book(100_000)]);
    expect(q.lines[0]).toMatchObject({ accrualKop: 6_000, premiumBp: 100, premiumKop: 1_000 });
    expect(q.accrual.points).toBe(60);
    expect(q.premium).toEqual({ active: true, bonusBp: 100, accrualKop: 1_000, points: 10 });
    expect(q.lines[0]?.explanation.ru).toContain("5% + 1% Премиум от 1 000 ₽ — 60 баллов");
    expect(q.delivery).toMatchObject({ free: true, thresholdKop: 100_000 });
    // 999.99 is below the threshold: not free, and the reason says by how much.
    const below = await quote("prem-1", [book(99_999)]);
    expect(below.delivery.free).toBe(false);
    expect(below.delivery.reason.en).toBe(
      "0.01 RUB short of free Premium delivery, which starts at 1,000 RUB",
    );
    // A customer who never subscribed: 5% only, and delivery is not free even well above the threshold.
    const plain = await quote("plain-1", [book(100_000)]);
    expect(plain.lines[0]).toMatchObject({ accrualKop: 5_000, premiumBp: 0, premiumKop: 0 });
    expect(plain.premium).toEqual({ active: false, bonusBp: 100, accrualKop: 0, points: 0 });
    expect(plain.delivery).toMatchObject({ free: false, thresholdKop: 100_000 });
    expect(plain.delivery.reason.ru).toBe("Бесплатная доставка — для подписчиков Премиум от 1 000 ₽");

    // The order: placed while Premium, it earns the 60 points when it ships, explained per line.
    const { placed, shipped } = await placeAndShip(
      "prem-1",
      "pr-1",
      [book(100_000)],
      T0.getTime(),
      T0.getTime() + HOUR,
    );
    expect(placed.effect).toMatchObject({ expectedAccrualPoints: 60, expectedPremiumPoints: 10 });
    expect(shipped.effect?.accrualPoints).toBe(60);
    const order = (await k.order("prem-1", "pr-1")) as unknown as {
      premium: boolean;
      lines: {
        premiumBp: number;
        premiumKop: number;
        accrualKop: number;
        explanation: { ru: string; en: string };
      }[];
    };
    expect(order.premium).toBe(true);
    expect(order.lines[0]).toMatchObject({ accrualKop: 6_000, premiumBp: 100, premiumKop: 1_000 });
    expect(order.lines[0]?.explanation).toEqual({
      ru: "Заказ pr-1, «Книги» 5% + 1% Премиум от 1 000 ₽ — 60 баллов",
      en: "Order pr-1, Books 5% + 1% Premium of 1,000 RUB — 60 points",
    });
    const credited = (await k.history("prem-1")).find((m) => m.type === "credit");
    expect(credited?.explanation.en).toContain("Books 5% + 1% Premium of 1,000 RUB — 60 points");
    await expectLedgerConsistent(h, "prem-1");
  });

  it("a period covers its start and not its end: an order placed exactly then is Premium, and exactly at the end is not", async () => {
    const start = T0.getTime() + 2 * DAY;
    const end = start + 7 * DAY;
    h.clock.set(new Date(end + DAY));
    await subscribe("prem-edge", start, end);
    const premiumOf = async (orderId: string, placedAt: number) => {
      const e = orderEvents("prem-edge", orderId, () => new Date(placedAt));
      await k.apply(e.placed([book(100_000)]));
      return (await k.order("prem-edge", orderId)) as unknown as {
        premium: boolean;
        lines: { accrualKop: number }[];
      };
    };
    expect(await premiumOf("edge-start", start)).toMatchObject({
      premium: true,
      lines: [{ accrualKop: 6_000 }],
    });
    expect(await premiumOf("edge-before", start - 1)).toMatchObject({
      premium: false,
      lines: [{ accrualKop: 5_000 }],
    });
    expect(await premiumOf("edge-last", end - 1)).toMatchObject({
      premium: true,
      lines: [{ accrualKop: 6_000 }],
    });
    expect(await premiumOf("edge-end", end)).toMatchObject({
      premium: false,
      lines: [{ accrualKop: 5_000 }],
    });
  });

  it("an order placed while Premium keeps its extra when it ships after the period; one placed after the end earns none", async () => {
    const start = T0.getTime();
    const end = start + 3 * DAY;
    h.clock.set(T0);
    await subscribe("prem-late", start, end);
    // Placed on day 1, shipped on day 10: the subscription has ended, the order keeps Premium.
    h.clock.set(new Date(start + 10 * DAY));
    const kept = await placeAndShip("prem-late", "late-1", [book(100_000)], start + DAY, start + 10 * DAY);
    expect(kept.shipped.effect?.accrualPoints).toBe(60);
    // Placed on day 4, after the end: 5% only.
    const after = await placeAndShip(
      "prem-late",
      "late-2",
      [book(100_000, 1, "b2")],
      end + DAY,
      start + 10 * DAY,
    );
    expect(after.shipped.effect?.accrualPoints).toBe(50);
    expect(after.placed.effect).not.toHaveProperty("expectedPremiumPoints");
    // A later correction of the period does not touch orders already placed.
    await subscribe("prem-late", start, start + HOUR);
    expect(((await k.order("prem-late", "late-1")) as unknown as { premium: boolean }).premium).toBe(true);
    await expectLedgerConsistent(h, "prem-late");
  });

  it("R10: points spent reduce the Premium base like the card bonus; R13, R14: returns claw back the Premium part too", async () => {
    h.clock.set(T0);
    await subscribe("prem-spend", T0.getTime() - DAY, T0.getTime() + 60 * DAY);
    await k.credit("prem-spend", "bonus", 500);
    // 2 books at 500.00, 500 points spent (R16: within 50%): half the order is paid with money, so
    // each line's base is 25,000 kop: 5% + 1% = 1,500 kop a line, 300 of them Premium.
    const lines = [book(50_000, 1, "ba"), book(50_000, 1, "bb")];
    const { shipped, e } = await placeAndShip(
      "prem-spend",
      "sp-1",
      lines,
      T0.getTime(),
      T0.getTime() + HOUR,
      { bonus: 500 },
    );
    expect(shipped.effect?.accrualPoints).toBe(30);
    const order = (await k.order("prem-spend", "sp-1")) as unknown as {
      lines: { accrualKop: number; premiumKop: number; clawedBackKop: number }[];
    };
    expect(order.lines.map((l) => [l.accrualKop, l.premiumKop])).toEqual([
      [1_500, 250],
      [1_500, 250],
    ]);
    // One book comes back: its whole accrual, Premium part included, is taken back (15 points).
    h.clock.set(new Date(T0.getTime() + 2 * DAY));
    const back = await k.apply(e.returned([{ lineId: "ba", quantity: 1 }]));
    expect(back.effect?.accrualPoints).toBe(15);
    const after = (await k.order("prem-spend", "sp-1")) as unknown as { lines: { clawedBackKop: number }[] };
    expect(after.lines[0]?.clawedBackKop).toBe(1_500);
    await expectLedgerConsistent(h, "prem-spend");
  });

  it("the programme's numbers: a version sets the extra and the threshold; one stored without them uses the defaults", async () => {
    h.clock.set(new Date(T0.getTime() + 100 * DAY));
    const now = h.clock.now().getTime();
    await subscribe("prem-config", now - DAY, now + 100 * DAY);
    const addVersion = (earning: Record<string, unknown>, effectiveFrom: number) =>
      h.send({
        method: "POST",
        url: "/v1/config/programme",
        key: h.keys.operator,
        body: {
          config: {
            ...DEFAULT_PROGRAMME_CONFIG,
            earning: { ...DEFAULT_PROGRAMME_CONFIG.earning, ...earning },
          },
          effectiveFrom: iso(effectiveFrom),
          reason: "R28 numbers",
        },
      });
    const bad = await addVersion({ premiumBonusBp: 501, premiumFreeDeliveryThresholdKop: -1 }, now);
    expect(bad.statusCode).toBe(400);
    expect(
      (bad.json() as { error: { details: { fields: { field: string }[] } } }).error.details.fields.map(
        (f) => f.field,
      ),
    ).toEqual(["body.config.earning.premiumBonusBp", "body.config.earning.premiumFreeDeliveryThresholdKop"]);
    expect(
      (await addVersion({ premiumBonusBp: 200, premiumFreeDeliveryThresholdKop: 50_000 }, now)).statusCode,
    ).toBe(201);
    const raised = await quote("prem-config", [book(60_000)]);
    expect(raised.lines[0]).toMatchObject({ premiumBp: 200, accrualKop: 4_200 });
    expect(raised.delivery).toMatchObject({ free: true, thresholdKop: 50_000 });
    // A version as stored before R28 has neither field (the API stores the config as sent, so one
    // sent without them is stored exactly as those were): the defaults apply.
    const {
      premiumBonusBp: _b,
      premiumFreeDeliveryThresholdKop: _t,
      ...older
    } = DEFAULT_PROGRAMME_CONFIG.earning;
    const res = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.operator,
      body: {
        config: { ...DEFAULT_PROGRAMME_CONFIG, earning: older },
        effectiveFrom: iso(now + 1),
        reason: "before R28",
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const stored = await sql<{ earning: Record<string, unknown> }>`
      select config -> 'earning' as earning from programme_config_versions order by version desc limit 1`.execute(
      h.database.db,
    );
    expect(stored.rows[0]?.earning).not.toHaveProperty("premiumBonusBp");
    h.clock.set(new Date(now + 2));
    const defaults = await quote("prem-config", [book(60_000)]);
    expect(defaults.lines[0]).toMatchObject({ premiumBp: 100, accrualKop: 3_600 });
    expect(defaults.delivery).toMatchObject({ free: false, thresholdKop: 100_000 });
  });
});

describe("R28: the periods API", () => {
  it("records, corrects (a new version, audited), joins overlapping periods, and reports the status with until", async () => {
    h.clock.set(T0);
    const now = T0.getTime();
    expect(
      (await h.send({ method: "GET", url: "/v1/customers/api-1/premium", key: h.keys.readonly })).json(),
    ).toEqual({
      customerId: "api-1",
      active: false,
      until: null,
      periods: [],
    });
    expect(await subscribe("api-1", now - DAY, now + DAY, "m1")).toMatchObject({ version: 1 });
    // Overlapping and adjoining periods are one stretch of Premium.
    await subscribe("api-1", now + HOUR, now + 3 * DAY, "m2");
    await subscribe("api-1", now + 3 * DAY, now + 5 * DAY, "m3");
    const status = (
      await h.send({ method: "GET", url: "/v1/customers/api-1/premium", key: await h.customerToken("api-1") })
    ).json() as { active: boolean; until: string; periods: { periodId: string; version: number }[] };
    expect(status).toMatchObject({ active: true, until: iso(now + 5 * DAY) });
    expect(status.periods.map((p) => p.periodId)).toEqual(["m1", "m2", "m3"]);
    // m2 corrected to end earlier: version 2, and the stretch now ends with m1.
    const corrected = await subscribe("api-1", now + HOUR, now + 2 * HOUR, "m2");
    expect(corrected).toMatchObject({ version: 2, endsAt: iso(now + 2 * HOUR) });
    const after = (
      await h.send({ method: "GET", url: "/v1/customers/api-1/premium", key: h.keys.support })
    ).json();
    expect(after).toMatchObject({ active: true, until: iso(now + DAY) });
    // The same dates again change nothing: still version 2, no new audit row.
    expect(await subscribe("api-1", now + HOUR, now + 2 * HOUR, "m2")).toMatchObject({ version: 2 });
    const audits = await sql<{
      before: { version: number } | null;
      after: { version: number; endsAt: string };
    }>`
      select before, after from audit_log where action = 'premium.record_period' and subject = 'customer:api-1'
        and after ->> 'periodId' = 'm2' order by after ->> 'version'`.execute(h.database.db);
    expect(audits.rows.map((r) => [r.before?.version ?? null, r.after.version])).toEqual([
      [null, 1],
      [1, 2],
    ]);
    h.clock.set(new Date(now + 6 * DAY));
    expect(
      (await h.send({ method: "GET", url: "/v1/customers/api-1/premium", key: h.keys.operator })).json(),
    ).toMatchObject({
      active: false,
      until: null,
    });
  });

  it("refuses a period that does not end after it starts, naming body.endsAt, and writes nothing", async () => {
    const res = await putPeriod("api-2", "x", { startsAt: iso(T0.getTime()), endsAt: iso(T0.getTime()) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { code: "VALIDATION_FAILED", details: { fields: [{ field: "body.endsAt" }] } },
    });
    const missing = await putPeriod("api-2", "x", { startsAt: iso(T0.getTime()) });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain("endsAt");
    const status = (
      await h.send({ method: "GET", url: "/v1/customers/api-2/premium", key: h.keys.operator })
    ).json();
    expect(status).toMatchObject({ active: false, periods: [] });
  });

  it("a retry with the same Idempotency-Key replays the answer; another body under it is a conflict", async () => {
    h.clock.set(T0);
    const body = { startsAt: iso(T0.getTime()), endsAt: iso(T0.getTime() + DAY) };
    const first = await putPeriod("api-3", "k", body, "premium-key-1");
    const again = await putPeriod("api-3", "k", body, "premium-key-1");
    expect(again.statusCode).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toBe(first.body);
    const other = await putPeriod(
      "api-3",
      "k",
      { ...body, endsAt: iso(T0.getTime() + 2 * DAY) },
      "premium-key-1",
    );
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: { code: "IDEMPOTENCY_CONFLICT" } });
  });
});
