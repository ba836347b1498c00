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
  type ExplanationContext,
  type ExplanationRef,
  emptyLedger,
  type LineAccrualParams,
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
import { CYRILLIC_LETTER, LATIN_LETTER } from "../../support/alphabets.js";
import { assertProperty } from "../../support/property.js";

/**
 * R33: movements keep an explanation as a code and params (what the database stores is their JSON)
 * and render it when read; the texts customers read must not change. The fixture holds texts that
 * the code, which stored texts, rendered at commit 86724cc for inputs fast-check drew at random
 * (seed 20261201): every builder, line accruals with the default and with operator-set category
 * names, and whole order lifecycles (placed, paid, shipped in parts, points made available or
 * expired, returned in parts, cancelled). That code showed dates in UTC, so the fixture is read in
 * UTC; its "about" lists the changes made to it on purpose since.
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
const IN_UTC: ExplanationContext = { categoryNames: NAMES, timeZone: "UTC" };
const IN_MOSCOW: ExplanationContext = { categoryNames: NAMES, timeZone: "Europe/Moscow" };

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
      text: renderExplanation(stored(m.explanation), IN_UTC),
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
      expect(renderExplanation(stored(build(args)), IN_UTC)).toEqual(text);
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

/**
 * Every template, built from random params. `free` draws the ids and free text (references,
 * reasons, skus) the params carry; `legacy` adds the texts stored before migration 5, whole
 * explanations and order lines, which are shown as they were stored.
 */
function explanationArb(free: fc.Arbitrary<string>, legacy: boolean): fc.Arbitrary<ExplanationRef> {
  // The lifecycle names an order's holds and redemptions `<orderId>:<kind>`.
  const spendId = fc.oneof(
    free,
    fc.tuple(free, kind).map(([id, k]) => `${id}:${k}`),
  );
  const returnedLines = fc.array(fc.tuple(free, free, fc.nat(), fc.nat()), { maxLength: 3 });
  // Named in both versions, in version 1 only, and in none (a code that is an Object.prototype member).
  const lineAccrual = fc.tuple(
    fc.constantFrom("books", "toys", "constructor"),
    amount,
    fc.nat(10_000),
    fc.nat(500),
    amount,
  );
  const storedText = fc.record({ ru: free, en: free });
  const shippedLine: fc.Arbitrary<LineAccrualParams | LocalizedText> = legacy
    ? fc.oneof(lineAccrual, storedText)
    : lineAccrual;
  const templates: fc.Arbitrary<ExplanationRef>[] = [
    fc
      .tuple(
        amount,
        fc.constantFrom(...CREDIT_SOURCES),
        fc.option(instant, { nil: null }),
        instant,
        fc.option(free),
      )
      .map((a) => explain.explainCredit(...a)),
    fc.tuple(amount, instant, fc.option(free)).map((a) => explain.explainMadeAvailable(...a)),
    fc.tuple(amount, amount).map((a) => explain.explainDebtOffset(...a)),
    fc.tuple(amount, kind, spendId, instant).map((a) => explain.explainHold(...a)),
    fc.tuple(amount, spendId).map((a) => explain.explainCapture(...a)),
    fc.tuple(amount, spendId, fc.boolean()).map((a) => explain.explainRelease(...a)),
    fc.tuple(amount, spendId).map((a) => explain.explainSpend(...a)),
    fc.tuple(amount, instant).map((a) => explain.explainExpire(...a)),
    fc
      .tuple(amount, amount, amount, fc.option(free), returnedLines)
      .map((a) => explain.explainClawback(...a)),
    fc
      .tuple(amount, spendId, fc.option(instant, { nil: null }), returnedLines)
      .map((a) => explain.explainRefund(...a)),
    fc
      .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), free)
      .map((a) => explain.explainAdjustment(...a)),
    fc
      .tuple(free, amount, fc.constantFrom(0, 1, 7), fc.array(shippedLine, { maxLength: 4 }))
      .map((a) => explain.explainOrderShipped(...a)),
    fc
      .tuple(free, amount, free, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }))
      .map((a) => explain.explainSellerPoints(...a)),
    // R31: written by the expiry notice run in SQL (src/infra/notification-store.ts).
    fc
      .tuple(amount, instant, fc.constantFrom(1, 2, 5, 7, 21, 30))
      .map(
        ([n, at, days]): ExplanationRef => ({ code: "expiring_soon", params: [n, at.toISOString(), days] }),
      ),
  ];
  const storedExplanation = storedText.map(
    ({ ru, en }): ExplanationRef => ({ code: "text", params: [ru, en] }),
  );
  return legacy ? fc.oneof(...templates, storedExplanation) : fc.oneof(...templates);
}

describe("R33: an explanation is its code and params", () => {
  it("survives the round trip through JSON and reads the same after it", () => {
    assertProperty(
      fc.property(explanationArb(text, true), (ref) => {
        const back = stored(ref);
        expect(back).toEqual(ref);
        const shown = renderExplanation(back, IN_MOSCOW);
        expect(shown).toEqual(renderExplanation(ref, IN_MOSCOW));
        expect(shown.ru.length).toBeGreaterThan(0);
        expect(shown.en.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe("R33: dates and times are shown in the operator's time zone, instants stay UTC", () => {
  const inZone = (timeZone: string): ExplanationContext => ({ categoryNames: NAMES, timeZone });

  it("23:30 UTC on 1 March is already 2 March in Moscow", () => {
    const expiry = explain.explainExpire(120, new Date("2026-03-01T23:30:00.000Z"));
    expect(expiry.params).toEqual([120, "2026-03-01T23:30:00.000Z"]);
    expect(renderExplanation(expiry, IN_MOSCOW)).toEqual({
      ru: "Сгорело 120 баллов: срок действия истёк 02.03.2026",
      en: "120 points expired on 2 Mar 2026",
    });
    expect(renderExplanation(expiry, IN_UTC).ru).toBe("Сгорело 120 баллов: срок действия истёк 01.03.2026");
  });

  it("every date a customer reads moves with the zone: pending credits, expiries, grace refunds", () => {
    const lateInTheUtcDay = new Date("2026-12-31T21:15:00.000Z");
    const texts = (timeZone: string) =>
      [
        explain.explainCredit(60, "purchase", lateInTheUtcDay, new Date("2027-12-31T21:15:00.000Z"), null),
        explain.explainCredit(60, "review", null, lateInTheUtcDay, null),
        explain.explainMadeAvailable(60, lateInTheUtcDay, null),
        explain.explainRefund(100, "7781:bonus", lateInTheUtcDay),
      ].map((ref) => renderExplanation(ref, inZone(timeZone)));
    expect(texts("Europe/Moscow")).toEqual([
      {
        ru: "Начислено 60 баллов за покупку, станут доступны 01.01.2027",
        en: "60 points credited for a purchase, available from 1 Jan 2027",
      },
      {
        ru: "Начислено 60 баллов за отзыв, сгорят 01.01.2027",
        en: "60 points credited for a review, expire on 1 Jan 2027",
      },
      {
        ru: "60 баллов стали доступны, сгорят 01.01.2027",
        en: "60 points became available, expire on 1 Jan 2027",
      },
      {
        ru: "Возвращено 100 баллов за заказ 7781; их срок истёк, поэтому они действуют до 01.01.2027",
        en: "100 points refunded for order 7781; their term had passed, so they now expire on 1 Jan 2027",
      },
    ]);
    expect(texts("UTC").map((t) => t.en)).toEqual([
      "60 points credited for a purchase, available from 31 Dec 2026",
      "60 points credited for a review, expire on 31 Dec 2026",
      "60 points became available, expire on 31 Dec 2026",
      "100 points refunded for order 7781; their term had passed, so they now expire on 31 Dec 2026",
    ]);
  });

  it("a hold's time is the operator's wall-clock time, past midnight included", () => {
    const hold = explain.explainHold(500, "bonus", "7781:bonus", new Date("2026-03-01T21:10:00.000Z"));
    expect(renderExplanation(hold, IN_MOSCOW)).toEqual({
      ru: "500 баллов (бонусные баллы) зарезервировано для заказа 7781 до 00:10",
      en: "500 points (bonus points) reserved for order 7781 until 00:10",
    });
    expect(renderExplanation(hold, IN_UTC).en).toBe(
      "500 points (bonus points) reserved for order 7781 until 21:10",
    );
  });

  it("another zone reads the other way: 03:00 UTC on 2 March is 1 March, 22:00 in New York", () => {
    const at = new Date("2026-03-02T03:00:00.000Z");
    const newYork = inZone("America/New_York");
    expect(renderExplanation(explain.explainExpire(5, at), newYork).ru).toBe(
      "Сгорело 5 баллов: срок действия истёк 01.03.2026",
    );
    expect(renderExplanation(explain.explainHold(5, "savings", "h-1", at), newYork).en).toBe(
      "5 points (savings points) reserved for order h-1 until 22:00",
    );
  });
});

describe("R33: no English inside Russian texts, no Russian inside English ones", () => {
  /** Ids and free text without letters, so that whatever letters a text has come from its template. */
  const noLetters = fc.stringMatching(/^[0-9 .:#№/_-]{1,12}$/);
  const timeZone = fc.constantFrom("Europe/Moscow", "Europe/Kaliningrad", "Asia/Vladivostok", "UTC");

  it("holds for every template with any params, in any zone", () => {
    assertProperty(
      fc.property(explanationArb(noLetters, false), timeZone, (ref, zone) => {
        const shown = renderExplanation(ref, { categoryNames: NAMES, timeZone: zone });
        expect(shown.ru).not.toMatch(LATIN_LETTER);
        expect(shown.en).not.toMatch(CYRILLIC_LETTER);
      }),
      { numRuns: 500 },
    );
  });
});
