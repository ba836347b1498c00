import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateProportionally,
  allocateSpend,
  DEFAULT_EARNING_CONFIG,
  lineAmountKop,
  quoteSpend,
} from "../../../src/domain/checkout/index.js";
import { POINT_KINDS } from "../../../src/domain/kinds.js";
import { assertProperty } from "../../support/property.js";
import { balancesArb, cartArb, configArb, line } from "./fixtures.js";

/** The index of the largest weight, the first one on a tie. */
function largestIndex(weights: readonly number[]): number {
  return weights.indexOf(Math.max(...weights));
}

describe("allocateProportionally (R21)", () => {
  it("floors every share and gives the whole remainder to the largest line", () => {
    assertProperty(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000_000_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 10_000_000_000 }),
        (weights, points) => {
          fc.pre(weights.some((w) => w > 0) || points === 0);
          const shares = allocateProportionally(weights, points);
          const total = weights.reduce((sum, w) => sum + BigInt(w), 0n);
          const floors = weights.map((w) =>
            total === 0n ? 0 : Number((BigInt(points) * BigInt(w)) / total),
          );
          const remainder = points - floors.reduce((sum, f) => sum + f, 0);
          const largest = largestIndex(weights);
          expect(shares.reduce((sum, s) => sum + s, 0)).toBe(points);
          expect(remainder).toBeLessThan(weights.length);
          expect(shares).toEqual(floors.map((f, index) => (index === largest ? f + remainder : f)));
        },
      ),
    );
  });

  it("breaks a tie for the largest line in favour of the first", () => {
    expect(allocateProportionally([100, 300, 300], 3)).toEqual([0, 2, 1]);
  });

  it("passes what the largest line cannot absorb to the next largest lines", () => {
    // Nine 1.99-RUB lines and one 2.01-RUB line; 9 points is within R19 (19.92 RUB − 10 × 1 RUB).
    const weights = [...Array.from({ length: 9 }, () => 199), 201];
    const capacity = weights.map((w) => Math.floor(w / 100));
    expect(allocateProportionally(weights, 9, capacity)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 2]);
  });

  it("refuses, as a bug, points the lines cannot absorb", () => {
    expect(() => allocateProportionally([150, 150], 3, [1, 1])).toThrow(RangeError);
    expect(() => allocateProportionally([0, 0], 1)).toThrow(RangeError);
    expect(allocateProportionally([0, 0], 0)).toEqual([0, 0]);
  });
});

describe("allocateSpend (R21)", () => {
  const anyCart = cartArb({ maxLines: 12, maxQuantity: 3_000, maxPriceKop: 5_000_000 });

  it("sums exactly per kind and never puts more points on a line than its amount", () => {
    assertProperty(
      fc.property(anyCart, configArb, balancesArb(50_000_000), (lines, config, held) => {
        const spend = quoteSpend({ lines, config, balances: held }).combination;
        const allocation = allocateSpend(lines, spend);
        expect(allocation.map((share) => share.lineId)).toEqual(lines.map((l) => l.lineId));
        for (const kind of POINT_KINDS) {
          expect(allocation.reduce((sum, share) => sum + share.points[kind], 0)).toBe(spend[kind]);
        }
        allocation.forEach((share, index) => {
          const amount = lineAmountKop(lines[index] ?? line({ unitPriceKop: 0 }));
          expect(share.total * 100).toBeLessThanOrEqual(amount);
          expect(share.total).toBe(share.points.bonus + share.points.savings + share.points.referral);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("gives every line but the largest exactly the floor of its share, per kind", () => {
    // Priced from 100 RUB and spending at most half the order, no line can run out of room, so R21
    // applies in its plain form; the previous property covers the carts where it cannot.
    const realCart = cartArb({ maxLines: 12, maxQuantity: 50, maxPriceKop: 5_000_000 }).map((lines) =>
      lines.map((l) => ({ ...l, unitPriceKop: 10_000 + l.unitPriceKop })),
    );
    const halfCaps = configArb.map((config) => ({
      ...config,
      bonusCapBp: Math.min(config.bonusCapBp, 5_000),
      savingsCapBp: Math.min(config.savingsCapBp, 5_000),
      referralCapBp: { byCategory: {}, otherwise: 2_500 },
    }));
    assertProperty(
      fc.property(realCart, halfCaps, balancesArb(50_000_000), (lines, config, held) => {
        const spend = quoteSpend({ lines, config, balances: held }).combination;
        const allocation = allocateSpend(lines, spend);
        const amounts = lines.map(lineAmountKop);
        for (const kind of POINT_KINDS) {
          expect(allocation.map((share) => share.points[kind])).toEqual(
            allocateProportionally(amounts, spend[kind]),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it("allocates a single kind in proportion to line amounts", () => {
    const lines = [
      line({ lineId: "a", unitPriceKop: 30_000 }),
      line({ lineId: "b", unitPriceKop: 30_000 }),
      line({ lineId: "c", unitPriceKop: 40_000 }),
    ];
    const quote = quoteSpend({
      lines,
      config: DEFAULT_EARNING_CONFIG,
      balances: { bonus: 100, savings: 0, referral: 0 },
    });
    // 100 × 30% = 30, 30, 40: no remainder.
    expect(allocateSpend(lines, quote.combination).map((s) => s.points.bonus)).toEqual([30, 30, 40]);
    // 101 points: floors 30, 30, 40 and the remainder 1 to the largest line c.
    expect(allocateSpend(lines, { bonus: 101, savings: 0, referral: 0 }).map((s) => s.points.bonus)).toEqual([
      30, 30, 41,
    ]);
  });
});
