import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CartLine,
  computeAccrual,
  DEFAULT_EARNING_CONFIG,
  type EarningConfig,
  type LocalizedText,
  type PaymentMethod,
  quoteSpend,
} from "../../../src/domain/checkout/index.js";
import { POINT_KINDS, type PointKind } from "../../../src/domain/kinds.js";
import * as explain from "../../../src/domain/ledger/explain.js";
import {
  applyChange,
  CREDIT_SOURCES,
  type CreditSource,
  type CustomerLedger,
  credit,
  DEFAULT_LEDGER_POLICY,
  type ExplanationRef,
  emptyLedger,
  type Movement,
  type ReturnedLine,
  renderExplanation,
  renderLineAccrual,
  settle,
} from "../../../src/domain/ledger/index.js";
import {
  applyOrderEvent,
  type ConfigVersion,
  categoryNamesOf,
  DEFAULT_PROGRAMME_CONFIG,
  explainOrderLine,
  type Order,
  type OrderEvent,
} from "../../../src/domain/orders/index.js";
import { assertProperty } from "../../support/property.js";

/**
 * R33: movements keep an explanation as a code and params (what the database stores is their JSON)
 * and render it when read; the texts customers read must not change. The fixture holds texts that
 * the code, which stored texts, rendered at commit 86724cc for inputs fast-check drew at random
 * (seed 20261201): every builder, line accruals with the default and with operator-set category
 * names, and whole order lifecycles (placed, paid, shipped in parts, points made available or
 * expired, returned in parts, cancelled).
 */
interface Fixture {
  builders: Record<string, { args: unknown[]; text: LocalizedText }[]>;
  lineAccruals: {
    orderId: string;
    line: CartLine;
    paymentMethod: PaymentMethod;
    spentPoints: number;
    customNames: boolean;
    baseKop: number;
    rateBp: number;
    cardBp: number;
    accrualKop: number;
    text: LocalizedText;
  }[];
  lifecycles: {
    scenario: Scenario;
    movements: { type: string; text: LocalizedText }[];
    lines: { lineId: string; text: LocalizedText }[];
  }[];
}

interface Scenario {
  orderId: string;
  lines: CartLine[];
  paymentMethod: PaymentMethod;
  version: 0 | 1;
  welcome: number;
  spendShare: number;
  partialShip: boolean;
  returns: [number, number][][];
  returnAfterDays: number;
  cancel: "no" | "placed" | "paid";
}

const fixture = JSON.parse(
  readFileSync(new URL("./explanations.fixture.json", import.meta.url), "utf8"),
) as Fixture;

const date = (iso: unknown) => new Date(iso as string);
const orNull = (iso: unknown) => (iso === null ? null : date(iso));
type RecordedLine = { lineId: string; sku: string; quantity: number; of: number };
const returned = (lines: unknown): ReturnedLine[] | undefined =>
  (lines as RecordedLine[] | null)?.map((l) => [l.lineId, l.sku, l.quantity, l.of]);

/** Each builder, called with the recorded arguments. */
const BUILDERS: Record<string, (a: unknown[]) => ExplanationRef> = {
  credit: (a) =>
    explain.explainCredit(
      a[0] as number,
      a[1] as CreditSource,
      orNull(a[2]),
      date(a[3]),
      a[4] as string | null,
    ),
  madeAvailable: (a) => explain.explainMadeAvailable(a[0] as number, date(a[1]), a[2] as string | null),
  debtOffset: (a) => explain.explainDebtOffset(a[0] as number, a[1] as number),
  hold: (a) => explain.explainHold(a[0] as number, a[1] as PointKind, a[2] as string, date(a[3])),
  capture: (a) => explain.explainCapture(a[0] as number, a[1] as string),
  release: (a) => explain.explainRelease(a[0] as number, a[1] as string, a[2] as boolean),
  spend: (a) => explain.explainSpend(a[0] as number, a[1] as string),
  expire: (a) => explain.explainExpire(a[0] as number, date(a[1])),
  clawback: (a) =>
    explain.explainClawback(
      a[0] as number,
      a[1] as number,
      a[2] as number,
      a[3] as string | null,
      returned(a[4]),
    ),
  refund: (a) => explain.explainRefund(a[0] as number, a[1] as string, orNull(a[2]), returned(a[3])),
  adjustment: (a) => explain.explainAdjustment(a[0] as number, a[1] as string),
};

/** What the database keeps of an explanation: its JSON. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value));

const CUSTOM_NAMES: EarningConfig["categoryNames"] = {
  ...DEFAULT_EARNING_CONFIG.categoryNames,
  books: { ru: "Книги и журналы", en: "Books & magazines" },
  toys: { ru: "Игрушки", en: "Toys" },
};
const VERSIONS: ConfigVersion[] = [
  { version: 0, effectiveFrom: new Date(0), config: DEFAULT_PROGRAMME_CONFIG },
  {
    version: 1,
    effectiveFrom: new Date(0),
    config: {
      ...DEFAULT_PROGRAMME_CONFIG,
      earning: { ...DEFAULT_PROGRAMME_CONFIG.earning, categoryNames: CUSTOM_NAMES },
    },
  },
];
const NAMES = categoryNamesOf(VERSIONS);

/** Plays a recorded scenario through the domain: every movement's explanation and each line's. */
function playLifecycle(s: Scenario) {
  let counter = 0;
  let now = new Date("2026-01-15T09:00:00.000Z").getTime();
  const ctx = () => ({
    now: new Date(now),
    newId: (p: string) => `${p}_${String(++counter).padStart(4, "0")}`,
    policy: DEFAULT_LEDGER_POLICY,
  });
  let ledger: CustomerLedger = emptyLedger("c-1");
  const movements: Movement[] = [];
  const take = (change: { movements: Movement[] } & Parameters<typeof applyChange>[1]) => {
    ledger = applyChange(ledger, change);
    movements.push(...change.movements);
  };
  if (s.welcome > 0) {
    const welcome = credit(
      ledger,
      { kind: "bonus", amount: s.welcome, source: "campaign", funder: "campaign:w", reference: "welcome" },
      ctx(),
    );
    if (welcome.ok) take(welcome);
  }
  const version = VERSIONS[s.version] as ConfigVersion;
  const quote = quoteSpend({
    lines: s.lines,
    config: version.config.earning,
    balances: { bonus: s.welcome, savings: 0, referral: 0 },
  });
  const spend = {
    bonus: Math.floor((quote.combination.bonus * s.spendShare) / 100),
    savings: 0,
    referral: 0,
  };
  let order: Order | undefined;
  let sequence = 0;
  const apply = (event: Record<string, unknown>, afterMs: number) => {
    now += afterMs;
    sequence += 1;
    const full = {
      eventId: `e${sequence}`,
      orderId: s.orderId,
      customerId: "c-1",
      sequence,
      occurredAt: new Date(now),
      ...event,
    } as OrderEvent;
    const result = applyOrderEvent(order, full, ledger, version, ctx());
    if (!result.ok) return;
    order = result.order;
    if (result.change) take(result.change);
  };
  apply({ type: "placed", lines: s.lines, paymentMethod: s.paymentMethod, spend }, 0);
  if (s.cancel === "placed") apply({ type: "cancelled" }, 60_000);
  else {
    apply({ type: "paid" }, 60_000);
    if (s.cancel === "paid") apply({ type: "cancelled" }, 60_000);
    else {
      const first = s.lines[0] as CartLine;
      if (s.partialShip && first.quantity > 1) {
        apply({ type: "shipped", lines: [{ lineId: first.lineId, quantity: 1 }] }, 3_600_000);
        apply({ type: "shipped" }, 3_600_000);
      } else apply({ type: "shipped" }, 86_400_000);
      now += s.returnAfterDays * 86_400_000;
      const settled = settle(ledger, ctx());
      if (settled.ok) take(settled);
      for (const picks of s.returns) {
        const quantities = new Map<string, number>();
        for (const [i, quantity] of picks) {
          const line = s.lines[i % s.lines.length] as CartLine;
          quantities.set(line.lineId, Math.min(line.quantity, quantity));
        }
        const lines = [...quantities].map(([lineId, quantity]) => ({ lineId, quantity }));
        apply({ type: "returned", lines }, 86_400_000);
      }
    }
  }
  const shown = order;
  return {
    movements: movements.map((m) => ({
      type: m.type,
      text: renderExplanation(stored(m.explanation), NAMES),
    })),
    lines:
      shown?.lines.map((l) => ({ lineId: l.lineId, text: explainOrderLine(stored(shown), l, NAMES) })) ?? [],
  };
}

describe("R33: explanations read as they always did", () => {
  it.each(Object.keys(fixture.builders))("%s, stored and read back", (name) => {
    const build = BUILDERS[name];
    if (!build) throw new Error(`no builder ${name}`);
    for (const { args, text } of fixture.builders[name] ?? []) {
      expect(renderExplanation(stored(build(args)), NAMES)).toEqual(text);
    }
  });

  it("line accruals, with the default and with operator-set category names", () => {
    for (const l of fixture.lineAccruals) {
      const config = l.customNames
        ? { ...DEFAULT_EARNING_CONFIG, categoryNames: CUSTOM_NAMES }
        : DEFAULT_EARNING_CONFIG;
      const points = { bonus: l.spentPoints, savings: 0, referral: 0 };
      const [accrual] = computeAccrual({
        orderId: l.orderId,
        lines: [l.line],
        paymentMethod: l.paymentMethod,
        config,
        allocation: [{ lineId: l.line.lineId, points, total: l.spentPoints }],
      }).lines;
      const { baseKop, rateBp, cardBp, accrualKop } = l;
      expect(accrual).toMatchObject({ baseKop, rateBp, cardBp, accrualKop, explanation: l.text });
      const name = NAMES(l.customNames ? 1 : 0, l.line.category);
      expect(
        renderLineAccrual(l.orderId, name, [l.line.category, baseKop, rateBp, cardBp, accrualKop]),
      ).toEqual(l.text);
    }
  });

  it("order lifecycles: every movement and every line", () => {
    for (const recorded of fixture.lifecycles) {
      const played = playLifecycle(recorded.scenario);
      expect(played.movements).toEqual(recorded.movements);
      expect(played.lines).toEqual(recorded.lines);
    }
  });
});

const amount = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 1_000_000_000_000 }));
const instant = fc.date({
  min: new Date("2000-01-01T00:00:00Z"),
  max: new Date("2199-12-31T23:59:59.999Z"),
  noInvalidDate: true,
});
const text = fc.string({ minLength: 1, maxLength: 30 });
const kind = fc.constantFrom(...POINT_KINDS);
const lines = fc.array(fc.tuple(text, text, fc.nat(), fc.nat()), { maxLength: 3 });

/** Every template, built from random params. */
const anyExplanation: fc.Arbitrary<ExplanationRef> = fc.oneof(
  fc
    .tuple(
      amount,
      fc.constantFrom(...CREDIT_SOURCES),
      fc.option(instant, { nil: null }),
      instant,
      fc.option(text),
    )
    .map((a) => explain.explainCredit(...a)),
  fc.tuple(amount, instant, fc.option(text)).map((a) => explain.explainMadeAvailable(...a)),
  fc.tuple(amount, amount).map((a) => explain.explainDebtOffset(...a)),
  fc.tuple(amount, kind, text, instant).map((a) => explain.explainHold(...a)),
  fc.tuple(amount, text).map((a) => explain.explainCapture(...a)),
  fc.tuple(amount, text, fc.boolean()).map((a) => explain.explainRelease(...a)),
  fc.tuple(amount, text).map((a) => explain.explainSpend(...a)),
  fc.tuple(amount, instant).map((a) => explain.explainExpire(...a)),
  fc.tuple(amount, amount, amount, fc.option(text), lines).map((a) => explain.explainClawback(...a)),
  fc.tuple(amount, text, fc.option(instant, { nil: null }), lines).map((a) => explain.explainRefund(...a)),
  fc.tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), text).map((a) => explain.explainAdjustment(...a)),
  fc
    .tuple(
      text,
      amount,
      fc.constantFrom(0, 1, 7),
      fc.array(
        fc.oneof(
          fc.tuple(
            fc.constantFrom("books", "toys", "constructor"),
            amount,
            fc.nat(10_000),
            fc.nat(500),
            amount,
          ),
          fc.record({ ru: text, en: text }),
        ),
        { maxLength: 4 },
      ),
    )
    .map((a) => explain.explainOrderShipped(...a)),
  fc
    .tuple(text, amount, text, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }))
    .map((a) => explain.explainSellerPoints(...a)),
  fc.tuple(text, text).map(([ru, en]) => ({ code: "text", params: [ru, en] }) as ExplanationRef),
);

describe("R33: an explanation is its code and params", () => {
  it("survives the round trip through JSON and reads the same after it", () => {
    assertProperty(
      fc.property(anyExplanation, (ref) => {
        const back = stored(ref);
        expect(back).toEqual(ref);
        const shown = renderExplanation(back, NAMES);
        expect(shown).toEqual(renderExplanation(ref, NAMES));
        expect(shown.ru.length).toBeGreaterThan(0);
        expect(shown.en.length).toBeGreaterThan(0);
      }),
    );
  });
});
