import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUDGET_SLICES, chooseTakes, sliceShares } from "../../src/domain/budget-slices.js";
import { assertProperty } from "../support/property.js";

/** R22, R26: how a budget is spread over slices and what a reservation takes from it. */

const slices = fc.array(
  fc.record({ funded: fc.integer({ min: 0, max: 200 }), used: fc.integer({ min: 0, max: 200 }) }),
  { minLength: 0, maxLength: BUDGET_SLICES },
);
const budgetOf = (raw: { funded: number; used: number }[]) =>
  raw.map((s, slice) => ({ slice, funded: s.funded, reserved: Math.min(s.used, s.funded) }));

describe("budget slices (R22, R26)", () => {
  it("a funding is spread over the slices without losing a point", () => {
    assertProperty(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (points) => {
        const shares = sliceShares(points);
        expect(shares).toHaveLength(BUDGET_SLICES);
        expect(shares.reduce((a, b) => a + b, 0)).toBe(points);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("a reward is reserved whole, within what each slice holds, or not at all", () => {
    assertProperty(
      fc.property(slices, fc.nat(BUDGET_SLICES - 1), fc.integer({ min: 1, max: 500 }), (raw, own, points) => {
        const budget = budgetOf(raw);
        const left = budget.reduce((sum, s) => sum + s.funded - s.reserved, 0);
        const takes = chooseTakes(budget, own, points);
        if (left < points) {
          expect(takes).toEqual([]);
          return;
        }
        expect(takes.reduce((sum, t) => sum + t.points, 0)).toBe(points);
        for (const t of takes) {
          const s = budget.find((b) => b.slice === t.slice);
          expect(t.points).toBeGreaterThan(0);
          expect(t.points).toBeLessThanOrEqual((s?.funded ?? 0) - (s?.reserved ?? 0));
        }
        const ownLeft = budget.find((b) => b.slice === own);
        if (ownLeft && ownLeft.funded - ownLeft.reserved >= points)
          expect(takes).toEqual([{ slice: own, points }]);
      }),
    );
  });

  it("a partial reservation takes what is left up to the points asked, never more than a slice holds", () => {
    assertProperty(
      fc.property(slices, fc.nat(BUDGET_SLICES - 1), fc.integer({ min: 1, max: 500 }), (raw, own, points) => {
        const budget = budgetOf(raw);
        const left = budget.reduce((sum, s) => sum + s.funded - s.reserved, 0);
        const takes = chooseTakes(budget, own, points, { partial: true });
        expect(takes.reduce((sum, t) => sum + t.points, 0)).toBe(Math.min(points, left));
        for (const t of takes) {
          const s = budget.find((b) => b.slice === t.slice);
          expect(t.points).toBeGreaterThan(0);
          expect(t.points).toBeLessThanOrEqual((s?.funded ?? 0) - (s?.reserved ?? 0));
        }
      }),
    );
  });
});
