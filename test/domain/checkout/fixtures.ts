import fc from "fast-check";
import {
  type CartLine,
  DEFAULT_EARNING_CONFIG,
  type EarningConfig,
  type KindPoints,
} from "../../../src/domain/checkout/index.js";

/** A cart line with sensible defaults; tests override what they are about. */
export function line(overrides: Partial<CartLine> & Pick<CartLine, "unitPriceKop">): CartLine {
  return { lineId: "L1", sku: "SKU-1", sellerId: "S1", category: "books", quantity: 1, ...overrides };
}

export function balances(overrides: Partial<KindPoints> = {}): KindPoints {
  return { bonus: 0, savings: 0, referral: 0, ...overrides };
}

export const CATEGORY = fc.constantFrom(
  "electronics",
  "household_appliances",
  "clothing_shoes",
  "groceries",
  "books",
  "toys",
);

/** Carts of the given size, priced so that edge prices (free, 1 RUB, 1 kop) come up often. */
export function cartArb(options: { maxLines: number; maxQuantity: number; maxPriceKop: number }) {
  const price = fc.oneof(
    fc.constantFrom(0, 1, 99, 100, 101),
    fc.integer({ min: 0, max: options.maxPriceKop }),
  );
  const lineArb = fc
    .record({
      category: CATEGORY,
      quantity: fc.integer({ min: 1, max: options.maxQuantity }),
      unitPriceKop: price,
      markupKop: fc.option(fc.integer({ min: 0, max: options.maxPriceKop }), { nil: undefined }),
      sellerPointsPerUnit: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    })
    .map(({ markupKop, ...rest }) => ({
      ...rest,
      originalUnitPriceKop: markupKop === undefined ? undefined : rest.unitPriceKop + markupKop,
    }));
  return fc.array(lineArb, { minLength: 1, maxLength: options.maxLines }).map((lines) =>
    lines.map(
      (l, index): CartLine => ({
        lineId: `L${index}`,
        sku: `SKU-${index}`,
        sellerId: `S${index % 2}`,
        ...l,
      }),
    ),
  );
}

/** Configurations with any valid caps, including referral caps that differ by category (R18). */
export const configArb: fc.Arbitrary<EarningConfig> = fc
  .record({
    bonusCapBp: fc.integer({ min: 0, max: 10_000 }),
    savingsCapBp: fc.integer({ min: 0, max: 10_000 }),
    referralOtherwise: fc.integer({ min: 2_500, max: 10_000 }),
    referralBooks: fc.integer({ min: 2_500, max: 10_000 }),
    referralElectronics: fc.integer({ min: 2_500, max: 10_000 }),
    minMoneyPerUnitKop: fc.constantFrom(100, 150, 1_000),
  })
  .map((c) => ({
    ...DEFAULT_EARNING_CONFIG,
    bonusCapBp: c.bonusCapBp,
    savingsCapBp: c.savingsCapBp,
    minMoneyPerUnitKop: c.minMoneyPerUnitKop,
    referralCapBp: {
      byCategory: { books: c.referralBooks, electronics: c.referralElectronics },
      otherwise: c.referralOtherwise,
    },
  }));

export function balancesArb(max: number): fc.Arbitrary<KindPoints> {
  const amount = fc.oneof(
    { arbitrary: fc.constant(0), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max }), weight: 5 },
  );
  return fc.record({ bonus: amount, savings: amount, referral: amount });
}

export function isSafeCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
