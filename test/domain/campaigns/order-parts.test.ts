import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUDGET_SLICES,
  type BudgetSlice,
  sharesToFund,
  sliceShares,
} from "../../../src/domain/budget-slices.js";
import type { CampaignEffect } from "../../../src/domain/campaigns/definition.js";
import type { CampaignInForce } from "../../../src/domain/campaigns/evaluation.js";
import { budgetChanges, campaignPointsDue, giveBack } from "../../../src/domain/campaigns/order-parts.js";
import type { CartLine } from "../../../src/domain/checkout/index.js";
import {
  applyChange,
  type CustomerLedger,
  DEFAULT_LEDGER_POLICY,
  emptyLedger,
} from "../../../src/domain/ledger/index.js";
import {
  applyOrderEvent,
  type ConfigVersion,
  DEFAULT_PROGRAMME_CONFIG,
  type Order,
  type OrderEvent,
} from "../../../src/domain/orders/index.js";
import { assertProperty } from "../../support/property.js";
import { ANY_CONDITIONS } from "./fixtures.js";

/**
 * R26 on an order, pure: what campaigns promise at placement within their budgets, and how their
 * points follow the units through shipments, returns and cancellations.
 */

const VERSION: ConfigVersion = { version: 1, effectiveFrom: new Date(0), config: DEFAULT_PROGRAMME_CONFIG };
const PLACED_AT = new Date("2026-03-02T09:00:00Z");

const campaign = (id: string, effect: CampaignEffect, budgetPoints: number | null): CampaignInForce => ({
  campaignId: id,
  version: 1,
  definition: {
    name: { ru: `Акция ${id}`, en: `Campaign ${id}` },
    funder: { type: "marketplace" },
    conditions: ANY_CONDITIONS,
    effect,
    combinable: true,
    budgetPoints,
  },
});

/** One order of one customer driven through the lifecycle, with every campaign point it moved. */
function driver(campaigns: CampaignInForce[], budgets: Map<string, BudgetSlice[]>, ownSlice: number) {
  let now = PLACED_AT.getTime();
  let counter = 0;
  const ctx = () => ({
    now: new Date(now),
    newId: (p: string) => `${p}_${String(++counter).padStart(26, "0")}`,
    policy: DEFAULT_LEDGER_POLICY,
  });
  let ledger: CustomerLedger = emptyLedger("c-1");
  let order: Order | undefined;
  let events = 0;
  /** Net campaign points the ledger moved (credits less clawbacks), and the reservations made. */
  const moved = { points: 0, reserved: new Map<string, number>() };
  return {
    get order() {
      return order as Order;
    },
    moved,
    apply(event: Record<string, unknown>) {
      now += 60_000;
      events += 1;
      const full = {
        eventId: `e${events}`,
        orderId: "o-1",
        customerId: "c-1",
        occurredAt: new Date(now),
        ...event,
      } as OrderEvent;
      const before = order;
      const result = applyOrderEvent(order, full, ledger, VERSION, ctx(), {
        campaigns: {
          inForce: campaigns,
          budgets: (id) => budgets.get(id),
          ownSlice,
          segments: new Set(),
        },
      });
      if (!result.ok) throw new Error(`${full.type}: ${result.code} ${result.message}`);
      order = result.order;
      for (const c of budgetChanges(before?.campaigns, order.campaigns))
        moved.reserved.set(c.campaignId, (moved.reserved.get(c.campaignId) ?? 0) + c.points);
      if (result.change) {
        ledger = applyChange(ledger, result.change);
        // Every lot is still pending (events a minute apart), so clawbacks go back to the funder too.
        for (const m of result.change.movements)
          for (const p of m.postings) if (p.account.startsWith("funder:campaign:")) moved.points -= p.amount;
      }
      return result;
    },
  };
}

const lineArb = (i: number) =>
  fc.record({
    lineId: fc.constant(`L${i}`),
    sku: fc.constant(`sku-${i}`),
    sellerId: fc.constant("s-1"),
    category: fc.constantFrom("books", "electronics", "toys"),
    quantity: fc.integer({ min: 1, max: 5 }),
    unitPriceKop: fc.integer({ min: 100, max: 2_000_000 }),
  });

const effectArb: fc.Arbitrary<CampaignEffect> = fc.oneof(
  fc
    .integer({ min: 10_001, max: 50_000 })
    .map((multiplierBp) => ({ type: "rate_multiplier" as const, multiplierBp })),
  fc.integer({ min: 1, max: 2_000 }).map((rateBp) => ({ type: "extra_rate" as const, rateBp })),
  fc.integer({ min: 1, max: 500 }).map((points) => ({ type: "order_points" as const, points })),
  fc.integer({ min: 1, max: 50 }).map((pointsPerUnit) => ({ type: "unit_points" as const, pointsPerUnit })),
);

/** Slices of a budget of `funded` points of which `reserved` (spread evenly too) are taken. */
const budgetArb = fc
  .tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 100 }))
  .map(([funded, percentTaken]) => {
    const reserved = sliceShares(Math.floor((funded * percentTaken) / 100));
    return sliceShares(funded).map((f, slice) => ({
      slice,
      funded: f,
      reserved: Math.min(f, reserved[slice] ?? 0),
    }));
  });

const scenarioArb = fc.integer({ min: 1, max: 3 }).chain((count) =>
  fc.record({
    lines: fc.tuple(...Array.from({ length: count }, (_, i) => lineArb(i))),
    campaigns: fc.array(fc.tuple(effectArb, fc.option(budgetArb, { nil: undefined })), {
      minLength: 1,
      maxLength: 3,
    }),
    ownSlice: fc.integer({ min: 0, max: BUDGET_SLICES - 1 }),
    // Per line: units in the first shipment (the rest in a second), then units returned in two steps.
    steps: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: count, maxLength: count }),
    cancel: fc.boolean(),
  }),
);

describe("R26: campaigns on an order", () => {
  it("property: budgets are never exceeded; points follow the units; returns and cancellations give back what they take", () => {
    assertProperty(
      fc.property(scenarioArb, (s) => {
        const lines = s.lines as CartLine[];
        const campaigns = s.campaigns.map(([effect, slices], i) =>
          campaign(`c${i}`, effect, slices ? slices.reduce((sum, x) => sum + x.funded, 0) : null),
        );
        const budgets = new Map<string, BudgetSlice[]>();
        s.campaigns.forEach(([, slices], i) => {
          if (slices) budgets.set(`c${i}`, slices);
        });
        const d = driver(campaigns, budgets, s.ownSlice);
        d.apply({
          type: "placed",
          lines,
          paymentMethod: "other_card",
          spend: { bonus: 0, savings: 0, referral: 0 },
        });
        const promised = d.order.campaigns ?? [];
        for (const c of promised) {
          const slices = budgets.get(c.campaignId);
          expect(c.points).toBeLessThanOrEqual(c.wantedPoints);
          if (slices) {
            const left = slices.reduce((sum, x) => sum + x.funded - x.reserved, 0);
            const taken = (c.budgetTakes ?? []).reduce((sum, t) => sum + t.points, 0);
            // Reserved exactly what it promises, never more than was left, all of it when it could.
            expect(taken).toBe(c.points);
            expect(taken).toBeLessThanOrEqual(left);
            expect(c.points).toBe(Math.min(c.wantedPoints, left));
            for (const t of c.budgetTakes ?? []) {
              const slice = slices.find((x) => x.slice === t.slice) as BudgetSlice;
              expect(t.points).toBeLessThanOrEqual(slice.funded - slice.reserved);
            }
          } else expect(c.budgetTakes).toBeNull();
        }
        const promisedPoints = promised.reduce((sum, c) => sum + c.points, 0);
        d.apply({ type: "paid" });
        if (s.cancel) {
          d.apply({ type: "cancelled" });
          expect(d.moved.points).toBe(0);
          for (const total of d.moved.reserved.values()) expect(total).toBe(0);
          return;
        }
        const first = s.lines
          .map((l, i) => ({ lineId: l.lineId, quantity: (s.steps[i]?.[0] ?? 0) % (l.quantity + 1) }))
          .filter((x) => x.quantity > 0);
        if (first.length > 0) d.apply({ type: "shipped", lines: first });
        const due = (o: Order) =>
          (o.campaigns ?? []).reduce((sum, c) => sum + campaignPointsDue(c, o.lines), 0);
        expect(d.moved.points).toBe(due(d.order));
        if (first.length < s.lines.length || first.some((f, i) => f.quantity < (s.lines[i]?.quantity ?? 0)))
          d.apply({ type: "shipped" });
        // Everything shipped: every campaign has credited what it promised, in full.
        expect(d.moved.points).toBe(promisedPoints);
        for (const step of [1, 2] as const) {
          const back = d.order.lines
            .map((l, i) => ({
              lineId: l.lineId,
              quantity: (s.steps[i]?.[step] ?? 0) % (l.shippedQuantity - l.returnedQuantity + 1),
            }))
            .filter((x) => x.quantity > 0);
          if (back.length === 0) continue;
          d.apply({ type: "returned", lines: back });
          expect(d.moved.points).toBe(due(d.order));
        }
        // What each campaign still holds of its budget is what the kept units carry.
        for (const c of d.order.campaigns ?? []) {
          if (c.budgetTakes === null) continue;
          expect(d.moved.reserved.get(c.campaignId) ?? 0).toBe(campaignPointsDue(c, d.order.lines));
        }
      }),
    );
  });

  it("gives a reservation back from the latest take first", () => {
    const takes = [
      { slice: 3, points: 5 },
      { slice: 7, points: 4 },
    ];
    expect(giveBack(takes, 6)).toEqual([{ slice: 3, points: 3 }]);
    expect(giveBack(takes, 9)).toEqual([]);
    expect(giveBack(takes, 0)).toEqual(takes);
  });

  it("funds a budget anew while nothing is reserved, and only raises one in use", () => {
    const empty: BudgetSlice[] = [];
    expect(sharesToFund(empty, 1_000)).toEqual(sliceShares(1_000));
    const funded = sliceShares(1_000).map((f, slice) => ({ slice, funded: f, reserved: 0 }));
    // Lowered before it is used: each slice brought to its even share of 500.
    const lowered = sharesToFund(funded, 500) as number[];
    expect(funded.map((s, k) => s.funded + (lowered[k] ?? 0))).toEqual(sliceShares(500));
    const inUse = funded.map((s) => (s.slice === 0 ? { ...s, reserved: 10 } : s));
    expect(sharesToFund(inUse, 900)).toBeNull();
    expect(sharesToFund(inUse, 1_160)).toEqual(sliceShares(160));
  });
});
