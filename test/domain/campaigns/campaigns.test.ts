import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CampaignConditions,
  type CampaignDefinition,
  type CampaignEffect,
  validateCampaign,
} from "../../../src/domain/campaigns/definition.js";
import {
  type CampaignInForce,
  evaluateCampaigns,
  type LineBase,
} from "../../../src/domain/campaigns/evaluation.js";
import type { CartLine } from "../../../src/domain/checkout/cart.js";
import { assertProperty } from "../../support/property.js";
import { ANY_CONDITIONS } from "./fixtures.js";

/** R26: campaign definitions and what they add to an order. */

const ANY = ANY_CONDITIONS;

const campaign = (
  id: string,
  effect: CampaignEffect,
  conditions: Partial<CampaignConditions> = {},
  extra: Partial<CampaignDefinition> = {},
): CampaignInForce => ({
  campaignId: id,
  version: 1,
  definition: {
    name: { ru: `Акция ${id}`, en: `Campaign ${id}` },
    funder: { type: "marketplace" },
    conditions: { ...ANY, ...conditions },
    effect,
    combinable: true,
    budgetPoints: null,
    ...extra,
  },
});

/** A line paid wholly with money at its charged price: base = its amount. */
const base = (lineId: string, category: string, priceKop: number, rateBp: number, quantity = 1): LineBase => {
  const line: CartLine = {
    lineId,
    sku: `sku-${lineId}`,
    sellerId: "s-1",
    category,
    quantity,
    unitPriceKop: priceKop,
  };
  return { line, baseNumerator: BigInt(priceKop * quantity), baseDenominator: 1n, rateBp };
};

const order = (placedAt: string, lines: LineBase[]) => ({
  placedAt: new Date(placedAt),
  paymentMethod: "other_card" as const,
  premium: false,
  segments: new Set<string>(),
  lines,
});

describe("R26 campaigns", () => {
  // Black Friday 2026, Moscow (UTC+3): from 27 November 00:00 to 28 November 00:00, exclusive.
  const blackFriday = campaign(
    "bf",
    { type: "rate_multiplier", multiplierBp: 20_000 },
    {
      startsAt: new Date("2026-11-26T21:00:00Z"),
      endsAt: new Date("2026-11-27T21:00:00Z"),
      categories: ["electronics"],
    },
  );

  it("Black Friday ×2 on electronics, 00:00 to 23:59:59 Moscow time: 23:59:59 gets it, 00:00:00 the next day does not", () => {
    const phone = [base("1", "electronics", 1_000_000, 100)];
    // 23:59:59 in Moscow on 27 November is 20:59:59 UTC: ×2 of 1% adds 1% of 10,000.00 RUB = 100 points.
    expect(evaluateCampaigns([blackFriday], order("2026-11-27T20:59:59.000Z", phone))).toEqual([
      { campaignId: "bf", version: 1, lines: [{ lineId: "1", kop: 10_000 }], orderPoints: 0, points: 100 },
    ]);
    expect(evaluateCampaigns([blackFriday], order("2026-11-27T21:00:00.000Z", phone))).toEqual([]);
    expect(evaluateCampaigns([blackFriday], order("2026-11-26T21:00:00.000Z", phone))).toHaveLength(1);
    expect(evaluateCampaigns([blackFriday], order("2026-11-26T20:59:59.999Z", phone))).toEqual([]);
    // Only electronics lines.
    expect(
      evaluateCampaigns([blackFriday], order("2026-11-27T12:00:00Z", [base("2", "books", 1_000_000, 500)])),
    ).toEqual([]);
  });

  it("+200 points for orders from 5,000.00 RUB, inclusive", () => {
    const plus200 = campaign("p200", { type: "order_points", points: 200 }, { minOrderTotalKop: 500_000 });
    expect(
      evaluateCampaigns([plus200], order("2026-03-01T00:00:00Z", [base("1", "books", 500_000, 500)])),
    ).toEqual([
      // The 200 points ride on the order's matching lines (here its one line), as kopecks of points.
      {
        campaignId: "p200",
        version: 1,
        lines: [{ lineId: "1", kop: 20_000 }],
        orderPoints: 200,
        points: 200,
      },
    ]);
    expect(
      evaluateCampaigns([plus200], order("2026-03-01T00:00:00Z", [base("1", "books", 499_999, 500)])),
    ).toEqual([]);
  });

  it("stacking: combinable campaigns add up; a non-combinable one stands alone when it gives more", () => {
    const lines = [base("1", "electronics", 100_000, 100)];
    const extra2 = campaign("a", { type: "extra_rate", rateBp: 200 });
    const extra3 = campaign("b", { type: "extra_rate", rateBp: 300 });
    const alone4 = campaign("c", { type: "extra_rate", rateBp: 400 }, {}, { combinable: false });
    const alone6 = campaign("d", { type: "extra_rate", rateBp: 600 }, {}, { combinable: false });
    const at = "2026-03-01T00:00:00Z";
    // 2% + 3% = 5% beats 4% alone: 5% of 1,000.00 RUB = 50 points.
    expect(
      evaluateCampaigns([extra2, extra3, alone4], order(at, lines)).map((p) => [p.campaignId, p.points]),
    ).toEqual([
      ["a", 20],
      ["b", 30],
    ]);
    // 6% alone beats 5%.
    expect(
      evaluateCampaigns([extra2, extra3, alone6], order(at, lines)).map((p) => [p.campaignId, p.points]),
    ).toEqual([["d", 60]]);
  });

  it("a seller's campaign must cover only that seller's products", () => {
    const own = campaign(
      "s",
      { type: "unit_points", pointsPerUnit: 5 },
      { sellers: ["s-2"] },
      {
        funder: { type: "seller", sellerId: "s-1" },
      },
    );
    expect(validateCampaign(own.definition)).toEqual([
      {
        field: "conditions.sellers",
        message: 'a seller\'s campaign covers only its own products: must be ["s-1"]',
      },
    ]);
    const unlimited = campaign(
      "s",
      { type: "unit_points", pointsPerUnit: 5 },
      {},
      { funder: { type: "seller", sellerId: "s-1" } },
    );
    expect(validateCampaign(unlimited.definition).map((p) => p.field)).toEqual(["conditions.sellers"]);
    const fine = campaign(
      "s",
      { type: "unit_points", pointsPerUnit: 5 },
      { sellers: ["s-1"] },
      {
        funder: { type: "seller", sellerId: "s-1" },
      },
    );
    expect(validateCampaign(fine.definition)).toEqual([]);
  });

  it("bad definitions name their field: a window ending before it starts, a budget of 0, a multiplier of 1,000", () => {
    const bad = campaign(
      "x",
      { type: "rate_multiplier", multiplierBp: 10_000_000 },
      { startsAt: new Date("2026-02-01T00:00:00Z"), endsAt: new Date("2026-01-01T00:00:00Z") },
      { budgetPoints: 0 },
    );
    expect(validateCampaign(bad.definition).map((p) => p.field)).toEqual([
      "conditions.endsAt",
      "effect.multiplierBp",
      "budgetPoints",
    ]);
  });

  it("property: a line gets the combinable campaigns' sum or the best non-combinable one, whichever is more", () => {
    const effect = fc.oneof(
      fc.integer({ min: 1, max: 2_000 }).map((rateBp): CampaignEffect => ({ type: "extra_rate", rateBp })),
      fc
        .integer({ min: 10_001, max: 50_000 })
        .map((multiplierBp): CampaignEffect => ({ type: "rate_multiplier", multiplierBp })),
      fc
        .integer({ min: 1, max: 50 })
        .map((pointsPerUnit): CampaignEffect => ({ type: "unit_points", pointsPerUnit })),
    );
    assertProperty(
      fc.property(
        fc.array(fc.tuple(effect, fc.boolean()), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 5 }),
        (defs, priceKop, quantity) => {
          const campaigns = defs.map(([e, combinable], i) => campaign(`c${i}`, e, {}, { combinable }));
          const line = base("1", "books", priceKop, 500, quantity);
          const parts = evaluateCampaigns(campaigns, order("2026-03-01T00:00:00Z", [line]));
          const alone = evaluateCampaigns.bind(null);
          const single = campaigns.map(
            (c) => alone([c], order("2026-03-01T00:00:00Z", [line]))[0]?.lines[0]?.kop ?? 0,
          );
          const sum = campaigns.reduce((s, c, i) => s + (c.definition.combinable ? (single[i] ?? 0) : 0), 0);
          const best = Math.max(
            0,
            ...campaigns.map((c, i) => (c.definition.combinable ? 0 : (single[i] ?? 0))),
          );
          const got = parts.reduce((s, p) => s + (p.lines[0]?.kop ?? 0), 0);
          expect(got).toBe(Math.max(sum, best));
          for (const p of parts) expect(p.points).toBe(Math.floor((p.lines[0]?.kop ?? 0) / 100));
        },
      ),
      { numRuns: 300 },
    );
  });
});
