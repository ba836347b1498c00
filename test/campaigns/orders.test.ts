import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Api,
  api,
  expectLedgerConsistent,
  type Harness,
  type Line,
  line,
  type Movement,
  orderEvents,
} from "../orders/helpers.js";
import { httpHarness } from "../support/http.js";

/**
 * R26 on orders, through HTTP on a real database: campaigns in force at placement promise points,
 * shipments credit them as the campaign's own lots (its funder, its explanation line), returns claw
 * them back and give them back to the budget, cancellations release the reservation; budgets hold.
 */

const T0 = new Date("2026-03-02T09:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let h: Harness;
let k: Api;
beforeAll(async () => {
  h = await httpHarness();
  k = api(h);
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.clock.set(T0);
});

let scopes = 0;
/** A category of its own per test, so that no two tests' campaigns meet (or contradict). */
const freshCategory = () => {
  scopes += 1;
  return `gadgets_${scopes}`;
};

interface CampaignBody {
  name?: { ru: string; en: string };
  conditions?: Record<string, unknown>;
  effect: Record<string, unknown>;
  combinable?: boolean;
  budgetPoints?: number | null;
}

/** Creates and publishes a campaign at T0, in force for ten days; its id. */
async function published(body: CampaignBody, key = h.keys.operator): Promise<string> {
  const created = await h.send({
    method: "POST",
    url: "/v1/campaigns",
    key,
    body: {
      name: body.name ?? { ru: "Весенняя акция", en: "Spring campaign" },
      conditions: {
        startsAt: T0.toISOString(),
        endsAt: new Date(T0.getTime() + 10 * DAY).toISOString(),
        ...body.conditions,
      },
      effect: body.effect,
      combinable: body.combinable ?? true,
      budgetPoints: body.budgetPoints ?? null,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const { campaignId } = created.json() as { campaignId: string };
  const publish = await h.send({ method: "POST", url: `/v1/campaigns/${campaignId}/publish`, key });
  expect(publish.statusCode, publish.body).toBe(200);
  return campaignId;
}

async function budgetOf(campaignId: string) {
  const res = await h.send({
    method: "GET",
    url: `/v1/campaigns/${campaignId}/budget`,
    key: h.keys.readonly,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { fundedPoints: number; reservedPoints: number; remainingPoints: number };
}

interface CampaignOnOrder {
  campaignId: string;
  funder: string;
  points: number;
  wantedPoints: number;
  creditedPoints: number;
  reservedPoints: number | null;
  explanation: { ru: string; en: string };
}

async function campaignsOn(customerId: string, orderId: string): Promise<CampaignOnOrder[]> {
  const view = (await k.order(customerId, orderId)) as unknown as { campaigns?: CampaignOnOrder[] };
  return view.campaigns ?? [];
}

/** Places an order at `placedAt` (T0 + 1 h by default) and pays it; the placed outcome and the events. */
async function placePaid(
  customerId: string,
  orderId: string,
  lines: Line[],
  options: { at?: number; paymentMethod?: "other_card" | "marketplace_card" } = {},
) {
  const at = options.at ?? T0.getTime() + HOUR;
  h.clock.set(new Date(at));
  const e = orderEvents(customerId, orderId, () => h.clock.now());
  const placed = await k.apply(e.placed(lines, {}, options.paymentMethod ?? "other_card"));
  await k.apply(e.paid());
  return { placed, e };
}

const campaignMovements = (history: Movement[], orderId: string) =>
  history.filter((m) => m.reference === orderId && m.explanation.en.includes("campaign"));

describe("R26: campaigns applied to orders", () => {
  it("a ×2 multiplier credits its own lot at shipment, funded by the campaign, explained on its own line", async () => {
    const category = freshCategory();
    const campaignId = await published({
      name: { ru: "×2 на гаджеты", en: "×2 on gadgets" },
      conditions: { categories: [category] },
      effect: { type: "rate_multiplier", multiplierBp: 20_000 },
    });
    // 2 units at 1,234.56: base 1% of 2,469.12 RUB = 2,469 kop; ×2 adds as much again: 24 points.
    const phone = line(category, 123_456, 2);
    const { placed, e } = await placePaid("cmp-x2", "x2-1", [phone]);
    expect(placed.effect).toMatchObject({ expectedAccrualPoints: 24, expectedCampaignPoints: 24 });
    h.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const shipped = await k.apply(e.shipped());
    expect(shipped.effect).toMatchObject({ accrualPoints: 24, campaignPoints: 24 });
    const [movement, ...others] = campaignMovements(await k.history("cmp-x2"), "x2-1");
    expect(others).toEqual([]);
    expect(movement?.explanation).toEqual({
      ru: "Заказ x2-1: 24 балла по акции «×2 на гаджеты»",
      en: 'Order x2-1: 24 points from the campaign "×2 on gadgets"',
    });
    expect(movement?.postings).toContainEqual({ account: `funder:campaign:${campaignId}`, amount: -24 });
    expect(await campaignsOn("cmp-x2", "x2-1")).toEqual([
      expect.objectContaining({
        campaignId,
        funder: `campaign:${campaignId}`,
        points: 24,
        wantedPoints: 24,
        creditedPoints: 24,
        reservedPoints: null,
      }),
    ]);
    expect((await k.balance("cmp-x2")).bonus.pending).toBe(48);
    await expectLedgerConsistent(h, "cmp-x2");
  });

  it("returns claw a campaign's points back unit by unit, and give them back to its budget", async () => {
    const category = freshCategory();
    const campaignId = await published({
      conditions: { categories: [category] },
      effect: { type: "unit_points", pointsPerUnit: 15 },
      budgetPoints: 1_000,
    });
    const { e } = await placePaid("cmp-ret", "ret-1", [line(category, 50_000, 3)]);
    expect(await budgetOf(campaignId)).toMatchObject({ fundedPoints: 1_000, reservedPoints: 45 });
    h.clock.set(new Date(T0.getTime() + 2 * HOUR));
    await k.apply(e.shipped());
    const lineId = (await k.order("cmp-ret", "ret-1")).lines[0]?.lineId as string;
    h.clock.set(new Date(T0.getTime() + 3 * HOUR));
    const returned = await k.apply(e.returned([{ lineId, quantity: 1 }]));
    expect(returned.effect).toMatchObject({ campaignPoints: 15 });
    expect(await budgetOf(campaignId)).toMatchObject({ reservedPoints: 30, remainingPoints: 970 });
    expect(await campaignsOn("cmp-ret", "ret-1")).toEqual([
      expect.objectContaining({ points: 45, creditedPoints: 30, reservedPoints: 30 }),
    ]);
    await k.apply(e.returned([{ lineId, quantity: 2 }]));
    expect(await campaignsOn("cmp-ret", "ret-1")).toEqual([
      expect.objectContaining({ creditedPoints: 0, reservedPoints: 0 }),
    ]);
    expect(await budgetOf(campaignId)).toMatchObject({ reservedPoints: 0, remainingPoints: 1_000 });
    await expectLedgerConsistent(h, "cmp-ret");
  });

  it("a budget is reserved at placement, partly for the order that finds it short, and a cancellation gives it back", async () => {
    const category = freshCategory();
    const campaignId = await published({
      name: { ru: "30 баллов за штуку", en: "30 points a unit" },
      conditions: { categories: [category] },
      effect: { type: "unit_points", pointsPerUnit: 30 },
      budgetPoints: 100,
    });
    const promised: number[] = [];
    for (const n of [1, 2, 3, 4]) {
      const { placed } = await placePaid(`cmp-b${n}`, `b-${n}`, [line(category, 10_000)]);
      promised.push((placed.effect as { expectedCampaignPoints?: number }).expectedCampaignPoints ?? 0);
    }
    // 30 + 30 + 30, then the 10 left: the fourth order is promised what the budget still holds.
    expect(promised).toEqual([30, 30, 30, 10]);
    expect(await campaignsOn("cmp-b4", "b-4")).toEqual([
      expect.objectContaining({
        points: 10,
        wantedPoints: 30,
        explanation: {
          ru: "Акция «30 баллов за штуку»: 10 баллов из 30 — столько осталось в бюджете акции",
          en: 'Campaign "30 points a unit": 10 points of 30, what is left of its budget',
        },
      }),
    ]);
    // The budget is gone: the quote says so, and an order placed now is told why it gets nothing.
    const quote = (await k.quote("cmp-b5", [line(category, 10_000)])) as unknown as {
      campaigns: { campaignId: string; points: number; budget: unknown; explanation: { en: string } }[];
    };
    expect(quote.campaigns).toEqual([
      expect.objectContaining({
        campaignId,
        points: 0,
        budget: { remainingPoints: 0, exhausted: true },
        explanation: expect.objectContaining({
          en: 'Campaign "30 points a unit": its budget is used up, it adds nothing (it would add 30 points)',
        }),
      }),
    ]);
    const { placed: fifth } = await placePaid("cmp-b5", "b-5", [line(category, 10_000)]);
    expect(fifth.effect).toMatchObject({ expectedCampaignPoints: 0 });
    expect(await campaignsOn("cmp-b5", "b-5")).toEqual([
      expect.objectContaining({ points: 0, wantedPoints: 30, reservedPoints: 0 }),
    ]);
    // The first order is cancelled: its 30 come back, and the next order gets them.
    const first = orderEvents("cmp-b1", "b-1", () => h.clock.now());
    first.placed([]);
    first.paid();
    await k.apply(first.cancelled());
    expect(await budgetOf(campaignId)).toMatchObject({ reservedPoints: 70, remainingPoints: 30 });
    const { placed: sixth } = await placePaid("cmp-b6", "b-6", [line(category, 10_000)]);
    expect(sixth.effect).toMatchObject({ expectedCampaignPoints: 30 });
    expect(await budgetOf(campaignId)).toMatchObject({ fundedPoints: 100, reservedPoints: 100 });
    // Shipped after the budget ran out, the promised order is credited in full.
    const fourth = orderEvents("cmp-b4", "b-4", () => h.clock.now());
    fourth.placed([]);
    fourth.paid();
    const shipped = await k.apply(fourth.shipped());
    expect(shipped.effect).toMatchObject({ campaignPoints: 10 });
    for (const c of ["cmp-b1", "cmp-b4", "cmp-b5", "cmp-b6"]) await expectLedgerConsistent(h, c);
  });

  it("+200 points per order from 5,000.00 follow the units shipped, spread over the lines by amount", async () => {
    const category = freshCategory();
    await published({
      conditions: { categories: [category], minOrderTotalKop: 500_000 },
      effect: { type: "order_points", points: 200 },
    });
    // 3,000.00 + 2,000.00 = 5,000.00 exactly: the order qualifies; 120 and 80 points ride on the lines.
    const big = line(category, 300_000);
    const small = line(category, 200_000);
    const { placed, e } = await placePaid("cmp-200", "p200-1", [big, small]);
    expect(placed.effect).toMatchObject({ expectedCampaignPoints: 200 });
    h.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const first = await k.apply(e.shipped([{ lineId: big.lineId }]));
    expect(first.effect).toMatchObject({ campaignPoints: 120 });
    const second = await k.apply(e.shipped());
    expect(second.effect).toMatchObject({ campaignPoints: 80 });
    // 4,999.99 does not qualify.
    const { placed: short } = await placePaid("cmp-200", "p200-2", [
      line(category, 300_000),
      line(category, 199_999),
    ]);
    expect(short.effect).not.toHaveProperty("expectedCampaignPoints");
    await expectLedgerConsistent(h, "cmp-200");
  });

  it("a Premium-only campaign applies to subscribers at placement and to no one else", async () => {
    const category = freshCategory();
    await published({
      conditions: { categories: [category], premiumOnly: true },
      effect: { type: "extra_rate", rateBp: 500 },
    });
    const period = await h.send({
      method: "PUT",
      url: "/v1/customers/cmp-prem/premium/periods/p1",
      key: h.keys.operator,
      body: {
        startsAt: new Date(T0.getTime() - DAY).toISOString(),
        endsAt: new Date(T0.getTime() + 30 * DAY).toISOString(),
      },
    });
    expect(period.statusCode, period.body).toBe(200);
    // 5% of 1,000.00 = 50 points for the subscriber; nothing for the other customer.
    const { placed } = await placePaid("cmp-prem", "prem-1", [line(category, 100_000)]);
    expect(placed.effect).toMatchObject({ expectedCampaignPoints: 50 });
    const { placed: plain } = await placePaid("cmp-plain", "plain-1", [line(category, 100_000)]);
    expect(plain.effect).not.toHaveProperty("expectedCampaignPoints");
  });

  it("a seller's campaign is funded by that seller", async () => {
    const category = freshCategory();
    const campaignId = await published(
      {
        conditions: { categories: [category], sellers: ["s-1"] },
        effect: { type: "unit_points", pointsPerUnit: 7 },
      },
      h.keys.seller,
    );
    const { e } = await placePaid("cmp-seller", "sel-1", [
      line(category, 20_000, 2, { sellerId: "s-1" }),
      line(category, 20_000, 1, { sellerId: "s-2" }),
    ]);
    h.clock.set(new Date(T0.getTime() + 2 * HOUR));
    const shipped = await k.apply(e.shipped());
    // Only the seller's own 2 units: 14 points, from its account.
    expect(shipped.effect).toMatchObject({ campaignPoints: 14 });
    const [movement] = campaignMovements(await k.history("cmp-seller"), "sel-1");
    expect(movement?.postings).toContainEqual({ account: "funder:seller:s-1", amount: -14 });
    expect(await campaignsOn("cmp-seller", "sel-1")).toEqual([
      expect.objectContaining({ campaignId, funder: "seller:s-1" }),
    ]);
    await expectLedgerConsistent(h, "cmp-seller");
  });

  it("the quote lists the campaigns in force that apply to the cart, and what they add", async () => {
    const category = freshCategory();
    const campaignId = await published({
      name: { ru: "+3%", en: "+3%" },
      conditions: { categories: [category] },
      effect: { type: "extra_rate", rateBp: 300 },
      budgetPoints: 500,
    });
    const quote = (await k.quote("cmp-q", [line(category, 100_000), line("books", 100_000)])) as unknown as {
      accrual: { campaignPoints: number };
      campaigns: unknown[];
    };
    expect(quote.accrual.campaignPoints).toBe(30);
    expect(quote.campaigns).toEqual([
      {
        campaignId,
        version: 1,
        name: { ru: "+3%", en: "+3%" },
        funder: `campaign:${campaignId}`,
        points: 30,
        wantedPoints: 30,
        lines: [{ lineId: expect.any(String), kop: 3_000 }],
        budget: { remainingPoints: 500, exhausted: false },
        explanation: { ru: "Акция «+3%»: 30 баллов", en: 'Campaign "+3%": 30 points' },
      },
    ]);
  });
});
