import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CartLine, quoteSpend } from "../../../src/domain/checkout/index.js";
import {
  applyChange,
  type CustomerLedger,
  credit,
  DEFAULT_LEDGER_POLICY,
  emptyLedger,
  funderAccount,
} from "../../../src/domain/ledger/index.js";
import {
  applyOrderEvent,
  type ConfigVersion,
  DEFAULT_PROGRAMME_CONFIG,
  type Order,
  type OrderEvent,
  validateProgrammeConfig,
} from "../../../src/domain/orders/index.js";
import {
  cashbackPoints,
  expectedCashbackPoints,
  lineCashbackKop,
  type SavingsMechanic,
} from "../../../src/domain/savings/index.js";
import { assertProperty } from "../../support/property.js";

const version = (cashbackBp: number): ConfigVersion => ({
  version: 1,
  effectiveFrom: new Date(0),
  config: { ...DEFAULT_PROGRAMME_CONFIG, savings: { annualRateBp: 1200, cashbackBp } },
});

/** One customer's order driven through the pure lifecycle, with the savings points it moved. */
function driver(mechanic: SavingsMechanic, cashbackBp: number, welcomeBonus: number) {
  let now = new Date("2026-11-02T09:00:00Z").getTime();
  let counter = 0;
  const ctx = () => ({
    now: new Date(now),
    newId: (p: string) => `${p}_${String(++counter).padStart(26, "0")}`,
    policy: DEFAULT_LEDGER_POLICY,
  });
  let ledger: CustomerLedger = emptyLedger("c-1");
  const welcome = credit(
    ledger,
    { kind: "bonus", amount: Math.max(1, welcomeBonus), source: "campaign", funder: "campaign:w" },
    ctx(),
  );
  if (!welcome.ok) throw new Error(welcome.message);
  ledger = applyChange(ledger, welcome);
  let order: Order | undefined;
  let events = 0;
  /** Points credited from the funder savings_cashback, and the savings points clawed back (or left as debt). */
  const moved = { credited: 0, clawedBack: 0 };
  return {
    get order() {
      return order;
    },
    get ledger() {
      return ledger;
    },
    moved,
    apply(event: Record<string, unknown>, afterMs = 60_000) {
      now += afterMs;
      events += 1;
      const full = {
        eventId: `e${events}`,
        orderId: "o-1",
        customerId: "c-1",
        occurredAt: new Date(now),
        ...event,
      } as OrderEvent;
      const result = applyOrderEvent(order, full, ledger, version(cashbackBp), ctx(), {
        savingsMechanic: mechanic,
      });
      if (!result.ok) throw new Error(`${full.type}: ${result.code} ${result.message}`);
      order = result.order;
      if (!result.change) return result;
      ledger = applyChange(ledger, result.change);
      for (const m of result.change.movements) {
        if (m.kind !== "savings") continue;
        if (m.type === "credit") {
          for (const p of m.postings)
            if (p.account === funderAccount("savings_cashback")) moved.credited -= p.amount;
        }
        if (m.type === "clawback") {
          moved.clawedBack += m.postings.filter((p) => p.amount < 0).reduce((s, p) => s - p.amount, 0);
        }
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
    category: fc.constantFrom("books", "electronics", "clothing_shoes", "toys"),
    quantity: fc.integer({ min: 1, max: 6 }),
    unitPriceKop: fc.integer({ min: 100, max: 5_000_000 }),
  });

const scenarioArb = fc.integer({ min: 1, max: 4 }).chain((count) =>
  fc.record({
    lines: fc.tuple(...Array.from({ length: count }, (_, i) => lineArb(i))),
    cashbackBp: fc.integer({ min: 0, max: 1_000 }),
    spendShare: fc.integer({ min: 0, max: 100 }),
    welcome: fc.integer({ min: 1, max: 200_000 }),
    // Per line: units shipped in the first shipment (the rest ship in a second), then units returned in two steps.
    steps: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: count, maxLength: count }),
  }),
);

describe("R25 savings cashback: the arithmetic", () => {
  it("property: cashback never exceeds ⌊money paid × rate⌋, and returns never take back more than was credited", () => {
    assertProperty(
      fc.property(scenarioArb, (s) => {
        const lines = s.lines as CartLine[];
        const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceKop, 0);
        // A share of the bonus points the caps allow (R16, R19) from the welcome balance.
        const { maxPerKind } = quoteSpend({
          lines,
          config: DEFAULT_PROGRAMME_CONFIG.earning,
          balances: { bonus: s.welcome, savings: 0, referral: 0 },
        });
        const bonus = Math.floor((maxPerKind.bonus * s.spendShare) / 100);
        const d = driver("cashback", s.cashbackBp, s.welcome);
        const placed = d.apply({
          type: "placed",
          lines,
          paymentMethod: "savings_account",
          spend: { bonus, savings: 0, referral: 0 },
        });
        const moneyKop = total - bonus * 100;
        const cap = Math.floor((moneyKop * s.cashbackBp) / 10_000 / 100);
        if (placed.ok && s.cashbackBp > 0)
          expect(placed.effect.expectedCashbackPoints).toBeLessThanOrEqual(cap);
        d.apply({ type: "paid" });
        const ship = lines.map((l, i) => Math.min(l.quantity, (s.steps[i]?.[0] ?? 0) % (l.quantity + 1)));
        const first = lines.flatMap((l, i) =>
          (ship[i] ?? 0) > 0 ? [{ lineId: l.lineId, quantity: ship[i] }] : [],
        );
        if (first.length > 0) d.apply({ type: "shipped", lines: first });
        if (first.length < lines.length || ship.some((q, i) => q < (lines[i] as CartLine).quantity))
          d.apply({ type: "shipped" });
        expect(d.moved.credited).toBeLessThanOrEqual(cap);
        expect(d.moved.credited).toBe(cashbackPoints(d.order?.lines ?? [], s.cashbackBp));
        for (const step of [1, 2] as const) {
          const picks = lines.flatMap((l, i) => {
            const line = d.order?.lines[i];
            const left = (line?.shippedQuantity ?? 0) - (line?.returnedQuantity ?? 0);
            const q = Math.min(left, (s.steps[i]?.[step] ?? 0) % (l.quantity + 1));
            return q > 0 ? [{ lineId: l.lineId, quantity: q }] : [];
          });
          if (picks.length === 0 || d.order?.state === "returned") continue;
          d.apply({ type: "returned", lines: picks }, 86_400_000);
          expect(d.moved.clawedBack).toBeLessThanOrEqual(d.moved.credited);
          expect(d.order?.cashback?.points ?? 0).toBe(d.moved.credited - d.moved.clawedBack);
          expect(d.order?.cashback?.points ?? 0).toBeGreaterThanOrEqual(0);
        }
        // The savings wallet holds exactly what the order's cashback is now (nothing spent it).
        const savings = d.ledger.totals.savings;
        expect(savings.available + savings.pending - savings.debt).toBe(d.order?.cashback?.points ?? 0);
      }),
      { numRuns: 150 },
    );
  });

  it("property: a line returned in full keeps no cashback, however its units shipped and came back", () => {
    assertProperty(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        (quantity, price, bp) => {
          const d = driver("cashback", bp, 1);
          const l = {
            lineId: "L",
            sku: "s",
            sellerId: "s-1",
            category: "books",
            quantity,
            unitPriceKop: price * 100,
          };
          d.apply({
            type: "placed",
            lines: [l],
            paymentMethod: "savings_account",
            spend: { bonus: 0, savings: 0, referral: 0 },
          });
          d.apply({ type: "paid" });
          for (let shipped = 0; shipped < quantity; shipped++)
            d.apply({ type: "shipped", lines: [{ lineId: "L", quantity: 1 }] });
          expect(d.moved.credited).toBe(expectedCashbackPoints(d.order?.lines ?? [], bp));
          for (let back = 0; back < quantity; back++)
            d.apply({ type: "returned", lines: [{ lineId: "L", quantity: 1 }] });
          expect(d.order?.cashback?.points).toBe(0);
          expect(d.moved.clawedBack).toBe(d.moved.credited);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a line's cashback is its money × rate in kopecks of points, rounded down, never up", () => {
    const none = { bonus: 0, savings: 0, referral: 0 };
    expect(lineCashbackKop({ quantity: 1, unitPriceKop: 79_999, spent: none }, 300)).toBe(2_399);
    expect(
      lineCashbackKop({ quantity: 2, unitPriceKop: 150_000, spent: { ...none, bonus: 1_000 } }, 300),
    ).toBe(6_000);
  });

  it("an interest customer's order earns none, and the cashback rate is validated 0-1000 bp", () => {
    const d = driver("interest", 300, 1);
    const l = {
      lineId: "L",
      sku: "s",
      sellerId: "s-1",
      category: "books",
      quantity: 1,
      unitPriceKop: 100_000,
    };
    d.apply({
      type: "placed",
      lines: [l],
      paymentMethod: "savings_account",
      spend: { bonus: 0, savings: 0, referral: 0 },
    });
    d.apply({ type: "paid" });
    d.apply({ type: "shipped" });
    expect(d.order?.cashback).toBeUndefined();
    expect(d.moved.credited).toBe(0);
    for (const bad of [-1, 1_001, 2.5]) {
      expect(validateProgrammeConfig(version(bad).config).map((p) => p.field)).toEqual([
        "savings.cashbackBp",
      ]);
    }
    expect(validateProgrammeConfig(version(1_000).config)).toEqual([]);
  });
});
