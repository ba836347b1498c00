import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { httpHarness } from "../support/http.js";
import { checkLedgerInvariants } from "../support/invariants.js";

/**
 * Shared by the order tests: a thin client over the HTTP API (every call asserts its status, so a
 * test reads as a sequence of business steps) and builders for order events.
 */

export type Harness = Awaited<ReturnType<typeof httpHarness>>;
export type Kind = "bonus" | "savings" | "referral";
export const KINDS: readonly Kind[] = ["bonus", "savings", "referral"];
export type PaymentMethod = "marketplace_card" | "other_card" | "other" | "savings_account";

export interface Line {
  lineId: string;
  sku: string;
  sellerId: string;
  category: string;
  quantity: number;
  unitPriceKop: number;
  originalUnitPriceKop?: number;
}

export type KindPoints = Record<Kind, number>;

export interface KindBalance {
  available: number;
  pending: number;
  held: number;
  debt: number;
  expiringSoon: { amount: number; nearestDate: string | null; withinDays: number };
}

export interface Movement {
  movementId: string;
  kind: Kind;
  type: string;
  change: { available: number; pending: number; held: number; debt: number };
  postings: { account: string; amount: number }[];
  reference: string | null;
  explanation: { ru: string; en: string };
  actor: string;
  occurredAt: string;
}

export interface Outcome {
  eventId: string;
  orderId: string;
  status: "applied" | "parked" | "refused";
  orderState?: string;
  waitingForSequence?: number;
  effect?: {
    points?: Partial<KindPoints>;
    accrualPoints?: number;
    sellerPoints?: number;
    availableFrom?: string;
    shortfall?: number;
    expectedAccrualPoints?: number;
    cashbackPoints?: number;
    expectedCashbackPoints?: number;
    campaignPoints?: number;
    expectedCampaignPoints?: number;
  };
  error?: { code: string; message: string; details: Record<string, unknown> };
}

export interface OrderLineView {
  lineId: string;
  quantity: number;
  shippedQuantity: number;
  returnedQuantity: number;
  spent: KindPoints;
  refunded: KindPoints;
  accrualKop: number;
  earnedKop: number;
  clawedBackKop: number;
  sellerPointsPerUnit: number;
  sellerPointsEarned: number;
  sellerPointsClawedBack: number;
  explanation: { ru: string; en: string };
}

export interface OrderView {
  orderId: string;
  customerId: string;
  state: string;
  configVersion: number;
  spent: KindPoints;
  accrualPoints: number;
  shortfall: number;
  cashback?: { rateBp: number; points: number };
  lines: OrderLineView[];
}

/** The funder a kind's points come from when a test credits them (R2: savings and referral have their own). */
const CREDIT_ORIGIN: Record<Kind, { source: string; funder: string }> = {
  bonus: { source: "campaign", funder: "campaign:tests" },
  savings: { source: "savings_interest", funder: "savings_interest" },
  referral: { source: "manager_programme", funder: "manager_programme" },
};

function expectStatus(res: LightMyRequestResponse, status: number, what: string): void {
  if (res.statusCode !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${res.statusCode}: ${res.body.slice(0, 1000)}`);
  }
}

export function api(h: Harness) {
  const op = h.keys.operator;
  return {
    async credit(
      customerId: string,
      kind: Kind,
      amount: number,
      extra: { expiresAt?: string; availableFrom?: string; source?: string; funder?: string } = {},
    ) {
      const res = await h.send({
        method: "POST",
        url: `/v1/customers/${customerId}/credits`,
        key: op,
        body: { kind, amount, ...CREDIT_ORIGIN[kind], ...extra },
      });
      expectStatus(res, 201, `credit ${amount} ${kind} to ${customerId}`);
      return res.json() as { lotId: string; expiresAt: string; state: string; amount: number };
    },

    /** Credits each kind with a positive amount. */
    async creditAll(customerId: string, amounts: Partial<KindPoints>) {
      for (const kind of KINDS) {
        const amount = amounts[kind] ?? 0;
        if (amount > 0) await this.credit(customerId, kind, amount);
      }
    },

    quoteRaw(customerId: string, lines: unknown, paymentMethod: PaymentMethod = "other_card") {
      return h.send({
        method: "POST",
        url: "/v1/checkout/quote",
        key: op,
        body: { customerId, lines, paymentMethod },
      });
    },

    async quote(customerId: string, lines: Line[], paymentMethod: PaymentMethod = "other_card") {
      const res = await this.quoteRaw(customerId, lines, paymentMethod);
      expectStatus(res, 200, `quote for ${customerId}`);
      return res.json() as Quote;
    },

    /** POSTs one event or a batch, returning the raw response. */
    post(body: unknown) {
      return h.send({ method: "POST", url: "/v1/orders/events", key: op, body });
    },

    /** A batch; every result is returned (applied, parked or refused). */
    async batch(events: unknown[]): Promise<Outcome[]> {
      const res = await this.post({ events });
      expectStatus(res, 200, "event batch");
      return (res.json() as { results: Outcome[] }).results;
    },

    /** One event that must apply. */
    async apply(event: { eventId: string } & Record<string, unknown>): Promise<Outcome> {
      const [result] = await this.batch([event]);
      if (result?.status !== "applied") {
        throw new Error(`event ${event.eventId} was not applied: ${JSON.stringify(result)}`);
      }
      return result;
    },

    async balance(customerId: string): Promise<Record<Kind, KindBalance>> {
      const res = await h.send({ method: "GET", url: `/v1/customers/${customerId}/balance`, key: op });
      expectStatus(res, 200, `balance of ${customerId}`);
      return (res.json() as { kinds: Record<Kind, KindBalance> }).kinds;
    },

    /** Every movement of the customer, oldest first. */
    async history(customerId: string): Promise<Movement[]> {
      const items: Movement[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/customers/${customerId}/history?limit=200${cursor ? `&cursor=${cursor}` : ""}`;
        const res = await h.send({ method: "GET", url, key: op });
        expectStatus(res, 200, `history of ${customerId}`);
        const page = res.json() as { items: Movement[]; nextCursor: string | null };
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return items.reverse();
    },

    async order(customerId: string, orderId: string): Promise<OrderView> {
      const res = await h.send({
        method: "GET",
        url: `/v1/orders/${orderId}?customerId=${customerId}`,
        key: op,
      });
      expectStatus(res, 200, `order ${orderId}`);
      return res.json() as OrderView;
    },
  };
}

export type Api = ReturnType<typeof api>;

export interface Quote {
  configVersion: number;
  available: KindPoints;
  maxPerKind: KindPoints;
  combination: KindPoints;
  total: number;
  moneyToPayKop: number;
  caps: { capPoints: KindPoints; spendablePoints: number; nestingOrder: Kind[] };
  reasons: Record<string, unknown>[];
  lines: {
    lineId: string;
    spend: KindPoints;
    accrualKop: number;
    rateBp: number;
    cardBp: number;
    sellerPoints: number;
    explanation: { ru: string; en: string };
  }[];
  accrual: { points: number; sellerPoints: number; explanation: { ru: string; en: string } };
}

/** Builds the events of one order with ids `<orderId>.<n>`; `at` gives each event's occurredAt. */
export function orderEvents(customerId: string, orderId: string, at: () => Date, withSequence = false) {
  let n = 0;
  const base = <T extends string>(type: T) => {
    n += 1;
    return {
      eventId: `${orderId}.${n}`,
      orderId,
      customerId,
      type,
      occurredAt: at().toISOString(),
      ...(withSequence ? { sequence: n } : {}),
    };
  };
  return {
    placed: (
      lines: Line[],
      spend: Partial<KindPoints> = {},
      paymentMethod: PaymentMethod = "other_card",
    ) => ({
      ...base("placed"),
      lines,
      paymentMethod,
      spend,
    }),
    paid: () => base("paid"),
    shipped: (lines?: { lineId: string; quantity?: number }[]) => ({
      ...base("shipped"),
      ...(lines ? { lines } : {}),
    }),
    delivered: () => base("delivered"),
    cancelled: () => base("cancelled"),
    returned: (lines: { lineId: string; quantity: number }[]) => ({ ...base("returned"), lines }),
  };
}

let lineCounter = 0;

/** A cart line; ids are unique within the test file. */
export function line(category: string, unitPriceKop: number, quantity = 1, extra: Partial<Line> = {}): Line {
  lineCounter += 1;
  return {
    lineId: `L${lineCounter}`,
    sku: `sku-${category}-${lineCounter}`,
    sellerId: "s-9",
    category,
    quantity,
    unitPriceKop,
    ...extra,
  };
}

/** The ledger invariants of test/support/invariants.ts for one customer, asserted empty. */
export async function expectLedgerConsistent(h: Harness, customerId?: string): Promise<void> {
  expect(await checkLedgerInvariants(h.database.db, customerId)).toEqual([]);
}

/** Only the four numbers of each kind's balance (R6), for comparisons. */
export function totals(kinds: Record<Kind, KindBalance>) {
  const pick = (b: KindBalance) => ({
    available: b.available,
    pending: b.pending,
    held: b.held,
    debt: b.debt,
  });
  return { bonus: pick(kinds.bonus), savings: pick(kinds.savings), referral: pick(kinds.referral) };
}
