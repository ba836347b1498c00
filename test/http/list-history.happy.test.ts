import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHarness } from "../support/http.js";
import {
  credit,
  customerIds,
  expectSuccess,
  fieldsOf,
  fullHistory,
  type Harness,
  type HistoryQuery,
  historyPage,
  openHold,
  spendPoints,
} from "./routes-table.js";

/** Movements newest first, each with postings that net to zero (R32) and an explanation (R33). */
describe("GET /v1/customers/{customerId}/history", () => {
  let h: Harness;
  const nextCustomer = customerIds("hist");
  /** A customer with seven credits of 1..7 points, made in that order. */
  let seven: string;
  beforeAll(async () => {
    h = await httpHarness();
    seven = nextCustomer();
    for (let amount = 1; amount <= 7; amount++)
      await credit(h, seven, amount, { reference: `order-${amount}` });
  });
  afterAll(async () => {
    await h.close();
  });

  const page = (customerId: string, query: HistoryQuery = {}) =>
    historyPage(h, customerId, query, h.keys.readonly);

  it("pages with limit and nextCursor, newest first, without gaps or repeats", async () => {
    const amounts: number[][] = [];
    let query: HistoryQuery = { limit: "3" };
    for (;;) {
      const { items, nextCursor } = await page(seven, query);
      amounts.push(items.map((m) => m.change.available));
      if (!nextCursor) break;
      expect(nextCursor).toBe(items[items.length - 1]?.movementId);
      query = { limit: "3", cursor: nextCursor };
    }
    expect(amounts).toEqual([[7, 6, 5], [4, 3, 2], [1]]);
  });

  it("a page that ends exactly at the last movement has no nextCursor", async () => {
    const first = await page(seven, { limit: "7" });
    expect(first.items).toHaveLength(7);
    expect(first.nextCursor).toBeNull();
    const short = await page(seven, { limit: "6" });
    expect(short.nextCursor).not.toBeNull();
    const rest = await page(seven, { limit: "6", cursor: short.nextCursor ?? undefined });
    expect(rest.items.map((m) => m.change.available)).toEqual([1]);
    expect(rest.nextCursor).toBeNull();
  });

  it("defaults to 50 items and accepts up to 200", async () => {
    const id = nextCustomer();
    for (let i = 0; i < 51; i++) await credit(h, id, 1);
    const first = await page(id);
    expect(first.items).toHaveLength(50);
    expect(first.nextCursor).not.toBeNull();
    expect((await page(id, { limit: "200" })).items).toHaveLength(51);
  });

  it("each item explains itself: postings net to zero, ru and en text, actor, reference, time", async () => {
    const { items } = await page(seven, { limit: "1" });
    const [item] = items;
    expect(item).toMatchObject({
      kind: "bonus",
      type: "credit",
      change: { available: 7, pending: 0, held: 0, debt: 0 },
      reference: "order-7",
      occurredAt: "2026-01-15T09:00:00.000Z",
    });
    expect(item?.movementId).toMatch(/^mov_[0-9A-Z]{26}$/);
    expect(item?.postings.reduce((sum, p) => sum + p.amount, 0)).toBe(0);
    expect(item?.explanation.ru).toContain("order-7");
    expect(item?.explanation.en).toContain("order-7");
    expect(item?.actor).toMatch(/^key_/);
  });

  it("explains with dates and times in KOPILKA_TIME_ZONE (Europe/Moscow by default); JSON instants stay UTC", async () => {
    // 22:30 UTC on 15 January 2027 is already the 16th in Moscow and still the 15th in New York.
    const expiresAt = "2027-01-15T22:30:00.000Z";
    const explained = async (harness: Harness) => {
      const id = nextCustomer();
      expect((await credit(harness, id, 10, { expiresAt })).expiresAt).toBe(expiresAt);
      // The clock stands at 09:00 UTC: the hold times out at 09:30 UTC (R20).
      await openHold(harness, id, "7781:bonus", 4);
      const { items } = await historyPage(harness, id, {}, harness.keys.readonly);
      expect(items.map((m) => m.occurredAt)).toEqual([
        "2026-01-15T09:00:00.000Z",
        "2026-01-15T09:00:00.000Z",
      ]);
      return items.map((m) => m.explanation);
    };
    expect(await explained(h)).toEqual([
      {
        ru: "4 балла (бонусные баллы) зарезервировано для заказа 7781 до 12:30",
        en: "4 points (bonus points) reserved for order 7781 until 12:30",
      },
      {
        ru: "Начислено 10 баллов за покупку, сгорят 16.01.2027",
        en: "10 points credited for a purchase, expire on 16 Jan 2027",
      },
    ]);
    const newYork = await httpHarness({ KOPILKA_TIME_ZONE: "America/New_York" });
    try {
      expect((await explained(newYork)).map((text) => text.en)).toEqual([
        "4 points (bonus points) reserved for order 7781 until 04:30",
        "10 points credited for a purchase, expire on 15 Jan 2027",
      ]);
    } finally {
      await newYork.close();
    }
  });

  it("shows only the customer's own movements; an unknown customer has an empty history", async () => {
    expect(await page(nextCustomer())).toEqual({ items: [], nextCursor: null });
    const other = nextCustomer();
    await credit(h, other, 99);
    expect((await fullHistory(h, other)).map((m) => m.change.available)).toEqual([99]);
    expect((await fullHistory(h, seven)).every((m) => m.change.available !== 99)).toBe(true);
  });

  it.each([
    ["limit=0", "querystring.limit"],
    ["limit=201", "querystring.limit"],
    ["limit=-1", "querystring.limit"],
    ["limit=abc", "querystring.limit"],
    ["limit=05", "querystring.limit"],
    ["limit=2.5", "querystring.limit"],
    ["cursor=abc", "querystring.cursor"],
    ["cursor=mov_123", "querystring.cursor"],
    ["cursor=lot_01JD0000000000000000000000", "querystring.cursor"],
    ["cursor=mov_01jd0000000000000000000000", "querystring.cursor"],
    ["page=2", "querystring.page"],
  ])("?%s → 400 naming %s", async (query, field) => {
    const res = await h.send({
      method: "GET",
      url: `/v1/customers/${seven}/history?${query}`,
      key: h.keys.readonly,
    });
    expect(fieldsOf(res)).toEqual([field]);
  });

  it("filters by kind, type, reference and a time range [from, to), and pages through the filtered list", async () => {
    const id = nextCustomer();
    const t0 = h.clock.now().getTime();
    for (let i = 1; i <= 4; i++)
      await credit(h, id, i, { reference: i % 2 === 0 ? "order-even" : "order-odd" });
    await credit(h, id, 50, { kind: "savings", source: "savings_interest", funder: "savings_interest" });
    h.clock.advanceSeconds(3600);
    expectSuccess(await spendPoints(h, id, { redemptionId: "order-spend", kind: "bonus", amount: 3 }), 201);
    const amounts = async (query: HistoryQuery) =>
      (await page(id, query)).items.map((m) => m.change.available);

    expect(await amounts({ kind: "savings" })).toEqual([50]);
    expect(await amounts({ type: "spend" })).toEqual([-3]);
    expect(await amounts({ reference: "order-even" })).toEqual([4, 2]);
    expect(await amounts({ kind: "bonus", type: "credit" })).toEqual([4, 3, 2, 1]);
    const hourLater = new Date(t0 + 3600_000).toISOString();
    expect(await amounts({ from: hourLater })).toEqual([-3]);
    expect(await amounts({ to: hourLater, kind: "bonus" })).toEqual([4, 3, 2, 1]);
    // The cursor pages through the filtered list only.
    const first = await page(id, { type: "credit", limit: "2" });
    expect(first.items.map((m) => m.change.available)).toEqual([50, 4]);
    expect(await amounts({ type: "credit", limit: "2", cursor: first.nextCursor ?? undefined })).toEqual([
      3, 2,
    ]);
  });

  it("a time range that is empty or reversed, or an unknown kind or type, is refused naming the field", async () => {
    const id = nextCustomer();
    const at = "2026-03-01T00:00:00Z";
    // Each field once, however many of its rules it breaks.
    const refused = async (query: string) => [
      ...new Set(
        fieldsOf(
          await h.send({ method: "GET", url: `/v1/customers/${id}/history${query}`, key: h.keys.readonly }),
        ),
      ),
    ];
    expect(await refused(`?from=${at}&to=${at}`)).toEqual(["querystring.from"]);
    expect(await refused("?kind=gold")).toEqual(["querystring.kind"]);
    expect(await refused("?type=teleport")).toEqual(["querystring.type"]);
    expect(await refused("?from=yesterday")).toEqual(["querystring.from"]);
  });
});
