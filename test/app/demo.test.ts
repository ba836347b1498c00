import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCustomerId, loadDemo, loadShowcase, SHOWCASE } from "../../src/app/demo.js";
import { DEMO_PROMO_CODE, loadProgrammesDemo } from "../../src/app/demo-programmes.js";
import { CYRILLIC_LETTER, LATIN_LETTER } from "../support/alphabets.js";
import { httpHarness } from "../support/http.js";
import { ledgerHarness } from "../support/ledger.js";

describe("demo data", () => {
  let h: Awaited<ReturnType<typeof ledgerHarness>>;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h.database.drop();
  });

  it("reads in Russian only in the Russian explanations, and in English only in the English ones (R33)", async () => {
    const { service, clock } = h;
    await loadDemo(service, { customers: 20, seed: 1, now: clock.now() });
    const explanations = [];
    for (let i = 0; i < 20; i++) {
      const { items } = await service.history(demoCustomerId(i), { cursor: null, limit: 200 });
      // A support adjustment quotes its reason as support wrote it, in one language.
      explanations.push(...items.filter((m) => m.type !== "adjust").map((m) => m.explanation));
    }
    expect(explanations.length).toBeGreaterThan(100);
    expect(explanations.filter((e) => LATIN_LETTER.test(e.ru))).toEqual([]);
    expect(explanations.filter((e) => CYRILLIC_LETTER.test(e.en))).toEqual([]);
  });
});

describe("the demo's showcase (serve --demo): savings accounts and reviews a visitor finds", () => {
  let h: Awaited<ReturnType<typeof httpHarness>>;
  beforeAll(async () => {
    h = await httpHarness();
    await loadDemo(h.kopilka.ledger, { customers: 3, seed: 1, now: h.clock.now() });
    await loadShowcase(h.kopilka, h.kopilka.config.timeZone);
  });
  afterAll(async () => {
    await h.close();
  });
  const get = async (url: string) => {
    const res = await h.send({ method: "GET", url, key: h.keys.operator });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const RUB = 100;

  it("R25: one customer earns interest (last month paid), one cashback on an order paid from the savings account", async () => {
    const saver = SHOWCASE.interestCustomer;
    expect(await get(`/v1/customers/${saver}/savings`)).toMatchObject({
      mechanic: "interest",
      balance: 30_000 * RUB,
    });
    const interest = (await get(`/v1/customers/${saver}/history?kind=savings&type=credit`)).items.filter(
      (m: { explanation: { en: string } }) => m.explanation.en.startsWith("Interest for "),
    );
    expect(interest).toHaveLength(1);
    const shopper = SHOWCASE.cashbackCustomer;
    expect(await get(`/v1/customers/${shopper}/savings`)).toMatchObject({
      mechanic: "cashback",
      balance: 94_500 * RUB,
      accruedThisMonth: 0,
    });
    const order = await get(`/v1/orders/${SHOWCASE.orderId}?customerId=${shopper}`);
    expect(order).toMatchObject({
      state: "delivered",
      paymentMethod: "savings_account",
      cashback: { rateBp: 300, points: 165 },
    });
    const cashback = (
      await get(`/v1/customers/${shopper}/history?kind=savings&reference=${SHOWCASE.orderId}`)
    ).items;
    expect(cashback.map((m: { explanation: { ru: string } }) => m.explanation.ru)).toContain(
      `Кешбэк за заказ ${SHOWCASE.orderId}, оплаченный с накопительного счёта: 3% от 5 500 ₽ — 165 баллов`,
    );
  });

  it("R22: one review approved (its points available), one awaiting moderation and overdue", async () => {
    const shopper = SHOWCASE.cashbackCustomer;
    const waiting = (await get("/v1/reviews/unmoderated")).items as {
      reviewId: string;
      customerId: string;
    }[];
    expect(waiting).toEqual([
      expect.objectContaining({ reviewId: SHOWCASE.awaitingReviewId, customerId: shopper }),
    ]);
    const reviews = (await get(`/v1/customers/${shopper}/history?reference=${SHOWCASE.approvedReviewId}`))
      .items;
    expect(reviews.map((m: { type: string }) => m.type)).toContain("make_available");
    const all = [
      ...(await get(`/v1/customers/${shopper}/history?limit=200`)).items,
      ...(await get(`/v1/customers/${SHOWCASE.interestCustomer}/history?limit=200`)).items,
    ].filter((m: { type: string }) => m.type !== "adjust");
    expect(all.filter((m: { explanation: { ru: string } }) => LATIN_LETTER.test(m.explanation.ru))).toEqual(
      [],
    );
    expect(
      all.filter((m: { explanation: { en: string } }) => CYRILLIC_LETTER.test(m.explanation.en)),
    ).toEqual([]);
  });
});

describe("demo data of the invite and manager programmes (R23, R24)", () => {
  it("shows an invited friend's reward pending, a friend still to order, and a manager's referral points pending", async () => {
    const h = await httpHarness();
    try {
      await loadDemo(h.kopilka.ledger, { customers: 1, seed: 1, now: h.clock.now() });
      await loadProgrammesDemo(h.kopilka, { firstFreeIndex: 1, now: h.clock.now() });
      const get = async (url: string) =>
        (await h.send({ method: "GET", url, key: h.keys.operator })).json() as Record<string, unknown>;
      const inviter = demoCustomerId(0);
      const invites = (await get(`/v1/customers/${inviter}/invites`)) as {
        friends: { status: string; points: number }[];
      };
      expect(invites.friends.map((f) => [f.status, f.points]).sort()).toEqual([
        ["registered", 0],
        ["rewarded", 300],
      ]);
      const manager = (await get(`/v1/customers/${inviter}/manager`)) as {
        promoCode: string;
        thisMonth: { referralPointsPending: number; purchasesKop: number };
      };
      expect(manager.promoCode).toBe(DEMO_PROMO_CODE);
      expect(manager.thisMonth.referralPointsPending).toBe(600);
      const { items } = (await get(`/v1/customers/${inviter}/history?limit=200`)) as {
        items: { type: string; explanation: { ru: string; en: string } }[];
      };
      const programme = items.filter((m) => /друга|промокод/.test(m.explanation.ru));
      expect(programme.length).toBe(2);
      expect(programme.filter((m) => LATIN_LETTER.test(m.explanation.ru))).toEqual([]);
      expect(programme.filter((m) => CYRILLIC_LETTER.test(m.explanation.en))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
