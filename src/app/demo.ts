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
import type { LedgerService, Step } from "./ledger-service.js";

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
