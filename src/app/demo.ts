import type { CartLine } from "../domain/checkout/index.js";
import type { PointKind } from "../domain/kinds.js";
import {
  adjust,
  capture,
  clawback,
  credit,
  hold,
  type Lot,
  refund,
  release,
  settle,
} from "../domain/ledger/index.js";
import { calendarMonth, monthContaining, previousMonth } from "../domain/savings/index.js";
import type { LedgerService, Step, WriteRequest } from "./ledger-service.js";
import type { OrderService } from "./order-service.js";
import type { Clock } from "./ports.js";
import type { ReviewService } from "./reviews/review-service.js";
import type { SavingsService } from "./savings/savings-service.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small seeded generator (mulberry32) so the same seed always loads the same data. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
  };
}

export const DEMO_CUSTOMER_PREFIX = "demo-";

export function demoCustomerId(index: number): string {
  return `${DEMO_CUSTOMER_PREFIX}${String(index + 1).padStart(5, "0")}`;
}

/**
 * A year of one customer's history: purchases that accrue pending points (R13), some paid partly
 * with points (hold → capture, R20), a few cancelled (release) or returned (clawback R14, refund R15),
 * reviews (R22), savings interest (R25), seller points (R11) and the odd support adjustment (R34).
 * Activity is skewed: a few customers buy a lot, most buy a little.
 */
export function demoHistory(index: number, seed: number, now: Date): Step[] {
  const rng = random(seed * 7919 + index);
  const start = now.getTime() - 365 * DAY;
  const orders = Math.max(1, Math.floor(40 / (1 + rng.int(0, 9) * rng.next() * 4)));
  const steps: Step[] = [];
  for (let n = 0; n < orders; n++) {
    const placed = new Date(start + rng.int(0, 360) * DAY + rng.int(0, 23) * HOUR);
    // Numbered as marketplace orders are: explanations show the id, and Russian ones hold no Latin (R33).
    const orderId = `${String(index + 1).padStart(5, "0")}-${String(n + 1).padStart(4, "0")}`;
    const accrual = rng.int(5, 400);
    let accrualLot: Lot | undefined;
    if (rng.chance(0.2)) {
      const spend = rng.int(50, 600);
      steps.push({
        at: placed,
        operation: (l, c) => hold(l, { holdId: orderId, kind: "bonus", amount: spend }, c),
      });
      const cancelled = rng.chance(0.05);
      steps.push({
        at: new Date(placed.getTime() + 5 * 60_000),
        operation: cancelled
          ? (l, c) => release(l, { holdId: orderId }, c)
          : (l, c) => capture(l, { holdId: orderId }, c),
      });
      if (cancelled) continue;
      if (rng.chance(0.05)) {
        const returnedAt = new Date(placed.getTime() + rng.int(5, 20) * DAY);
        steps.push({
          at: returnedAt,
          operation: (l, c) => refund(l, { redemptionId: orderId, amount: Math.ceil(spend / 2) }, c),
        });
      }
    }
    const shipped = new Date(placed.getTime() + rng.int(1, 3) * DAY);
    steps.push({
      at: shipped,
      operation: (l, c) => {
        const result = credit(
          l,
          {
            kind: "bonus",
            amount: accrual,
            source: "purchase",
            funder: "marketplace",
            availableFrom: new Date(shipped.getTime() + DAY),
            reference: orderId,
          },
          c,
        );
        if (result.ok) accrualLot = result.value;
        return result;
      },
    });
    // The scheduler would make the accrual available a day after shipment; the loader does the same.
    steps.push({ at: new Date(shipped.getTime() + DAY), operation: settle });
    if (rng.chance(0.15)) {
      const sellerPoints = rng.int(1, 10) * 10;
      const seller = `seller:${rng.int(1, 50)}`;
      steps.push({
        at: shipped,
        operation: (l, c) =>
          credit(
            l,
            {
              kind: "bonus",
              amount: sellerPoints,
              source: "seller",
              funder: seller,
              availableFrom: new Date(shipped.getTime() + DAY),
              reference: orderId,
            },
            c,
          ),
      });
    }
    if (rng.chance(0.05)) {
      steps.push({
        at: new Date(shipped.getTime() + rng.int(3, 14) * DAY),
        operation: (l, c) =>
          clawback(
            l,
            {
              kind: "bonus",
              amount: accrual,
              lotIds: accrualLot ? [accrualLot.lotId] : undefined,
              reference: orderId,
            },
            c,
          ),
      });
    }
    if (rng.chance(0.1)) {
      steps.push({
        at: new Date(shipped.getTime() + rng.int(5, 20) * DAY),
        operation: (l, c) =>
          credit(
            l,
            {
              kind: "bonus",
              amount: rng.chance(0.5) ? 50 : 10,
              source: "review",
              funder: "marketplace",
              reference: orderId,
            },
            c,
          ),
      });
    }
  }
  if (rng.chance(0.1)) {
    const monthly = rng.int(50, 500);
    for (let m = 1; m <= 12; m++) {
      const kind: PointKind = "savings";
      steps.push({
        at: new Date(start + m * 30 * DAY),
        operation: (l, c) =>
          credit(l, { kind, amount: monthly, source: "savings_interest", funder: "savings_interest" }, c),
      });
    }
  }
  if (rng.chance(0.02)) {
    steps.push({
      at: new Date(start + rng.int(30, 300) * DAY),
      operation: (l, c) =>
        adjust(l, { kind: "bonus", amount: 200, reason: "Compensation for a late delivery" }, c),
    });
  }
  return steps.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Customers loaded per transaction. */
const DEMO_CUSTOMERS_PER_TRANSACTION = 50;

/** Loads `customers` customers with a year of history each, a few dozen customers per transaction. */
export async function loadDemo(
  ledger: LedgerService,
  options: { customers: number; seed: number; now: Date; onProgress?: (done: number, total: number) => void },
): Promise<{ customers: number; steps: number }> {
  let steps = 0;
  for (let first = 0; first < options.customers; first += DEMO_CUSTOMERS_PER_TRANSACTION) {
    const last = Math.min(options.customers, first + DEMO_CUSTOMERS_PER_TRANSACTION);
    const sequences = [];
    for (let i = first; i < last; i++) {
      // The last step settles the ledger at `now`, so balances read right after loading are current.
      const history = [...demoHistory(i, options.seed, options.now), { at: options.now, operation: settle }];
      steps += history.length;
      sequences.push({ customerId: demoCustomerId(i), steps: history });
    }
    await ledger.runSequences(sequences, "demo");
    options.onProgress?.(last, options.customers);
  }
  return { customers: options.customers, steps };
}

/** The use cases the showcase goes through, as the marketplace's requests would. */
export interface ShowcaseServices {
  clock: Clock;
  orders: OrderService;
  savings: SavingsService;
  reviews: ReviewService;
}

/** Who the showcase is about, and the ids of what it records (digits: Russian texts hold no Latin, R33). */
export const SHOWCASE = {
  /** R25 cashback: buys from the savings account; R22: reviews that order's two products. */
  cashbackCustomer: demoCustomerId(0),
  /** R25 interest: deposits, a withdrawal and last month's interest. */
  interestCustomer: demoCustomerId(1),
  orderId: "00001-7001",
  approvedReviewId: "5000001",
  awaitingReviewId: "5000002",
} as const;

const RUB = 100;

/**
 * What a visitor of `serve --demo` should find besides a year of points: R25 savings accounts (one
 * customer on interest, with last month paid; one on cashback, with an order paid from the account
 * and its cashback) and R22 reviews of that order (one approved, one awaiting moderation, overdue).
 * Everything goes through the use cases the HTTP routes call, so it is recorded as real requests are.
 */
export async function loadShowcase(s: ShowcaseServices, timeZone: string): Promise<void> {
  const now = s.clock.now().getTime();
  const ago = (days: number) => new Date(now - days * DAY);
  let n = 0;
  const request = (what: string): WriteRequest => {
    n += 1;
    return {
      idempotencyKey: `demo-${what}`,
      fingerprint: `demo-${what}`,
      requestId: `demo-${n}`,
      actor: "demo",
    };
  };
  const { cashbackCustomer: shopper, interestCustomer: saver, orderId } = SHOWCASE;
  const record = async (
    customerId: string,
    entryId: string,
    type: "deposit" | "withdrawal",
    rub: number,
    at: Date,
  ) => {
    const recorded = await s.savings.record(
      customerId,
      { entryId, type, amount: rub * RUB, occurredAt: at },
      "demo",
    );
    if (!recorded.ok) throw new Error(`demo savings entry ${entryId}: ${recorded.code}`);
  };

  // R25 interest: 50,000 RUB since 75 days ago, 20,000 of it withdrawn 10 days ago; last month is paid.
  await record(saver, "70001", "deposit", 50_000, ago(75));
  await record(saver, "70002", "withdrawal", 20_000, ago(10));
  await s.savings.payAll(calendarMonth(previousMonth(monthContaining(ago(0), timeZone).month), timeZone));

  // R25 cashback: 100,000 RUB deposited; an order paid from the account (the withdrawal the
  // marketplace reports for it), shipped and delivered: 3% of 5,500 RUB back as savings points.
  await s.savings.setMechanic(shopper, "cashback", request("mechanic"));
  await record(shopper, "70003", "deposit", 100_000, ago(30));
  const lines: CartLine[] = [
    {
      lineId: "1",
      sku: "1000101",
      sellerId: "12",
      category: "books",
      quantity: 1,
      unitPriceKop: 1_500 * RUB,
    },
    {
      lineId: "2",
      sku: "1000102",
      sellerId: "12",
      category: "electronics",
      quantity: 1,
      unitPriceKop: 4_000 * RUB,
    },
  ];
  await record(shopper, "70004", "withdrawal", 5_500, ago(20));
  const base = { orderId, customerId: shopper };
  const events = [
    {
      ...base,
      eventId: `${orderId}.1`,
      type: "placed" as const,
      occurredAt: ago(20),
      lines,
      paymentMethod: "savings_account" as const,
      spend: { bonus: 0, savings: 0, referral: 0 },
    },
    {
      ...base,
      eventId: `${orderId}.2`,
      type: "paid" as const,
      occurredAt: new Date(now - 20 * DAY + 60_000),
    },
    { ...base, eventId: `${orderId}.3`, type: "shipped" as const, occurredAt: ago(18) },
    { ...base, eventId: `${orderId}.4`, type: "delivered" as const, occurredAt: ago(15) },
  ];
  const answers = await s.orders.handleEvents(
    events.map((event) => ({ event, fingerprint: JSON.stringify(event) })),
    "demo",
  );
  const refused = answers.find((a) => a.outcome.status !== "applied");
  if (refused) throw new Error(`demo order event ${refused.outcome.eventId}: ${refused.outcome.status}`);

  // R22: the book reviewed with photos and approved (50 points); the headphones with a long text, 5
  // days ago and still awaiting moderation (10 points pending, overdue after 3 days).
  const review = (reviewId: string, sku: string, photoCount: number, days: number) =>
    s.reviews.report(
      {
        reviewId,
        customerId: shopper,
        sku,
        sellerId: "12",
        orderId,
        textLength: 320,
        photoCount,
        submittedAt: ago(days),
      },
      { fingerprint: `demo-review-${reviewId}`, requestId: `demo-review-${reviewId}`, actor: "demo" },
    );
  await review(SHOWCASE.approvedReviewId, "1000101", 2, 12);
  await review(SHOWCASE.awaitingReviewId, "1000102", 0, 5);
  await s.reviews.moderate(shopper, SHOWCASE.approvedReviewId, "approve", request("approve"));
}
