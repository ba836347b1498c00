import { describe, expect, it } from "vitest";
import {
  type CartLine,
  lineAmountKop,
  MAX_CART_LINES,
  orderTotalKop,
  unitCount,
  validateCart,
} from "../../../src/domain/checkout/index.js";
import { MAX_AMOUNT } from "../../../src/domain/kinds.js";
import { line } from "./fixtures.js";

const fields = (lines: readonly CartLine[]) => validateCart(lines).map((p) => p.field);

describe("cart", () => {
  it("adds up amounts and units", () => {
    const lines = [
      line({ lineId: "a", quantity: 3, unitPriceKop: 79_999 }),
      line({ lineId: "b", quantity: 2, unitPriceKop: 0 }),
    ];
    expect(lineAmountKop(lines[0] ?? line({ unitPriceKop: 0 }))).toBe(239_997);
    expect(orderTotalKop(lines)).toBe(239_997);
    expect(unitCount(lines)).toBe(5);
    expect(validateCart(lines)).toEqual([]);
  });

  it("refuses an empty cart and an oversized one", () => {
    expect(validateCart([])).toEqual([{ field: "lines", message: "the cart is empty" }]);
    const many = Array.from({ length: MAX_CART_LINES + 1 }, (_, i) =>
      line({ lineId: `L${i}`, unitPriceKop: 100 }),
    );
    expect(fields(many)).toEqual(["lines"]);
    expect(fields(many.slice(1))).toEqual([]);
  });

  it("checks quantities, prices and ids line by line", () => {
    expect(
      fields([
        line({ lineId: "a", quantity: 0, unitPriceKop: 100 }),
        line({ lineId: "b", quantity: 1.5, unitPriceKop: 100 }),
        line({ lineId: "c", quantity: 100_001, unitPriceKop: 100 }),
        line({ lineId: "d", unitPriceKop: -1 }),
        line({ lineId: "e", unitPriceKop: 10.5 }),
        line({ lineId: "f", unitPriceKop: 500, originalUnitPriceKop: 499 }),
        line({ lineId: "a", unitPriceKop: 100 }),
        line({ lineId: "", sku: "", sellerId: "", category: "", unitPriceKop: 100, sellerPointsPerUnit: -5 }),
      ]),
    ).toEqual([
      "lines[0].quantity",
      "lines[1].quantity",
      "lines[2].quantity",
      "lines[3].unitPriceKop",
      "lines[4].unitPriceKop",
      "lines[5].originalUnitPriceKop",
      "lines[6].lineId",
      "lines[7].lineId",
      "lines[7].sku",
      "lines[7].sellerId",
      "lines[7].category",
      "lines[7].sellerPointsPerUnit",
    ]);
    expect(
      validateCart([line({ lineId: "x", unitPriceKop: 1 }), line({ lineId: "x", unitPriceKop: 1 })]),
    ).toEqual([{ field: "lines[1].lineId", message: "duplicates lines[0].lineId" }]);
  });

  it("keeps every amount within MAX_AMOUNT so that sums stay exact", () => {
    expect(fields([line({ quantity: 100_000, unitPriceKop: MAX_AMOUNT })])).toEqual(["lines[0].amount"]);
    expect(fields([line({ quantity: 2, unitPriceKop: 1, originalUnitPriceKop: MAX_AMOUNT })])).toEqual([
      "lines[0].amount",
    ]);
    expect(
      fields([line({ lineId: "a", unitPriceKop: MAX_AMOUNT }), line({ lineId: "b", unitPriceKop: 1 })]),
    ).toEqual(["lines"]);
    expect(fields([line({ quantity: 2, unitPriceKop: 1, sellerPointsPerUnit: MAX_AMOUNT })])).toEqual([
      "lines[0].sellerPoints",
    ]);
    expect(fields([line({ unitPriceKop: MAX_AMOUNT, originalUnitPriceKop: MAX_AMOUNT })])).toEqual([]);
  });
});
