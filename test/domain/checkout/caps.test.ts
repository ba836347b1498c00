import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CartLine,
  checkSpendRequest,
  DEFAULT_EARNING_CONFIG,
  type EarningConfig,
  type KindPoints,
  quoteSpend,
} from "../../../src/domain/checkout/index.js";
import { POINT_KINDS } from "../../../src/domain/kinds.js";
import { assertProperty } from "../../support/property.js";
import { balances, balancesArb, cartArb, configArb, isSafeCount, line } from "./fixtures.js";

/** The caps of R16-R19 restated independently of the implementation, with BigInt floors. */
function referenceCaps(lines: readonly CartLine[], config: EarningConfig) {
  const total = lines.reduce((sum, l) => sum + BigInt(l.quantity * l.unitPriceKop), 0n);
  const units = lines.reduce((sum, l) => sum + BigInt(l.quantity), 0n);
  const moneyFloor = units * BigInt(config.minMoneyPerUnitKop);
  const spendableKop = total > moneyFloor ? total - moneyFloor : 0n;
  const referralRate = (category: string) =>
    config.referralCapBp.byCategory[category] ?? config.referralCapBp.otherwise;
  const referralKop =
    lines.reduce((sum, l) => sum + BigInt(l.quantity * l.unitPriceKop * referralRate(l.category)), 0n) /
    10_000n;
  const savings99 = (total * BigInt(config.savingsCapBp)) / 10_000n;
  const capKop = {
    bonus: (total * BigInt(config.bonusCapBp)) / 10_000n,
    savings: savings99 < spendableKop ? savings99 : spendableKop,
    referral: referralKop,
  };
  return { capKop, spendable: Number(spendableKop / 100n), total: Number(total), units: Number(units) };
}

type Caps = ReturnType<typeof referenceCaps>;

/** R19 read literally: kinds whose cap is c or less never pay more than c; 1 RUB per unit stays. */
function isAllowed(spend: KindPoints, held: KindPoints, caps: Caps): boolean {
  if (POINT_KINDS.some((kind) => spend[kind] > held[kind])) return false;
  for (const outer of POINT_KINDS) {
    const nested = POINT_KINDS.filter((kind) => caps.capKop[kind] <= caps.capKop[outer]);
    const sum = nested.reduce((s, kind) => s + spend[kind], 0);
    if (sum > Number(caps.capKop[outer] / 100n)) return false;
  }
  return spend.bonus + spend.savings + spend.referral <= caps.spendable;
}

function* everySpend(held: KindPoints): Generator<KindPoints> {
  for (let bonus = 0; bonus <= held.bonus; bonus++)
    for (let savings = 0; savings <= held.savings; savings++)
      for (let referral = 0; referral <= held.referral; referral++) yield { bonus, savings, referral };
}

const smallCart = cartArb({ maxLines: 3, maxQuantity: 3, maxPriceKop: 2_000 });
const anyCart = cartArb({ maxLines: 30, maxQuantity: 5_000, maxPriceKop: 10_000_000 });

describe("quoteSpend (R16-R19)", () => {
  it("on small carts no allowed spend uses more points, and maxPerKind is each kind's best alone", () => {
    assertProperty(
      fc.property(smallCart, configArb, balancesArb(25), (lines, config, held) => {
        const quote = quoteSpend({ lines, config, balances: held });
        const caps = referenceCaps(lines, config);
        let bestTotal = 0;
        const bestAlone = { bonus: 0, savings: 0, referral: 0 };
        for (const spend of everySpend(held)) {
          if (!isAllowed(spend, held, caps)) continue;
          bestTotal = Math.max(bestTotal, spend.bonus + spend.savings + spend.referral);
          for (const kind of POINT_KINDS) {
            const others = POINT_KINDS.filter((k) => k !== kind);
            if (others.every((k) => spend[k] === 0)) bestAlone[kind] = Math.max(bestAlone[kind], spend[kind]);
          }
        }
        expect(isAllowed(quote.combination, held, caps)).toBe(true);
        expect(quote.total).toBe(bestTotal);
        expect(quote.maxPerKind).toEqual(bestAlone);
      }),
      { numRuns: 300 },
    );
  });

  it("never breaks a cap or a balance and leaves at least the money floor per unit, on any cart", () => {
    assertProperty(
      fc.property(anyCart, configArb, balancesArb(10_000_000), (lines, config, held) => {
        const quote = quoteSpend({ lines, config, balances: held });
        const caps = referenceCaps(lines, config);
        expect(isAllowed(quote.combination, held, caps)).toBe(true);
        expect(quote.total).toBe(
          quote.combination.bonus + quote.combination.savings + quote.combination.referral,
        );
        expect(quote.moneyToPayKop).toBe(caps.total - quote.total * 100);
        if (quote.total > 0)
          expect(quote.moneyToPayKop).toBeGreaterThanOrEqual(caps.units * config.minMoneyPerUnitKop);
        for (const kind of POINT_KINDS) {
          expect(isSafeCount(quote.maxPerKind[kind])).toBe(true);
          expect(quote.combination[kind]).toBeLessThanOrEqual(quote.maxPerKind[kind]);
        }
        expect(quote.reasons.map((r) => r.points)).toEqual(
          quote.nestingOrder.map((k) => quote.combination[k]),
        );
        expect(checkSpendRequest({ lines, config, balances: held }, quote.combination)).toMatchObject({
          ok: true,
        });
      }),
      { numRuns: 300 },
    );
  });

  it("gives every reason code for the limit that actually bound the kind", () => {
    assertProperty(
      fc.property(smallCart, configArb, balancesArb(25), (lines, config, held) => {
        const quote = quoteSpend({ lines, config, balances: held });
        for (const reason of quote.reasons) {
          const roomUnderCap = reason.capPoints - reason.usedByStricterKinds;
          const roomUnderFloor = reason.spendablePoints - reason.usedByStricterKinds;
          const expected =
            reason.balance === 0
              ? "ZERO_BALANCE"
              : reason.points === reason.balance
                ? "BALANCE"
                : reason.points === roomUnderCap
                  ? reason.usedByStricterKinds === 0
                    ? "KIND_CAP"
                    : "SHARED_CAP"
                  : "MIN_MONEY_PER_UNIT";
          expect(reason.code).toBe(expected);
          expect(reason.points).toBe(Math.min(reason.balance, roomUnderCap, roomUnderFloor));
        }
      }),
    );
  });

  it("EMPTY_CART: an empty cart pays nothing with points, whatever the balance", () => {
    const quote = quoteSpend({
      lines: [],
      config: DEFAULT_EARNING_CONFIG,
      balances: balances({ bonus: 10, savings: 10, referral: 10 }),
    });
    expect(quote.total).toBe(0);
    expect(quote.moneyToPayKop).toBe(0);
    expect(quote.reasons.map((r) => r.code)).toEqual(["EMPTY_CART", "EMPTY_CART", "EMPTY_CART"]);
    expect(quote.reasons[0]?.text.en).toBe(
      "Referral points: the cart is empty, there is nothing to pay with points",
    );
  });

  it("a cart of 1-RUB items can take no points at all (R19) and says why", () => {
    const lines = [line({ category: "toys", quantity: 5, unitPriceKop: 100 })];
    const quote = quoteSpend({ lines, config: DEFAULT_EARNING_CONFIG, balances: balances({ bonus: 50 }) });
    expect(quote.spendablePoints).toBe(0);
    expect(quote.combination).toEqual({ bonus: 0, savings: 0, referral: 0 });
    expect(quote.moneyToPayKop).toBe(500);
    // The bonus cap alone would allow 2 points (50% of 5 RUB); the money floor allows none.
    expect(quote.capPoints.bonus).toBe(2);
    expect(quote.reasons.find((r) => r.kind === "bonus")?.code).toBe("MIN_MONEY_PER_UNIT");
  });

  it("explains a shared cap and the money floor in Russian and English", () => {
    const w6 = [
      line({ lineId: "a", category: "toys", unitPriceKop: 60_000 }),
      line({ lineId: "b", category: "toys", unitPriceKop: 40_000 }),
    ];
    const quote = quoteSpend({
      lines: w6,
      config: DEFAULT_EARNING_CONFIG,
      balances: balances({ bonus: 800, savings: 900, referral: 400 }),
    });
    expect(quote.reasons[2]?.text).toEqual({
      ru: "Баллы накопительного счёта: 490 баллов из 900 — вместе с баллами с более строгим лимитом (500) не больше 990",
      en: "Savings points: 490 points of 900 — together with points under stricter caps (500) at most 990",
    });

    // R18 at 100%: referral could pay the whole order, but R19 keeps 1 RUB per unit.
    const config = { ...DEFAULT_EARNING_CONFIG, referralCapBp: { byCategory: {}, otherwise: 10_000 } };
    const twoUnits = [line({ category: "toys", quantity: 2, unitPriceKop: 10_000 })];
    const full = quoteSpend({ lines: twoUnits, config, balances: balances({ referral: 200 }) });
    expect(full.combination.referral).toBe(198);
    expect(full.reasons.find((r) => r.kind === "referral")).toMatchObject({
      code: "MIN_MONEY_PER_UNIT",
      capPoints: 200,
      spendablePoints: 198,
      text: {
        ru: "Реферальные баллы: 198 баллов из 200 — каждую единицу товара нужно оплатить хотя бы 1 ₽ деньгами",
        en: "Referral points: 198 points of 200 — every unit must still be paid at least 1 RUB in money",
      },
    });
  });

  it("R18: the referral cap follows each line's category", () => {
    const config = {
      ...DEFAULT_EARNING_CONFIG,
      referralCapBp: { byCategory: { books: 10_000 }, otherwise: 2_500 },
    };
    const lines = [
      line({ lineId: "book", category: "books", unitPriceKop: 100_000 }),
      line({ lineId: "toy", category: "toys", unitPriceKop: 100_000 }),
    ];
    const quote = quoteSpend({ lines, config, balances: balances({ referral: 5_000 }) });
    expect(quote.capPoints.referral).toBe(1_250);
    expect(quote.combination.referral).toBe(1_250);
  });

  it("treats a malformed balance as a bug", () => {
    const lines = [line({ unitPriceKop: 100_000 })];
    expect(() =>
      quoteSpend({ lines, config: DEFAULT_EARNING_CONFIG, balances: balances({ bonus: -1 }) }),
    ).toThrow(RangeError);
  });
});

describe("checkSpendRequest (R16-R19)", () => {
  it("accepts exactly the spends R19 allows, refusing balances first", () => {
    assertProperty(
      fc.property(
        smallCart,
        configArb,
        balancesArb(25),
        balancesArb(30),
        (lines, config, held, requested) => {
          const result = checkSpendRequest({ lines, config, balances: held }, requested);
          const caps = referenceCaps(lines, config);
          expect(result.ok).toBe(isAllowed(requested, held, caps));
          if (!result.ok) {
            const overdrawn = POINT_KINDS.some((kind) => requested[kind] > held[kind]);
            expect(result.code).toBe(overdrawn ? "INSUFFICIENT_POINTS" : "CAP_EXCEEDED");
            expect(result.details.requested).toBeGreaterThan(result.details.limit);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  const w6 = [
    line({ lineId: "a", category: "toys", unitPriceKop: 60_000 }),
    line({ lineId: "b", category: "toys", unitPriceKop: 40_000 }),
  ];
  const input = {
    lines: w6,
    config: DEFAULT_EARNING_CONFIG,
    balances: balances({ bonus: 800, savings: 900, referral: 400 }),
  };

  it("INSUFFICIENT_POINTS: more than the balance", () => {
    expect(checkSpendRequest(input, { bonus: 801 })).toEqual({
      ok: false,
      code: "INSUFFICIENT_POINTS",
      field: "requested.bonus",
      details: { kinds: ["bonus"], requested: 801, limit: 800 },
      message: {
        ru: "Бонусные баллы: запрошено 801 балл, а на балансе 800",
        en: "Bonus points: 801 points requested, but the balance is 800",
      },
    });
  });

  it("CAP_EXCEEDED: over the kind's own cap (R16)", () => {
    expect(checkSpendRequest(input, { bonus: 501 })).toMatchObject({
      ok: false,
      code: "CAP_EXCEEDED",
      field: "requested.bonus",
      details: { kinds: ["bonus"], requested: 501, limit: 500 },
      message: { en: "Bonus points: 501 points requested, but they may pay at most 500" },
    });
  });

  it("CAP_EXCEEDED: stricter kinds together over a shared cap (R19)", () => {
    expect(checkSpendRequest(input, { referral: 250, bonus: 251 })).toMatchObject({
      ok: false,
      code: "CAP_EXCEEDED",
      field: "requested.bonus",
      details: { kinds: ["referral", "bonus"], requested: 501, limit: 500 },
      message: { ru: "Реферальные баллы + Бонусные баллы: вместе запрошено 501 балл, а можно не больше 500" },
    });
  });

  it("CAP_EXCEEDED: all points together over the 1 RUB per unit floor (R19)", () => {
    const config = { ...DEFAULT_EARNING_CONFIG, referralCapBp: { byCategory: {}, otherwise: 10_000 } };
    const lines = [line({ category: "toys", quantity: 2, unitPriceKop: 10_000 })];
    const result = checkSpendRequest(
      { lines, config, balances: balances({ referral: 200 }) },
      { referral: 199 },
    );
    expect(result).toMatchObject({
      ok: false,
      code: "CAP_EXCEEDED",
      field: "requested",
      details: { kinds: ["referral"], requested: 199, limit: 198 },
    });
  });

  it("accepts the W6 combination and reports the money left to pay", () => {
    expect(checkSpendRequest(input, { referral: 250, bonus: 250, savings: 490 })).toEqual({
      ok: true,
      spend: { bonus: 250, savings: 490, referral: 250 },
      total: 990,
      moneyToPayKop: 1_000,
    });
  });

  it("treats a fractional request as a bug, not a refusal", () => {
    expect(() => checkSpendRequest(input, { bonus: 1.5 })).toThrow(RangeError);
  });
});
