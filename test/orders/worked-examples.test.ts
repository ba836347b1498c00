import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROGRAMME_CONFIG } from "../../src/domain/orders/index.js";
import { httpHarness } from "../support/http.js";
import {
  type Api,
  api,
  expectLedgerConsistent,
  type Harness,
  type Line,
  line,
  type Movement,
  orderEvents,
} from "./helpers.js";

/**
 * rules.md W1-W8 and the order rules around them (R11, R13, R15, R20, R33, configuration versions),
 * every one through the HTTP API: quote, order events, balance, history and the order view.
 */

const T0 = new Date("2026-01-15T09:00:00.000Z");
const HOUR = 3_600_000;

function book(priceKop: number, quantity = 1, extra: Partial<Line> = {}): Line {
  return line("books", priceKop, quantity, extra);
}

/** One service for the whole file; every test uses its own customers and sets the clock it needs. */
let h: Harness;
let k: Api;
beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});

describe("worked examples W1-W8 through HTTP", () => {
  /** Places, pays and ships an order in one go; returns the shipment's outcome. */
  async function placePayShip(
    customerId: string,
    orderId: string,
    lines: Line[],
    options: { spend?: Record<string, number>; paymentMethod?: "marketplace_card" | "other_card" } = {},
  ) {
    const e = orderEvents(customerId, orderId, () => h.clock.now());
    const [placed, paid, shipped] = await k.batch([
      e.placed(lines, options.spend ?? {}, options.paymentMethod ?? "other_card"),
      e.paid(),
      e.shipped(),
    ]);
    expect([placed?.status, paid?.status, shipped?.status]).toEqual(["applied", "applied", "applied"]);
    return { placed, shipped, e };
  }

  it("W1 (R7, R12): book 1,200 + accessory 799.99 by ordinary card earn 6,000 + 799 kop = 67 points", async () => {
    h.clock.set(T0);
    const lines = [book(120_000, 1, { lineId: "book" }), line("electronics", 79_999, 1, { lineId: "acc" })];
    const quote = await k.quote("w1", lines, "other_card");
    expect(quote.lines.map((l) => [l.lineId, l.rateBp, l.cardBp, l.accrualKop])).toEqual([
      ["book", 500, 0, 6000],
      ["acc", 100, 0, 799],
    ]);
    expect(quote.accrual.points).toBe(67);

    const { placed, shipped } = await placePayShip("w1", "o-w1", lines);
    expect(placed?.effect?.expectedAccrualPoints).toBe(67);
    expect(shipped?.effect?.accrualPoints).toBe(67);
    expect((await k.balance("w1")).bonus).toMatchObject({ available: 0, pending: 67 });
    const order = await k.order("w1", "o-w1");
    expect(order.lines.map((l) => l.accrualKop)).toEqual([6000, 799]);
    // R33: «Заказ 7781, «Книги» 5% от 1 200 ₽ — 60 баллов».
    expect(order.lines[0]?.explanation).toEqual({
      ru: "Заказ o-w1, «Книги» 5% от 1 200 ₽ — 60 баллов",
      en: "Order o-w1, Books 5% of 1,200 RUB — 60 points",
    });
    expect(order.lines[1]?.explanation.ru).toBe("Заказ o-w1, «Электроника» 1% от 799,99 ₽ — 7,99 балла");
    expect(order.lines[1]?.explanation.en).toBe("Order o-w1, Electronics 1% of 799.99 RUB — 7.99 points");
    await expectLedgerConsistent(h, "w1");
  });

  it("W2 (R8): the same order paid with the marketplace card earns 8,400 + 1,599 kop = 99 points", async () => {
    h.clock.set(T0);
    const lines = [book(120_000, 1, { lineId: "book" }), line("electronics", 79_999, 1, { lineId: "acc" })];
    const quote = await k.quote("w2", lines, "marketplace_card");
    expect(quote.lines.map((l) => [l.rateBp, l.cardBp, l.accrualKop])).toEqual([
      [500, 200, 8400],
      [100, 100, 1599],
    ]);
    expect(quote.accrual.points).toBe(99);
    const other = await k.quote("w2", lines, "other");
    expect(other.accrual.points).toBe(67);

    const { shipped } = await placePayShip("w2", "o-w2", lines, { paymentMethod: "marketplace_card" });
    expect(shipped?.effect?.accrualPoints).toBe(99);
    expect((await k.balance("w2")).bonus.pending).toBe(99);
  });

  it("W3 (R9): a jacket sold at 3,500 instead of 5,000 accrues 3% of the original price: 150 points", async () => {
    h.clock.set(T0);
    const jacket = line("clothing_shoes", 350_000, 1, { originalUnitPriceKop: 500_000 });
    const quote = await k.quote("w3", [jacket]);
    expect(quote.accrual.points).toBe(150);
    expect(quote.lines[0]?.accrualKop).toBe(15_000);
    // The money to pay is the promo price.
    expect(quote.moneyToPayKop).toBe(350_000);
    const { shipped } = await placePayShip("w3", "o-w3", [jacket]);
    expect(shipped?.effect?.accrualPoints).toBe(150);
    const order = await k.order("w3", "o-w3");
    expect(order.lines[0]?.explanation.ru).toContain("от 5 000 ₽ — 150 баллов");
  });

  it("W4 (R10, R16, R21): 1,500 bonus on A 1,500 + B 500: cap 1,000 split 750/250, earns 35", async () => {
    h.clock.set(T0);
    await k.credit("w4", "bonus", 1500);
    const lines = [line("clothing_shoes", 150_000, 1, { lineId: "A" }), book(50_000, 1, { lineId: "B" })];
    const quote = await k.quote("w4", lines);
    expect(quote.caps.capPoints.bonus).toBe(1000);
    expect(quote.combination).toEqual({ bonus: 1000, savings: 0, referral: 0 });
    expect(quote.lines.map((l) => l.spend.bonus)).toEqual([750, 250]);
    expect(quote.lines.map((l) => l.accrualKop)).toEqual([2250, 1250]);
    expect(quote.accrual.points).toBe(35);

    const { shipped } = await placePayShip("w4", "o-w4", lines, { spend: { bonus: 1000 } });
    expect(shipped?.effect?.accrualPoints).toBe(35);
    const order = await k.order("w4", "o-w4");
    expect(order.lines.map((l) => [l.spent.bonus, l.accrualKop])).toEqual([
      [750, 2250],
      [250, 1250],
    ]);
    expect((await k.balance("w4")).bonus).toMatchObject({ available: 500, pending: 35, held: 0 });
    await expectLedgerConsistent(h, "w4");
  });

  it("W5 (R17): savings pay at most min(99%, 1 RUB per unit left): 297 on 3 × 100, 49,500 on one 50,000", async () => {
    h.clock.set(T0);
    await k.credit("w5a", "savings", 1000);
    const threeUnits = await k.quote("w5a", [line("groceries", 10_000, 3)]);
    expect(threeUnits.maxPerKind.savings).toBe(297);
    expect(threeUnits.combination.savings).toBe(297);
    expect(threeUnits.moneyToPayKop).toBe(300);
    const threeLines = await k.quote("w5a", [
      line("groceries", 10_000),
      line("books", 10_000),
      line("toys", 10_000),
    ]);
    expect(threeLines.combination.savings).toBe(297);

    await k.credit("w5b", "savings", 60_000);
    const oneUnit = await k.quote("w5b", [line("electronics", 5_000_000)]);
    expect(oneUnit.maxPerKind.savings).toBe(49_500);
    expect(oneUnit.combination).toEqual({ bonus: 0, savings: 49_500, referral: 0 });
    expect(oneUnit.moneyToPayKop).toBe(50_000);
  });

  it("W6 (R19): bonus 800 + savings 900 → 500 + 490 = 990 and 10 RUB; with referral 400 → 250/250/490", async () => {
    h.clock.set(T0);
    const lines = () => [line("electronics", 60_000), line("electronics", 40_000)];
    await k.creditAll("w6a", { bonus: 800, savings: 900 });
    const plain = await k.quote("w6a", lines());
    expect(plain.combination).toEqual({ bonus: 500, savings: 490, referral: 0 });
    expect(plain.total).toBe(990);
    expect(plain.moneyToPayKop).toBe(1000);
    expect(plain.caps.nestingOrder).toEqual(["referral", "bonus", "savings"]);

    await k.creditAll("w6b", { bonus: 800, savings: 900, referral: 400 });
    const cart = lines();
    const withReferral = await k.quote("w6b", cart);
    expect(withReferral.combination).toEqual({ referral: 250, bonus: 250, savings: 490 });
    expect(withReferral.total).toBe(990);
    expect(withReferral.moneyToPayKop).toBe(1000);

    // The points really come from lots funded by the savings account and the manager programme.
    const history = await k.history("w6b");
    const credits = history.filter((m) => m.type === "credit");
    expect(credits.map((m) => [m.kind, m.postings[0]?.account])).toEqual([
      ["bonus", "funder:campaign:tests"],
      ["savings", "funder:savings_interest"],
      ["referral", "funder:manager_programme"],
    ]);

    // The combination can be spent as quoted: all three kinds are held, then captured.
    const e = orderEvents("w6b", "o-w6", () => h.clock.now());
    await k.apply(e.placed(cart, withReferral.combination));
    let balance = await k.balance("w6b");
    expect([balance.bonus.held, balance.savings.held, balance.referral.held]).toEqual([250, 490, 250]);
    await k.apply(e.paid());
    balance = await k.balance("w6b");
    expect([balance.bonus.available, balance.savings.available, balance.referral.available]).toEqual([
      550, 410, 150,
    ]);
    expect([balance.bonus.held, balance.savings.held, balance.referral.held]).toEqual([0, 0, 0]);
    await expectLedgerConsistent(h, "w6b");
  });

  it("W7 (R13, R14): a returned book whose 100 points were spent → shortfall 100, debt 100; next 60 leaves debt 40", async () => {
    h.clock.set(T0);
    const { shipped, e: bookOrder } = await placePayShip("w7", "o-w7-book", [
      book(200_000, 1, { lineId: "b" }),
    ]);
    expect(shipped?.effect).toMatchObject({ accrualPoints: 100, availableFrom: "2026-01-16T09:00:00.000Z" });
    expect((await k.balance("w7")).bonus).toMatchObject({ available: 0, pending: 100 });
    h.clock.set(new Date(T0.getTime() + 24 * HOUR));
    expect((await k.balance("w7")).bonus).toMatchObject({ available: 100, pending: 0 });

    // All 100 are spent on another order.
    const other = orderEvents("w7", "o-w7-other", () => h.clock.now());
    await k.apply(other.placed([line("electronics", 30_000)], { bonus: 100 }));
    await k.apply(other.paid());
    expect((await k.balance("w7")).bonus.available).toBe(0);

    // The book comes back: 100 to claw back, nothing to take them from.
    const returned = await k.apply(bookOrder.returned([{ lineId: "b", quantity: 1 }]));
    expect(returned.effect).toMatchObject({ accrualPoints: 100, shortfall: 100 });
    expect(returned.orderState).toBe("returned");
    expect((await k.balance("w7")).bonus).toMatchObject({ available: 0, pending: 0, debt: 100 });
    expect((await k.order("w7", "o-w7-book")).shortfall).toBe(100);
    const clawback = (await k.history("w7")).find((m) => m.type === "clawback");
    expect(clawback?.postings).toEqual(
      expect.arrayContaining([
        { account: "wallet:debt", amount: -100 },
        { account: "sink:clawed_back", amount: 100 },
      ]),
    );
    expect(clawback?.explanation.ru).toContain("не хватило 100 баллов");
    expect(clawback?.explanation.en).toContain("100 points short");

    // The next accrual of 60 (a 1,200 book) pays off 60 of the debt when it becomes available.
    const next = await placePayShip("w7", "o-w7-next", [book(120_000)]);
    expect(next.shipped?.effect?.accrualPoints).toBe(60);
    expect((await k.balance("w7")).bonus).toMatchObject({ available: 0, pending: 60, debt: 100 });
    h.clock.set(new Date(T0.getTime() + 48 * HOUR));
    expect((await k.balance("w7")).bonus).toMatchObject({ available: 0, pending: 0, debt: 40 });
    const offset = (await k.history("w7")).find((m) => m.type === "debt_offset");
    expect(offset?.postings).toEqual([
      { account: "wallet:available", amount: -60 },
      { account: "wallet:debt", amount: 60 },
    ]);
    await expectLedgerConsistent(h, "w7");
  });

  describe("W8 (R15): points spent from a lot expiring 1 March come back", () => {
    async function spendFromExpiringLot(customerId: string) {
      h.clock.set(T0);
      await k.credit(customerId, "bonus", 100, { expiresAt: "2026-03-01T00:00:00.000Z" });
      const cart = [book(40_000, 1, { lineId: "b" })];
      const e = orderEvents(customerId, `o-${customerId}`, () => h.clock.now());
      await k.apply(e.placed(cart, { bonus: 100 }));
      await k.apply(e.paid());
      const shipped = await k.apply(e.shipped());
      // (400 − 100) × 5% = 15 points for the purchase.
      expect(shipped.effect?.accrualPoints).toBe(15);
      expect((await k.balance(customerId)).bonus).toMatchObject({ available: 0, pending: 15 });
      return e;
    }

    it("returned on 10 February: the 100 come back expiring 1 March", async () => {
      const e = await spendFromExpiringLot("w8a");
      h.clock.set(new Date("2026-02-10T12:00:00.000Z"));
      const returned = await k.apply(e.returned([{ lineId: "b", quantity: 1 }]));
      expect(returned.effect).toMatchObject({ points: { bonus: 100 }, accrualPoints: 15, shortfall: 0 });
      const bonus = (await k.balance("w8a")).bonus;
      expect(bonus).toMatchObject({ available: 100, pending: 0, debt: 0 });
      expect(bonus.expiringSoon).toMatchObject({ amount: 100, nearestDate: "2026-03-01T00:00:00.000Z" });
      const refund = (await k.history("w8a")).find((m) => m.type === "refund");
      expect(refund?.explanation.ru).toContain("с прежним сроком действия");
      expect(refund?.explanation.en).toContain("with their original expiry");
      // The lot expires on 1 March as it always would have.
      h.clock.set(new Date("2026-03-01T00:00:00.000Z"));
      expect((await k.balance("w8a")).bonus.available).toBe(0);
      await expectLedgerConsistent(h, "w8a");
    });

    it("returned on 10 March: they come back with 30 days of grace, expiring 9 April", async () => {
      const e = await spendFromExpiringLot("w8b");
      h.clock.set(new Date("2026-03-10T00:00:00.000Z"));
      const returned = await k.apply(e.returned([{ lineId: "b", quantity: 1 }]));
      expect(returned.effect).toMatchObject({ points: { bonus: 100 }, accrualPoints: 15 });
      const bonus = (await k.balance("w8b")).bonus;
      expect(bonus).toMatchObject({ available: 100, pending: 0, debt: 0 });
      expect(bonus.expiringSoon).toMatchObject({ amount: 100, nearestDate: "2026-04-09T00:00:00.000Z" });
      const refund = (await k.history("w8b")).find((m) => m.type === "refund");
      expect(refund?.explanation.ru).toContain("действуют до 09.04.2026");
      expect(refund?.explanation.en).toContain("expire on 9 Apr 2026");
      h.clock.set(new Date("2026-04-08T23:59:59.000Z"));
      expect((await k.balance("w8b")).bonus.available).toBe(100);
      h.clock.set(new Date("2026-04-09T00:00:00.000Z"));
      expect((await k.balance("w8b")).bonus.available).toBe(0);
      await expectLedgerConsistent(h, "w8b");
    });
  });
});

describe("order rules through HTTP: R11, R13, R15, R20, partial shipments and returns, R33", () => {
  it("R11: a seller sets points per unit for its own product; an order credits them as a separate seller-funded lot", async () => {
    h.clock.set(T0);
    const put = (key: string, sellerId: string, sku: string, pointsPerUnit: number) =>
      h.send({
        method: "PUT",
        url: `/v1/sellers/${sellerId}/products/${sku}/points`,
        key,
        body: { pointsPerUnit },
      });
    const set = await put(h.keys.seller, "s-1", "kettle", 25);
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ sellerId: "s-1", sku: "kettle", pointsPerUnit: 25, previous: null });
    const forbidden = await put(h.keys.otherSeller, "s-1", "kettle", 500);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe("FORBIDDEN");
    // The other seller's attempt changed nothing.
    const again = await put(h.keys.seller, "s-1", "kettle", 25);
    expect(again.json().previous).toBe(25);

    const kettle: Line = {
      lineId: "k",
      sku: "kettle",
      sellerId: "s-1",
      category: "household_appliances",
      quantity: 2,
      unitPriceKop: 300_000,
    };
    const quote = await k.quote("r11", [kettle]);
    expect(quote.lines[0]?.sellerPoints).toBe(50);
    expect(quote.accrual).toMatchObject({ points: 120, sellerPoints: 50 });

    const e = orderEvents("r11", "o-r11", () => h.clock.now());
    const placed = await k.apply(e.placed([kettle]));
    expect(placed.effect).toMatchObject({ expectedAccrualPoints: 120, sellerPoints: 50 });
    await k.apply(e.paid());
    const shipped = await k.apply(e.shipped());
    expect(shipped.effect).toMatchObject({ accrualPoints: 120, sellerPoints: 50 });
    expect((await k.balance("r11")).bonus).toMatchObject({ pending: 170, available: 0 });

    const credits = (await k.history("r11")).filter((m) => m.type === "credit");
    expect(credits.map((m) => m.postings)).toEqual([
      [
        { account: "funder:marketplace", amount: -120 },
        { account: "wallet:pending", amount: 120 },
      ],
      [
        { account: "funder:seller:s-1", amount: -50 },
        { account: "wallet:pending", amount: 50 },
      ],
    ]);
    expect(credits[1]?.explanation.ru).toContain("от продавца s-1");
    expect(credits[1]?.explanation.en).toContain("from seller s-1");

    // Returning one kettle takes back its 25 seller points and 60 purchase points.
    const returned = await k.apply(e.returned([{ lineId: "k", quantity: 1 }]));
    expect(returned.effect).toMatchObject({ accrualPoints: 60, sellerPoints: 25, shortfall: 0 });
    expect((await k.balance("r11")).bonus).toMatchObject({ pending: 85, available: 0, debt: 0 });
    const view = await k.order("r11", "o-r11");
    expect(view.lines[0]).toMatchObject({ sellerPointsEarned: 50, sellerPointsClawedBack: 25 });
    await expectLedgerConsistent(h, "r11");
  });

  it("R13: the accrual is pending until 24 h after the shipment's occurredAt, then available", async () => {
    h.clock.set(T0);
    const shippedAt = new Date(T0.getTime() - 6 * HOUR);
    const e = orderEvents("r13", "o-r13", () => h.clock.now());
    await k.apply(e.placed([book(100_000)]));
    await k.apply(e.paid());
    const shipped = await k.apply({ ...e.shipped(), occurredAt: shippedAt.toISOString() });
    expect(shipped.effect).toMatchObject({ accrualPoints: 50, availableFrom: "2026-01-16T03:00:00.000Z" });
    expect((await k.balance("r13")).bonus).toMatchObject({ available: 0, pending: 50 });
    h.clock.set(new Date("2026-01-16T02:59:59.000Z"));
    expect((await k.balance("r13")).bonus).toMatchObject({ available: 0, pending: 50 });
    h.clock.set(new Date("2026-01-16T03:00:00.000Z"));
    expect((await k.balance("r13")).bonus).toMatchObject({ available: 50, pending: 0 });
    const made = (await k.history("r13")).filter((m) => m.type === "make_available");
    expect(made.map((m) => m.change)).toEqual([{ available: 50, pending: -50, held: 0, debt: 0 }]);
    // Nothing accrues before the shipment (R13): a placed and paid order has earned nothing.
    const f = orderEvents("r13", "o-r13-b", () => h.clock.now());
    const placed = await k.apply(f.placed([book(100_000)]));
    expect(placed.effect?.expectedAccrualPoints).toBe(50);
    await k.apply(f.paid());
    expect((await k.balance("r13")).bonus).toMatchObject({ available: 50, pending: 0 });
  });

  it("R20: placing holds the points, cancelling releases them; a paid order cancelled refunds them", async () => {
    h.clock.set(T0);
    await k.credit("r20", "bonus", 1000);
    const cart = () => [book(100_000)];
    const e = orderEvents("r20", "o-r20-a", () => h.clock.now());
    const placed = await k.apply(e.placed(cart(), { bonus: 300 }));
    expect(placed.effect?.points).toEqual({ bonus: 300, savings: 0, referral: 0 });
    expect((await k.balance("r20")).bonus).toMatchObject({ available: 700, held: 300 });
    const cancelled = await k.apply(e.cancelled());
    expect(cancelled.orderState).toBe("cancelled");
    expect((await k.balance("r20")).bonus).toMatchObject({ available: 1000, held: 0 });

    const f = orderEvents("r20", "o-r20-b", () => h.clock.now());
    await k.apply(f.placed(cart(), { bonus: 400 }));
    await k.apply(f.paid());
    expect((await k.balance("r20")).bonus).toMatchObject({ available: 600, held: 0 });
    await k.apply(f.cancelled());
    expect((await k.balance("r20")).bonus).toMatchObject({ available: 1000, held: 0, pending: 0 });
    const view = await k.order("r20", "o-r20-b");
    expect(view.state).toBe("cancelled");
    expect(view.lines[0]?.refunded).toEqual({ bonus: 400, savings: 0, referral: 0 });
    const types = (await k.history("r20")).map((m) => m.type);
    expect(types).toEqual(["credit", "hold", "release", "hold", "capture", "refund"]);
    // Cancelling again is a state conflict, not a second refund.
    const again = await k.post(f.cancelled());
    expect(again.statusCode).toBe(409);
    expect(again.json().error.details).toMatchObject({ currentState: "cancelled" });
    await expectLedgerConsistent(h, "r20");
  });

  it("partial shipment and partial returns: accrual per shipped unit, spent points back per returned unit (R13, R15, R33)", async () => {
    h.clock.set(T0);
    await k.credit("part", "bonus", 200);
    // A: 3 books at 100 (300), B: 2 electronics at 500 (1,000). 200 bonus points: A 46, B 154 (R21).
    const lines = [
      book(10_000, 3, { lineId: "A", sku: "novel" }),
      line("electronics", 50_000, 2, { lineId: "B", sku: "router" }),
    ];
    const e = orderEvents("part", "o-part", () => h.clock.now());
    await k.apply(e.placed(lines, { bonus: 200 }));
    await k.apply(e.paid());
    let view = await k.order("part", "o-part");
    // A: (300 − 46) × 5% = 1,270 kop; B: (1,000 − 154) × 1% = 846 kop; 21 points in all.
    expect(view.lines.map((l) => [l.spent.bonus, l.accrualKop])).toEqual([
      [46, 1270],
      [154, 846],
    ]);

    const first = await k.apply(e.shipped([{ lineId: "A", quantity: 2 }]));
    expect(first.effect?.accrualPoints).toBe(8); // floor(1,270 × 2/3) = 846 kop
    expect(first.orderState).toBe("shipped");
    const second = await k.apply(e.shipped());
    expect(second.effect?.accrualPoints).toBe(13); // 2,116 kop in all → 21 − 8
    view = await k.order("part", "o-part");
    expect(view.lines.map((l) => [l.shippedQuantity, l.earnedKop])).toEqual([
      [3, 1270],
      [2, 846],
    ]);
    expect(view.accrualPoints).toBe(21);
    h.clock.set(new Date(T0.getTime() + 25 * HOUR));
    expect((await k.balance("part")).bonus).toMatchObject({ available: 21, pending: 0 });

    const r1 = await k.apply(e.returned([{ lineId: "A", quantity: 1 }]));
    expect(r1.effect).toMatchObject({ points: { bonus: 15 }, accrualPoints: 5, shortfall: 0 });
    expect((await k.balance("part")).bonus.available).toBe(21 - 5 + 15);
    const r2 = await k.apply(e.returned([{ lineId: "B", quantity: 1 }]));
    expect(r2.effect).toMatchObject({ points: { bonus: 77 }, accrualPoints: 4, shortfall: 0 });
    expect(r2.orderState).toBe("shipped");
    expect((await k.balance("part")).bonus.available).toBe(31 - 4 + 77);
    const r3 = await k.apply(
      e.returned([
        { lineId: "A", quantity: 2 },
        { lineId: "B", quantity: 1 },
      ]),
    );
    expect(r3.effect).toMatchObject({ points: { bonus: 108 }, accrualPoints: 12, shortfall: 0 });
    expect(r3.orderState).toBe("returned");
    expect((await k.balance("part")).bonus).toMatchObject({ available: 200, pending: 0, held: 0, debt: 0 });
    view = await k.order("part", "o-part");
    expect(view.accrualPoints).toBe(0);
    expect(view.lines.map((l) => [l.returnedQuantity, l.refunded.bonus, l.clawedBackKop])).toEqual([
      [3, 46, 1270],
      [2, 154, 846],
    ]);
    // Returning more than is left is refused.
    const more = await k.post(e.returned([{ lineId: "A", quantity: 1 }]));
    expect(more.statusCode).toBe(409);
    await expectLedgerConsistent(h, "part");
  });

  it("R33: history explains accruals, clawbacks and refunds per line in Russian and English", async () => {
    h.clock.set(T0);
    await k.credit("r33", "bonus", 100);
    const lines = [
      book(120_000, 1, { lineId: "1", sku: "war-and-peace" }),
      line("electronics", 80_000, 2, { lineId: "2", sku: "cable" }),
    ];
    const e = orderEvents("r33", "7781", () => h.clock.now());
    await k.apply(e.placed(lines, { bonus: 100 }));
    await k.apply(e.paid());
    await k.apply(e.shipped());
    await k.apply(e.returned([{ lineId: "2", quantity: 1 }]));
    const view = await k.order("r33", "7781");
    const history = await k.history("r33");
    const byType = (type: string) => history.filter((m) => m.type === type);
    const [accrual] = byType("credit").filter((m) => m.reference === "7781");
    const [clawback] = byType("clawback");
    const [refund] = byType("refund");
    expect(accrual && clawback && refund).toBeTruthy();
    const texts = (m: Movement | undefined) => m?.explanation ?? { ru: "", en: "" };

    // The accrual names the order and carries each line's own sentence.
    for (const l of view.lines) {
      expect(texts(accrual).ru).toContain(l.explanation.ru);
      expect(texts(accrual).en).toContain(l.explanation.en);
    }
    expect(texts(accrual).ru).toMatch(/Заказ 7781, «Книги» 5% от [\d ,]+ ₽ — [\d,]+ балл/);
    expect(texts(accrual).en).toMatch(/Order 7781, Books 5% of [\d,.]+ RUB — [\d.,]+ point/);
    expect(texts(accrual).ru).toMatch(/«Электроника» 1%/);
    // The clawback and the refund say which line and how many units came back.
    for (const m of [clawback, refund]) {
      expect(texts(m).ru).toContain("строка 2 (cable), 1 из 2 шт.");
      expect(texts(m).en).toContain("line 2 (cable), 1 of 2 units");
      expect(texts(m).ru).toMatch(/[а-яА-Я]/);
      expect(texts(m).en).not.toMatch(/[а-яА-Я]/);
    }
    expect(texts(refund).ru).toContain("за заказ 7781");
    expect(texts(refund).en).toContain("order 7781");
    // Every movement of the customer carries both languages.
    for (const m of history) {
      expect(m.explanation.ru.length).toBeGreaterThan(0);
      expect(m.explanation.en.length).toBeGreaterThan(0);
    }
  });
});

// Last in the file: a new programme version changes the rules for every later order.
describe("programme configuration versions through HTTP", () => {
  const booksAt10 = {
    ...DEFAULT_PROGRAMME_CONFIG,
    earning: {
      ...DEFAULT_PROGRAMME_CONFIG.earning,
      baseRateBp: {
        ...DEFAULT_PROGRAMME_CONFIG.earning.baseRateBp,
        byCategory: { ...DEFAULT_PROGRAMME_CONFIG.earning.baseRateBp.byCategory, books: 1000 },
      },
    },
  };

  it("a new rate applies to orders placed after effectiveFrom; earlier orders keep theirs; versions are audited", async () => {
    h.clock.set(T0);
    const list0 = await h.send({ method: "GET", url: "/v1/config/programme", key: h.keys.readonly });
    expect(list0.statusCode).toBe(200);
    expect(list0.json()).toMatchObject({ current: 0, versions: [] });
    expect(list0.json().defaults.earning.baseRateBp.byCategory.books).toBe(500);

    const effectiveFrom = "2026-01-16T00:00:00.000Z";
    const body = { config: booksAt10, effectiveFrom, reason: "Book week: 10% on books" };
    const added = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.operator,
      body,
      idempotencyKey: "cfg-book-week",
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ version: 1, effectiveFrom, reason: "Book week: 10% on books" });
    expect(added.json().config.earning.baseRateBp.byCategory.books).toBe(1000);
    expect(added.json().previousConfig).toEqual(JSON.parse(JSON.stringify(DEFAULT_PROGRAMME_CONFIG)));

    // A retry with the same key answers the same version and adds none.
    const retry = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.operator,
      body,
      idempotencyKey: "cfg-book-week",
    });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.json()).toEqual(added.json());
    const conflict = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.operator,
      body: { ...body, reason: "something else" },
      idempotencyKey: "cfg-book-week",
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe("IDEMPOTENCY_CONFLICT");

    // effectiveFrom in the past is refused.
    const past = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.operator,
      body: { ...body, effectiveFrom: "2026-01-14T00:00:00.000Z" },
    });
    expect(past.statusCode).toBe(422);
    expect(past.json().error).toMatchObject({
      code: "INVALID_DATES",
      details: { field: "body.effectiveFrom" },
    });
    // Only operators change the programme.
    const bySupport = await h.send({
      method: "POST",
      url: "/v1/config/programme",
      key: h.keys.support,
      body,
    });
    expect(bySupport.statusCode).toBe(403);

    // Placed before effectiveFrom: 5%.
    const before = orderEvents("cfg", "o-before", () => h.clock.now());
    const placedBefore = await k.apply(before.placed([book(100_000)]));
    expect(placedBefore.effect?.expectedAccrualPoints).toBe(50);
    expect((await k.quote("cfg", [book(100_000)])).configVersion).toBe(0);
    await k.apply(before.paid());

    // After effectiveFrom: 10% for new orders; the earlier order keeps 5% when it ships.
    h.clock.set(new Date("2026-01-17T09:00:00.000Z"));
    const quote = await k.quote("cfg", [book(100_000)]);
    expect(quote).toMatchObject({ configVersion: 1, accrual: { points: 100 } });
    const after = orderEvents("cfg", "o-after", () => h.clock.now());
    const placedAfter = await k.apply(after.placed([book(100_000)]));
    expect(placedAfter.effect?.expectedAccrualPoints).toBe(100);
    await k.apply(after.paid());
    expect((await k.apply(before.shipped())).effect?.accrualPoints).toBe(50);
    expect((await k.apply(after.shipped())).effect?.accrualPoints).toBe(100);
    expect((await k.order("cfg", "o-before")).configVersion).toBe(0);
    expect((await k.order("cfg", "o-after")).configVersion).toBe(1);

    const list = await h.send({ method: "GET", url: "/v1/config/programme", key: h.keys.operator });
    expect(list.json().current).toBe(1);
    expect(list.json().versions).toHaveLength(1);
    const [version] = list.json().versions;
    const actor = (await k.history("cfg"))[0]?.actor;
    expect(version).toMatchObject({ version: 1, effectiveFrom, createdBy: actor });
    expect(version.createdBy).toMatch(/\S/);
    expect(version.previousConfig.earning.baseRateBp.byCategory.books).toBe(500);
    expect(version.config.earning.baseRateBp.byCategory.books).toBe(1000);
  });
});
