import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, type Harness, type Line, line, orderEvents } from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/**
 * R27 through HTTP on a real database: sellers define loyalty discounts, order events keep the
 * customer's statistics with each seller, and the quote takes the applied discount off the prices
 * before the points caps and the accrual.
 */

const MARCH = new Date("2026-03-10T09:00:00.000Z");
const HOUR = 3_600_000;

let h: Harness;
let k: Api;
beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});

interface DiscountQuote {
  lines: { lineId: string; unitPriceKop: number; accrualKop: number; spend: { bonus: number } }[];
  maxPerKind: { bonus: number };
  moneyToPayKop: number;
  accrual: { points: number };
  sellerDiscounts: {
    discountKop: number;
    sellers: {
      sellerId: string;
      stats: { pointsFromSeller: number; unitsThisMonth: number };
      discounts: {
        discountId: string;
        qualifies: boolean;
        applied: boolean;
        percentBp: number;
        reason: { ru: string; en: string };
      }[];
      lines: { lineId: string; unitDiscountKop: number; discountKop: number }[];
      discountKop: number;
    }[];
  };
}

const sellerLine = (sellerId: string, priceKop: number, quantity = 1) =>
  line("books", priceKop, quantity, { sellerId });

function putDiscount(
  sellerId: string,
  discountId: string,
  body: unknown,
  options: { key?: string; idempotencyKey?: string } = {},
) {
  return h.send({
    method: "PUT",
    url: `/v1/sellers/${sellerId}/loyalty-discounts/${discountId}`,
    key: options.key ?? h.keys.seller,
    body,
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
  });
}

async function define(sellerId: string, discountId: string, body: unknown, key = h.keys.operator) {
  const res = await putDiscount(sellerId, discountId, body, { key });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { version: number; active: boolean };
}

async function quote(customerId: string, lines: Line[]) {
  const res = await k.quoteRaw(customerId, lines);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as DiscountQuote;
}

/** Places, pays and ships an order at `at` (every unit); the event builder for later events. */
async function bought(customerId: string, orderId: string, lines: Line[], at: Date) {
  const e = orderEvents(customerId, orderId, () => at);
  await k.apply(e.placed(lines));
  await k.apply(e.paid());
  await k.apply(e.shipped());
  return e;
}

async function statsRow(customerId: string, sellerId: string) {
  const rows = await sql<{ points_kop: string; units_month: string; units: string }>`
    select points_kop::text, units_month, units::text from customer_seller_stats
    where customer_id = ${customerId} and seller_id = ${sellerId}`.execute(h.database.db);
  return rows.rows[0];
}

describe("R27: sellers' loyalty discounts", () => {
  it("R27 worked example: 10% once 100 points were earned on the seller's products (99: no, 100: yes)", async () => {
    h.clock.set(MARCH);
    await define("s-3", "loyal-100", {
      percentBp: 1_000,
      condition: { type: "points_from_seller", atLeast: 100 },
      name: { ru: "Постоянным покупателям", en: "For loyal customers" },
    });
    // 5% of 1,980.00 RUB = 9,900 kop of points: 99 points from s-3; another seller's points do not count.
    await bought("r27-a", "a-1", [sellerLine("s-3", 198_000)], MARCH);
    await bought("r27-a", "a-2", [sellerLine("s-4", 500_000)], MARCH);
    const cart = [sellerLine("s-3", 10_000)];
    const at99 = await quote("r27-a", cart);
    expect(at99.sellerDiscounts.sellers).toEqual([
      {
        sellerId: "s-3",
        stats: { pointsFromSeller: 99, unitsThisMonth: 1 },
        discounts: [
          {
            discountId: "loyal-100",
            name: { ru: "Постоянным покупателям", en: "For loyal customers" },
            percentBp: 1_000,
            condition: { type: "points_from_seller", atLeast: 100 },
            qualifies: false,
            applied: false,
            reason: {
              ru: "Скидка 10% от 100 баллов, накопленных за товары продавца: у вас 99 баллов",
              en: "10% off from 100 points earned on the seller's products: you have 99 points",
            },
          },
        ],
        lines: [{ lineId: cart[0]?.lineId, unitDiscountKop: 0, discountKop: 0 }],
        discountKop: 0,
      },
    ]);
    expect(at99.lines[0]?.unitPriceKop).toBe(10_000);

    // 5% of 20.00 RUB: one more point, 100 in all.
    await bought("r27-a", "a-3", [sellerLine("s-3", 2_000)], MARCH);
    const at100 = await quote("r27-a", cart);
    expect(at100.sellerDiscounts.sellers[0]?.discounts[0]).toMatchObject({ qualifies: true, applied: true });
    expect(at100.sellerDiscounts.discountKop).toBe(1_000);
    // The customer pays 90.00, and earns 5% of that: 450 kop.
    expect(at100.lines[0]).toMatchObject({ unitPriceKop: 9_000, accrualKop: 450 });
    expect(await statsRow("r27-a", "s-3")).toEqual({
      points_kop: "10000",
      units_month: "2026-03",
      units: "2",
    });
  });

  it("R27 worked example: 20% for more than 3 of the seller's items this month (3: no, 4: yes), months on Moscow's calendar", async () => {
    // 23:00 on 31 March in Moscow.
    const lateMarch = new Date("2026-03-31T20:00:00.000Z");
    h.clock.set(lateMarch);
    await define("s-5", "month-3", {
      percentBp: 2_000,
      condition: { type: "units_this_month", moreThan: 3 },
    });
    await bought("r27-b", "b-1", [sellerLine("s-5", 1_000, 3)], lateMarch);
    const cart = [sellerLine("s-5", 1_000, 2)];
    const three = await quote("r27-b", cart);
    expect(three.sellerDiscounts.sellers[0]?.discounts[0]).toMatchObject({
      qualifies: false,
      reason: {
        ru: "Скидка 20% при покупке больше 3 товаров продавца в этом месяце: у вас 3",
        en: "20% off for buying more than 3 of the seller's items this month: you bought 3",
      },
    });
    await bought("r27-b", "b-2", [sellerLine("s-5", 1_000)], lateMarch);
    const four = await quote("r27-b", cart);
    expect(four.sellerDiscounts.sellers[0]).toMatchObject({
      stats: { unitsThisMonth: 4 },
      discounts: [{ qualifies: true, applied: true }],
      lines: [{ unitDiscountKop: 200, discountKop: 400 }],
      discountKop: 400,
    });

    // Midnight in Moscow (21:00 UTC): April, and nothing bought in April yet.
    h.clock.set(new Date("2026-03-31T21:00:00.000Z"));
    const april = await quote("r27-b", cart);
    expect(april.sellerDiscounts.sellers[0]).toMatchObject({
      stats: { unitsThisMonth: 0 },
      discounts: [{ qualifies: false, applied: false }],
      discountKop: 0,
    });
    // An order placed at 00:30 Moscow time counts for April; March's row is overwritten, not kept.
    await bought("r27-b", "b-3", [sellerLine("s-5", 1_000)], new Date("2026-03-31T21:30:00.000Z"));
    expect(await statsRow("r27-b", "s-5")).toMatchObject({ units_month: "2026-04", units: "1" });
  });

  it("applies the largest discount the customer qualifies for, and computes the caps and accrual on the discounted prices", async () => {
    h.clock.set(MARCH);
    await define("s-6", "ten", { percentBp: 1_000, condition: { type: "points_from_seller", atLeast: 1 } });
    await define("s-6", "thirty", { percentBp: 3_000, condition: { type: "units_this_month", moreThan: 0 } });
    await define("s-6", "fifty", {
      percentBp: 5_000,
      condition: { type: "units_this_month", moreThan: 100 },
    });
    await bought("r27-c", "c-1", [sellerLine("s-6", 10_000)], MARCH);
    await k.credit("r27-c", "bonus", 1_000);
    const q = await quote("r27-c", [sellerLine("s-6", 10_000), sellerLine("s-7", 10_000)]);
    expect(q.sellerDiscounts.sellers).toHaveLength(1);
    expect(
      q.sellerDiscounts.sellers[0]?.discounts.map((d) => [d.discountId, d.qualifies, d.applied]),
    ).toEqual([
      ["fifty", false, false],
      ["ten", true, false],
      ["thirty", true, true],
    ]);
    expect(q.lines.map((l) => l.unitPriceKop)).toEqual([7_000, 10_000]);
    // R16: bonus points pay at most 50% of 170.00 RUB (not of 200.00): 85 points.
    expect(q.maxPerKind.bonus).toBe(85);
    expect(q.moneyToPayKop).toBe(17_000 - 85 * 100);
    expect(q.lines.reduce((s, l) => s + l.spend.bonus, 0)).toBe(85);
  });

  it("returns take points and units back off the statistics, and a cancelled order adds nothing", async () => {
    h.clock.set(MARCH);
    await define("s-8", "loyal", { percentBp: 1_500, condition: { type: "units_this_month", moreThan: 1 } });
    const lines = [sellerLine("s-8", 100_000, 2)];
    const e = await bought("r27-d", "d-1", lines, MARCH);
    // 5% of 2,000.00 RUB = 10,000 kop of points, 2 units.
    expect(await statsRow("r27-d", "s-8")).toEqual({
      points_kop: "10000",
      units_month: "2026-03",
      units: "2",
    });
    expect((await quote("r27-d", [sellerLine("s-8", 100)])).sellerDiscounts.discountKop).toBe(15);

    h.clock.set(new Date(MARCH.getTime() + 2 * HOUR));
    await k.apply(e.returned([{ lineId: lines[0]?.lineId as string, quantity: 1 }]));
    expect(await statsRow("r27-d", "s-8")).toEqual({
      points_kop: "5000",
      units_month: "2026-03",
      units: "1",
    });
    const after = await quote("r27-d", [sellerLine("s-8", 100)]);
    expect(after.sellerDiscounts.sellers[0]).toMatchObject({
      stats: { pointsFromSeller: 50, unitsThisMonth: 1 },
      discounts: [{ qualifies: false }],
      discountKop: 0,
    });

    // Placed and cancelled: nothing shipped, so no statistics at all.
    const c = orderEvents("r27-e", "e-1", () => MARCH);
    await k.apply(c.placed([sellerLine("s-8", 100_000, 5)]));
    await k.apply(c.cancelled());
    expect(await statsRow("r27-e", "s-8")).toBeUndefined();
  });

  it("keeps every change as an audited version; ending one leaves it out of quotes and keeps its history", async () => {
    h.clock.set(MARCH);
    const created = await define(
      "s-1",
      "v",
      { percentBp: 500, condition: { type: "points_from_seller", atLeast: 1 } },
      h.keys.seller,
    );
    expect(created).toMatchObject({ version: 1, active: true });
    // The same definition again changes nothing.
    expect(
      await define("s-1", "v", { percentBp: 500, condition: { type: "points_from_seller", atLeast: 1 } }),
    ).toMatchObject({ version: 1 });
    expect(
      await define("s-1", "v", { percentBp: 700, condition: { type: "points_from_seller", atLeast: 1 } }),
    ).toMatchObject({ version: 2 });
    const listed = await h.send({
      method: "GET",
      url: "/v1/sellers/s-1/loyalty-discounts",
      key: h.keys.readonly,
    });
    expect(
      listed
        .json()
        .discounts.map((d: { discountId: string; percentBp: number }) => [d.discountId, d.percentBp]),
    ).toEqual([["v", 700]]);

    const ended = await h.send({
      method: "DELETE",
      url: "/v1/sellers/s-1/loyalty-discounts/v",
      key: h.keys.seller,
    });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ version: 3, active: false, endedAt: MARCH.toISOString() });
    const none = await h.send({
      method: "GET",
      url: "/v1/sellers/s-1/loyalty-discounts",
      key: h.keys.seller,
    });
    expect(none.json().discounts).toEqual([]);
    await bought("r27-f", "f-1", [sellerLine("s-1", 10_000)], MARCH);
    expect((await quote("r27-f", [sellerLine("s-1", 10_000)])).sellerDiscounts.sellers).toEqual([]);

    const versions = await sql<{ version: number; percent_bp: number; ended: boolean }>`
      select version, percent_bp, ended from seller_discount_versions
      where seller_id = 's-1' and discount_id = 'v' order by version`.execute(h.database.db);
    expect(versions.rows).toEqual([
      { version: 1, percent_bp: 500, ended: false },
      { version: 2, percent_bp: 700, ended: false },
      { version: 3, percent_bp: 700, ended: true },
    ]);
    const audit = await sql<{ action: string }>`
      select action from audit_log where subject = 'seller_discount:s-1/v' order by at, audit_id`.execute(
      h.database.db,
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      "seller_discounts.put",
      "seller_discounts.put",
      "seller_discounts.end",
    ]);
    await expect(
      sql`update seller_discount_versions set percent_bp = 1`.execute(h.database.db),
    ).rejects.toThrow(/append-only/);
    const unknown = await h.send({
      method: "DELETE",
      url: "/v1/sellers/s-1/loyalty-discounts/nope",
      key: h.keys.seller,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("SELLER_DISCOUNT_NOT_FOUND");
  });

  it("a seller key manages only its own seller's discounts (403), naming the seller", async () => {
    const body = { percentBp: 1_000, condition: { type: "units_this_month", moreThan: 0 } };
    const put = await putDiscount("s-2", "x", body, { key: h.keys.seller });
    expect(put.statusCode).toBe(403);
    expect(put.json().error).toMatchObject({ code: "FORBIDDEN", details: { field: "params.sellerId" } });
    for (const method of ["GET", "DELETE"] as const) {
      const url =
        method === "GET" ? "/v1/sellers/s-2/loyalty-discounts" : "/v1/sellers/s-2/loyalty-discounts/x";
      const res = await h.send({ method, url, key: h.keys.seller });
      expect(res.statusCode, method).toBe(403);
    }
    // The other seller's own key may.
    expect((await putDiscount("s-2", "x", body, { key: h.keys.otherSeller })).statusCode).toBe(200);
    const rows = await sql<{
      n: number;
    }>`select count(*)::int as n from seller_discount_versions where seller_id = 's-2'`.execute(
      h.database.db,
    );
    expect(rows.rows[0]?.n).toBe(1);
  });

  it("refuses bad input with 400 naming the field, and more than 20 discounts in force with 422", async () => {
    const bad: [unknown, string][] = [
      [{ percentBp: 9_001, condition: { type: "units_this_month", moreThan: 0 } }, "body.percentBp"],
      [{ percentBp: 0, condition: { type: "units_this_month", moreThan: 0 } }, "body.percentBp"],
      [{ percentBp: 1.5, condition: { type: "units_this_month", moreThan: 0 } }, "body.percentBp"],
      [{ percentBp: 1_000, condition: { type: "points_from_seller", atLeast: 0 } }, "body.condition.atLeast"],
      [
        { percentBp: 1_000, condition: { type: "units_this_month", moreThan: -1 } },
        "body.condition.moreThan",
      ],
      [{ percentBp: 1_000, condition: { type: "units_this_month" } }, "body.condition.moreThan"],
      [{ percentBp: 1_000, condition: { type: "birthday" } }, "body.condition.type"],
      [
        { percentBp: 1_000, condition: { type: "units_this_month", moreThan: 1 }, name: "Loyal" },
        "body.name",
      ],
    ];
    for (const [body, field] of bad) {
      const res = await putDiscount("s-9", "bad", body, { key: h.keys.operator });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
      expect(
        res.json().error.details.fields.map((f: { field: string }) => f.field),
        JSON.stringify(body),
      ).toEqual([field]);
    }
    for (let i = 1; i <= 20; i++)
      await define("s-9", `d-${i}`, {
        percentBp: 100 * i,
        condition: { type: "units_this_month", moreThan: i },
      });
    const over = await putDiscount(
      "s-9",
      "d-21",
      { percentBp: 100, condition: { type: "units_this_month", moreThan: 0 } },
      { key: h.keys.operator },
    );
    expect(over.statusCode).toBe(422);
    expect(over.json().error).toMatchObject({
      code: "SELLER_DISCOUNTS_LIMIT_REACHED",
      details: { limit: 20 },
    });
    // Replacing one of the 20 is no new one; ending one makes room.
    expect(
      (await define("s-9", "d-1", { percentBp: 150, condition: { type: "units_this_month", moreThan: 1 } }))
        .version,
    ).toBe(2);
    await h.send({ method: "DELETE", url: "/v1/sellers/s-9/loyalty-discounts/d-2", key: h.keys.operator });
    expect(
      (await define("s-9", "d-21", { percentBp: 100, condition: { type: "units_this_month", moreThan: 0 } }))
        .version,
    ).toBe(1);
  });

  it("replays a retry with the same Idempotency-Key and refuses another body under it with 409", async () => {
    const body = { percentBp: 1_200, condition: { type: "points_from_seller", atLeast: 10 } };
    const first = await putDiscount("s-1", "idem", body, { idempotencyKey: "r27-put" });
    expect(first.statusCode, first.body).toBe(200);
    const again = await putDiscount("s-1", "idem", body, { idempotencyKey: "r27-put" });
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toBe(first.body);
    const other = await putDiscount(
      "s-1",
      "idem",
      { ...body, percentBp: 1_300 },
      { idempotencyKey: "r27-put" },
    );
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("IDEMPOTENCY_CONFLICT");
    const versions = await sql<{
      n: number;
    }>`select count(*)::int as n from seller_discount_versions where seller_id = 's-1' and discount_id = 'idem'`.execute(
      h.database.db,
    );
    expect(versions.rows[0]?.n).toBe(1);
  });

  it("the order placed at the quoted (discounted) prices earns what the quote said: placement applies nothing again", async () => {
    h.clock.set(MARCH);
    await define("s-10", "all", { percentBp: 2_500, condition: { type: "points_from_seller", atLeast: 1 } });
    await bought("r27-g", "g-1", [sellerLine("s-10", 10_000)], MARCH);
    const cart = [sellerLine("s-10", 40_000)];
    const q = await quote("r27-g", cart);
    expect(q.lines[0]?.unitPriceKop).toBe(30_000);
    const e = orderEvents("r27-g", "g-2", () => MARCH);
    const placed = await k.apply(
      e.placed(cart.map((l, i) => ({ ...l, unitPriceKop: q.lines[i]?.unitPriceKop as number }))),
    );
    expect(placed.effect?.expectedAccrualPoints).toBe(q.accrual.points);
    expect(q.accrual.points).toBe(15);
  });
});
