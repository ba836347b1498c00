/**
 * Model-based property test of the ledger (R3-R6, R13-R15, R20, R32): random sequences of credits,
 * holds, captures, releases, spends, refunds, clawbacks, adjustments, idempotent retries and clock
 * advances run against the LedgerService on a real database, and after every step the database is
 * checked against a small reference model written here (it never calls src/domain) and against the
 * ledger invariants in test/support/invariants.ts.
 *
 * The model's notion of time is the rules' one: a hold times out at its expiry (R20), a pending lot
 * becomes available at its available-from (R13) and then pays off debt (R14), a lot expires at its
 * expiry (R5), each at its own instant, whether or not anything ran then. At one instant, time-outs come
 * first (by hold id), then lots falling due (in the R4 spending order), then expiries; rules.md does not
 * say how to break such ties, this is the order src/domain/ledger chose.
 *
 * A failure prints the seed, path and replayPath, and the failing step with both sides' view.
 *
 * Environment:
 *   KOPILKA_MODEL_STEPS  steps to run in total (default 10000)
 *   KOPILKA_MODEL_SEED   this file's fast-check seed (default: the run's, KOPILKA_PROPERTY_SEED or
 *                        fresh; round r of runs uses seed + r, and fast-check prints it on failure)
 *   KOPILKA_MODEL_PATH, KOPILKA_MODEL_REPLAY  the `path` and the `replayPath=` a failure prints: with
 *                        KOPILKA_MODEL_SEED they replay exactly the reported counterexample
 *   KOPILKA_MODEL_SHRINK_SECONDS  time allowed for shrinking a failure (default 60)
 *
 * model-findings.test.ts keeps a minimal reproduction of each defect this test has found.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WriteRequest } from "../../src/app/ledger-service.js";
import { ON_POSTGRES } from "../support/database.js";
import {
  checkLedgerInvariants,
  checkLedgerInvariantsInSql,
  findLedgerViolations,
  type LedgerRows,
  loadLedgerRows,
  takesFollowSpendingOrder,
} from "../support/invariants.js";
import { ledgerHarness } from "../support/ledger.js";
import { assertAsyncProperty, PROPERTY_SEED } from "../support/property.js";
import { parseSeed } from "../support/property-seed.js";

const TARGET_STEPS = Number(process.env.KOPILKA_MODEL_STEPS ?? 10_000);
const SEED = process.env.KOPILKA_MODEL_SEED
  ? parseSeed(process.env.KOPILKA_MODEL_SEED, "KOPILKA_MODEL_SEED")
  : PROPERTY_SEED;
const PATH = process.env.KOPILKA_MODEL_PATH || undefined;
const REPLAY = process.env.KOPILKA_MODEL_REPLAY || undefined;
/** Every shrinking attempt replays a sequence on the database, so shrinking gets a time budget. */
const SHRINK_MS = Number(process.env.KOPILKA_MODEL_SHRINK_SECONDS ?? 60) * 1000;
const MAX_STEPS_PER_RUN = 120;

const MINUTE = 60_000;
const DAY = 86_400_000;
const EXPIRY_DAYS = 365;
const GRACE_DAYS = 30;
const HOLD_TIMEOUT_SECONDS = 1800;
const EXPIRING_WITHIN_DAYS = 30;
const START = Date.parse("2026-01-15T09:00:00.000Z");

const KINDS = ["bonus", "savings", "referral"] as const;
type Kind = (typeof KINDS)[number];
const SOURCES = [
  "purchase",
  "seller",
  "review",
  "friend_invite",
  "campaign",
  "savings_interest",
  "manager_programme",
  "adjustment",
] as const;
type Source = (typeof SOURCES)[number];
const FUNDER: Record<Source, string> = {
  purchase: "marketplace",
  seller: "seller:s-1",
  review: "marketplace",
  friend_invite: "marketplace",
  campaign: "campaign:black-friday",
  savings_interest: "savings_interest",
  manager_programme: "manager_programme",
  adjustment: "marketplace",
};
const REQUIRED_KIND: Partial<Record<Source, Kind>> = {
  savings_interest: "savings",
  manager_programme: "referral",
};

// ---------------------------------------------------------------------------------------------------
// The reference model.

interface MLot {
  /** The lot id once known (from the answer or the table); a provisional key that sorts last until then. */
  id: string;
  known: boolean;
  kind: Kind;
  amount: number;
  remaining: number;
  state: "pending" | "available";
  source: string;
  funder: string;
  reference: string | null;
  createdAt: number;
  availableFrom: number;
  expiresAt: number;
}

interface MTake {
  lot: MLot;
  amount: number;
  returned: number;
}

interface MHold {
  id: string;
  kind: Kind;
  amount: number;
  state: "active" | "captured" | "released";
  reason: "requested" | "timeout" | null;
  expiresAt: number;
  takes: MTake[];
}

interface MRedemption {
  id: string;
  kind: Kind;
  amount: number;
  refunded: number;
  takes: MTake[];
}

type Expected<T> = { ok: true; value: T } | { ok: false; codes: string[] };

const refusal = (...codes: string[]): { ok: false; codes: string[] } => ({ ok: false, codes });

let provisional = 0;

class Model {
  lots: MLot[] = [];
  holds = new Map<string, MHold>();
  redemptions = new Map<string, MRedemption>();
  debt: Record<Kind, number> = { bonus: 0, savings: 0, referral: 0 };

  constructor(public now: number) {}

  private order(a: MLot, b: MLot): number {
    return a.expiresAt - b.expiresAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  spendable(kind: Kind): MLot[] {
    return this.lots
      .filter((l) => l.kind === kind && l.state === "available" && l.remaining > 0)
      .sort((a, b) => this.order(a, b));
  }

  available(kind: Kind): number {
    return this.spendable(kind).reduce((s, l) => s + l.remaining, 0);
  }

  private newLot(fields: Omit<MLot, "id" | "known">): MLot {
    provisional += 1;
    const lot: MLot = { id: `lot_~${String(provisional).padStart(12, "0")}`, known: false, ...fields };
    this.lots.push(lot);
    return lot;
  }

  private take(kind: Kind, amount: number): MTake[] {
    const takes: MTake[] = [];
    let left = amount;
    for (const lot of this.spendable(kind)) {
      if (left === 0) break;
      const n = Math.min(left, lot.remaining);
      lot.remaining -= n;
      left -= n;
      takes.push({ lot, amount: n, returned: 0 });
    }
    if (left !== 0) throw new Error("model: took more than available");
    return takes;
  }

  /** R15: back into the lots, last taken first; an expired lot's share comes back in a grace lot. */
  private giveBack(kind: Kind, takes: MTake[], amount: number, reference: string, at: number): number | null {
    let left = amount;
    let graceUntil: number | null = null;
    for (let i = takes.length - 1; i >= 0 && left > 0; i--) {
      const t = takes[i] as MTake;
      const back = Math.min(left, t.amount - t.returned);
      if (back === 0) continue;
      t.returned += back;
      left -= back;
      if (t.lot.expiresAt > at) {
        t.lot.remaining += back;
      } else {
        graceUntil = at + GRACE_DAYS * DAY;
        this.newLot({
          kind,
          amount: back,
          remaining: back,
          state: "available",
          source: "refund_grace",
          funder: t.lot.funder,
          reference,
          createdAt: at,
          availableFrom: at,
          expiresAt: graceUntil,
        });
      }
    }
    return graceUntil;
  }

  private offsetDebt(lot: MLot): void {
    const n = Math.min(this.debt[lot.kind], lot.remaining);
    lot.remaining -= n;
    this.debt[lot.kind] -= n;
  }

  private static isAccrual(source: string): boolean {
    return source !== "adjustment" && source !== "refund_grace";
  }

  /** The instants at which something falls due, up to and including `until`. */
  dueInstants(until: number): number[] {
    const times = new Set<number>();
    for (const h of this.holds.values())
      if (h.state === "active" && h.expiresAt <= until) times.add(h.expiresAt);
    for (const l of this.lots) {
      if (l.state === "pending" && l.availableFrom <= until) times.add(l.availableFrom);
      if (l.expiresAt <= until && (l.state === "pending" || l.remaining > 0)) times.add(l.expiresAt);
    }
    return [...times].sort((a, b) => a - b);
  }

  /** Moves time forward, handling every due event at its own instant (R5, R13, R14, R20). */
  advanceTo(target: number): void {
    for (;;) {
      const t = this.dueInstants(target)[0];
      if (t === undefined) break;
      const timedOut = [...this.holds.values()].filter((h) => h.state === "active" && h.expiresAt <= t);
      for (const h of timedOut.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        this.giveBack(h.kind, h.takes, h.amount, h.id, t);
        h.state = "released";
        h.reason = "timeout";
      }
      const due = this.lots
        .filter((l) => l.state === "pending" && l.availableFrom <= t)
        .sort((a, b) => a.availableFrom - b.availableFrom || this.order(a, b));
      for (const lot of due) {
        lot.state = "available";
        if (Model.isAccrual(lot.source)) this.offsetDebt(lot);
      }
      for (const l of this.lots) if (l.state === "available" && l.expiresAt <= t) l.remaining = 0;
    }
    this.now = Math.max(this.now, target);
  }

  credit(input: {
    kind: Kind;
    amount: number;
    source: Source;
    availableFrom: number | null;
    expiresAt: number | null;
    reference: string;
  }): Expected<MLot> {
    const required = REQUIRED_KIND[input.source];
    if (required && required !== input.kind) return refusal("SOURCE_KIND_MISMATCH");
    const availableFrom =
      input.availableFrom !== null && input.availableFrom > this.now ? input.availableFrom : this.now;
    const expiresAt = input.expiresAt ?? availableFrom + EXPIRY_DAYS * DAY;
    if (expiresAt <= availableFrom) return refusal("INVALID_DATES");
    const pending = availableFrom > this.now;
    const lot = this.newLot({
      kind: input.kind,
      amount: input.amount,
      remaining: input.amount,
      state: pending ? "pending" : "available",
      source: input.source,
      funder: FUNDER[input.source],
      reference: input.reference,
      createdAt: this.now,
      availableFrom,
      expiresAt,
    });
    if (!pending && Model.isAccrual(input.source)) this.offsetDebt(lot);
    return { ok: true, value: lot };
  }

  hold(id: string, kind: Kind, amount: number, timeoutSeconds: number | null): Expected<MHold> {
    if (this.holds.has(id)) return refusal("HOLD_ALREADY_EXISTS");
    // An order id is either spent at once or held, never both.
    if (this.redemptions.has(id)) return refusal("HOLD_ALREADY_EXISTS", "REDEMPTION_ALREADY_EXISTS");
    if (this.available(kind) < amount) return refusal("INSUFFICIENT_POINTS");
    const hold: MHold = {
      id,
      kind,
      amount,
      state: "active",
      reason: null,
      expiresAt: this.now + (timeoutSeconds ?? HOLD_TIMEOUT_SECONDS) * 1000,
      takes: this.take(kind, amount),
    };
    this.holds.set(id, hold);
    return { ok: true, value: hold };
  }

  capture(id: string): Expected<MHold> {
    const hold = this.holds.get(id);
    if (!hold) return refusal("HOLD_NOT_FOUND");
    if (hold.state === "released")
      return refusal(hold.reason === "timeout" ? "HOLD_EXPIRED" : "HOLD_NOT_ACTIVE");
    if (hold.state === "active") {
      hold.state = "captured";
      this.redemptions.set(id, {
        id,
        kind: hold.kind,
        amount: hold.amount,
        refunded: 0,
        takes: hold.takes.map((t) => ({ lot: t.lot, amount: t.amount, returned: 0 })),
      });
    }
    return { ok: true, value: hold };
  }

  release(id: string): Expected<MHold> {
    const hold = this.holds.get(id);
    if (!hold) return refusal("HOLD_NOT_FOUND");
    if (hold.state === "released")
      return hold.reason === "timeout" ? refusal("HOLD_EXPIRED") : { ok: true, value: hold };
    if (hold.state === "captured") return refusal("HOLD_NOT_ACTIVE");
    this.giveBack(hold.kind, hold.takes, hold.amount, hold.id, this.now);
    hold.state = "released";
    hold.reason = "requested";
    return { ok: true, value: hold };
  }

  spend(id: string, kind: Kind, amount: number): Expected<MRedemption> {
    if (this.redemptions.has(id) || this.holds.has(id)) return refusal("REDEMPTION_ALREADY_EXISTS");
    if (this.available(kind) < amount) return refusal("INSUFFICIENT_POINTS");
    const r: MRedemption = { id, kind, amount, refunded: 0, takes: this.take(kind, amount) };
    this.redemptions.set(id, r);
    return { ok: true, value: r };
  }

  refund(id: string, amount: number): Expected<{ redemption: MRedemption; graceUntil: number | null }> {
    const r = this.redemptions.get(id);
    if (!r) return refusal("REDEMPTION_NOT_FOUND");
    if (amount > r.amount - r.refunded) return refusal("REFUND_EXCEEDS_REDEEMED");
    const graceUntil = this.giveBack(r.kind, r.takes, amount, r.id, this.now);
    r.refunded += amount;
    return { ok: true, value: { redemption: r, graceUntil } };
  }

  /** R13, R14: the named lots first (pending points cancelled, available ones clawed back), then R4. */
  clawback(
    kind: Kind,
    amount: number,
    lotIds: string[],
  ): Expected<{ cancelledPending: number; clawedBack: number; shortfall: number; debtAfter: number }> {
    const origins: MLot[] = [];
    for (const id of lotIds) {
      const lot = this.lots.find((l) => l.known && l.id === id);
      if (!lot || lot.kind !== kind) return refusal("LOT_NOT_FOUND");
      origins.push(lot);
    }
    let left = amount;
    let cancelledPending = 0;
    let clawedBack = 0;
    const others = this.spendable(kind).filter((l) => !origins.includes(l));
    for (const lot of [...origins, ...others]) {
      if (left === 0) break;
      const n = Math.min(left, lot.remaining);
      if (n === 0) continue;
      lot.remaining -= n;
      left -= n;
      if (lot.state === "pending") cancelledPending += n;
      else clawedBack += n;
    }
    this.debt[kind] += left;
    return { ok: true, value: { cancelledPending, clawedBack, shortfall: left, debtAfter: this.debt[kind] } };
  }

  adjust(kind: Kind, amount: number): Expected<null> {
    if (amount > 0) {
      this.newLot({
        kind,
        amount,
        remaining: amount,
        state: "available",
        source: "adjustment",
        funder: "marketplace",
        reference: null,
        createdAt: this.now,
        availableFrom: this.now,
        expiresAt: this.now + EXPIRY_DAYS * DAY,
      });
      return { ok: true, value: null };
    }
    if (this.available(kind) < -amount) return refusal("INSUFFICIENT_POINTS");
    this.take(kind, -amount);
    return { ok: true, value: null };
  }

  balance(kind: Kind) {
    const horizon = this.now + EXPIRING_WITHIN_DAYS * DAY;
    let available = 0;
    let pending = 0;
    let soonAmount = 0;
    let soonDate: number | null = null;
    for (const l of this.lots) {
      if (l.kind !== kind) continue;
      if (l.state === "pending") {
        pending += l.remaining;
        continue;
      }
      available += l.remaining;
      if (l.remaining > 0 && l.expiresAt <= horizon) {
        soonAmount += l.remaining;
        if (soonDate === null || l.expiresAt < soonDate) soonDate = l.expiresAt;
      }
    }
    let held = 0;
    for (const h of this.holds.values()) if (h.kind === kind && h.state === "active") held += h.amount;
    return {
      available,
      pending,
      held,
      debt: this.debt[kind],
      expiringSoon: {
        amount: soonAmount,
        nearestDate: soonDate === null ? null : new Date(soonDate).toISOString(),
        withinDays: EXPIRING_WITHIN_DAYS,
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Steps.

/**
 * An amount, or one relative to what the model says is available / refundable: a percentage of it, all of
 * it, or one more than all of it (to hit the edges).
 */
type Amount = number | { percent: number } | "all" | "all+1";

type Step =
  | {
      t: "credit";
      source: Source;
      kind: Kind;
      forceKind: boolean;
      amount: number;
      pendingMinutes: number | null;
      expiresInMinutes: number | null;
    }
  | { t: "advance"; seconds: number; settle: boolean }
  | { t: "hold"; order: number; kind: Kind; amount: Amount; timeoutSeconds: number | null }
  /** `recent`: the n-th most recent hold (or redemption) the model knows; null: the order id `order`. */
  | { t: "capture"; order: number; recent: number | null }
  | { t: "release"; order: number; recent: number | null }
  | { t: "spend"; order: number; kind: Kind; amount: Amount }
  | { t: "refund"; order: number; recent: number | null; amount: Amount }
  /** `lots`: credited lots to name (indexes into the credits so far); `unknownLot`: also name a lot that does not exist. */
  | { t: "clawback"; kind: Kind; amount: Amount; lots: number[]; sameKind: boolean; unknownLot: boolean }
  | { t: "adjust"; kind: Kind; amount: number | "-all" | "-all-1" }
  | { t: "retry" }
  | { t: "conflict" };

const kindArb = fc.constantFrom(...KINDS);
const percentArb = fc.record({ percent: fc.integer({ min: 1, max: 100 }) });
const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 500 }) },
  { weight: 5, arbitrary: percentArb },
  { weight: 1, arbitrary: fc.constant("all" as const) },
  { weight: 1, arbitrary: fc.constant("all+1" as const) },
);
const orderArb = fc.integer({ min: 0, max: 15 });
const recentArb = fc.option(fc.nat({ max: 4 }), { freq: 5 });

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("credit" as const),
      source: fc.constantFrom(...SOURCES),
      kind: kindArb,
      forceKind: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
      amount: fc.integer({ min: 1, max: 500 }),
      // Round offsets are common, so that lots fall due at the same instant.
      pendingMinutes: fc.option(
        fc.oneof(fc.integer({ min: 1, max: 10 * 24 * 60 }), fc.constantFrom(60, 24 * 60, 3 * 24 * 60)),
        { freq: 2 },
      ),
      expiresInMinutes: fc.option(
        fc.oneof(
          { weight: 1, arbitrary: fc.integer({ min: -600, max: 0 }) },
          { weight: 9, arbitrary: fc.integer({ min: 1, max: 120 * 24 * 60 }) },
        ),
        { freq: 2 },
      ),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("advance" as const),
      seconds: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 180 }).map((m) => m * 60) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 72 }).map((h) => h * 3600) },
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }).map((d) => d * 86400) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((d) => d * 86400) },
      ),
      settle: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("hold" as const),
      order: orderArb,
      kind: kindArb,
      amount: amountArb,
      timeoutSeconds: fc.option(fc.integer({ min: 60, max: 4 * 3600 }), { freq: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("capture" as const), order: orderArb, recent: recentArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("release" as const), order: orderArb, recent: recentArb }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("spend" as const),
      order: orderArb,
      kind: kindArb,
      amount: amountArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("refund" as const),
      order: orderArb,
      recent: recentArb,
      amount: fc.oneof(
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 300 }) },
        { weight: 5, arbitrary: percentArb },
        { weight: 2, arbitrary: fc.constant("all" as const) },
        { weight: 1, arbitrary: fc.constant("all+1" as const) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("clawback" as const),
      kind: kindArb,
      amount: amountArb,
      lots: fc.array(fc.nat({ max: 1000 }), { maxLength: 2 }),
      sameKind: fc.integer({ min: 0, max: 5 }).map((n) => n !== 0),
      unknownLot: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("adjust" as const),
      kind: kindArb,
      amount: fc.oneof(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: -300, max: -1 }),
        fc.constantFrom("-all" as const, "-all-1" as const),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "retry" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "conflict" as const }) },
);

// ---------------------------------------------------------------------------------------------------
// The driver: runs one step on the service and on the model, then compares.

type Harness = Awaited<ReturnType<typeof ledgerHarness>>;
type Answer = { ok: boolean; code?: string; value?: unknown; replayed: boolean; requestId: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** JSON with object keys sorted, so that comparisons do not depend on key order (jsonb reorders them). */
function canon(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

const byText =
  <T>(key: (v: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

class StepFailure extends Error {}

/** How often each step ended how (`spend: ok`, `spend: INSUFFICIENT_POINTS` ...), to show what was covered. */
const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

class Driver {
  readonly model: Model;
  /** Lots the customer was credited, in order: clawbacks name one of them. */
  private credited: MLot[] = [];
  private requests = 0;
  private last: { call: (r: WriteRequest) => Promise<Answer>; request: WriteRequest; answer: Answer } | null =
    null;
  /** True after a clock advance the service has not caught up with yet (nothing was written since). */
  private lagging = false;
  /** A hold or spend that just took points: its takes are checked against R4 after the step. */
  private takesToCheck: { table: "hold" | "redemption"; id: string } | null = null;
  executed = 0;

  constructor(
    private readonly h: Harness,
    private readonly customer: string,
  ) {
    this.model = new Model(h.clock.now().getTime());
  }

  private fail(message: string): never {
    throw new StepFailure(message);
  }

  private request(): WriteRequest {
    this.requests += 1;
    return {
      idempotencyKey: `${this.customer}-k${this.requests}`,
      fingerprint: `${this.customer}-f${this.requests}`,
      requestId: `${this.customer}-r${this.requests}`,
      actor: "model-test",
    };
  }

  private async send(call: (r: WriteRequest) => Promise<Answer>): Promise<Answer> {
    const request = this.request();
    const answer = await call(request);
    if (answer.replayed) this.fail(`a fresh request was answered as a replay: ${JSON.stringify(answer)}`);
    count(`${this.currentStep}: ${answer.ok ? "ok" : answer.code}`);
    this.last = { call, request, answer };
    if (answer.ok) this.lagging = false;
    return answer;
  }

  /** Holds and spends share order ids, so that collisions happen. */
  private orderId(order: number): string {
    return `o${order}`;
  }

  private resolve(amount: Amount, base: number): number {
    if (amount === "all") return Math.max(1, base);
    if (amount === "all+1") return base + 1;
    if (typeof amount === "object") return Math.max(1, Math.floor((base * amount.percent) / 100));
    return amount;
  }

  /** The `recent`-th most recent of `ids`, or the order id when there is none or none is asked for. */
  private pick(ids: Iterable<string>, recent: number | null, fallback: string): string {
    const all = [...ids];
    return recent === null || all.length === 0
      ? fallback
      : (all[all.length - 1 - (recent % all.length)] as string);
  }

  private expectOutcome<T>(
    what: string,
    expected: Expected<T>,
    answer: Answer,
  ): answer is Answer & { ok: true } {
    if (expected.ok && !answer.ok)
      this.fail(`${what}: the model expects success, the service refused: ${JSON.stringify(answer)}`);
    if (!expected.ok) {
      if (answer.ok) {
        this.fail(
          `${what}: the model expects ${expected.codes.join(" or ")}, the service answered ${JSON.stringify(answer)}`,
        );
      }
      if (!expected.codes.includes(answer.code ?? "")) {
        this.fail(
          `${what}: the model expects ${expected.codes.join(" or ")}, the service refused with ${answer.code}`,
        );
      }
    }
    return answer.ok;
  }

  private same(what: string, actual: unknown, expected: unknown): void {
    const a = canon(actual);
    const e = canon(expected);
    if (a !== e) this.fail(`${what}:\n  service: ${a}\n  model:   ${e}`);
  }

  private currentStep = "";

  async run(step: Step): Promise<void> {
    const { h, model, customer } = this;
    this.currentStep = step.t;
    if (step.t === "advance" || step.t === "retry" || step.t === "conflict") count(step.t);
    const s = h.service;
    switch (step.t) {
      case "credit": {
        const required = REQUIRED_KIND[step.source];
        const kind = required && !step.forceKind ? required : step.kind;
        const availableFrom = step.pendingMinutes === null ? null : model.now + step.pendingMinutes * MINUTE;
        const expiresAt =
          step.expiresInMinutes === null
            ? null
            : (availableFrom ?? model.now) + step.expiresInMinutes * MINUTE;
        const reference = `ref-${this.requests + 1}`;
        const expected = model.credit({
          kind,
          amount: step.amount,
          source: step.source,
          availableFrom,
          expiresAt,
          reference,
        });
        const answer = await this.send((r) =>
          s.credit(
            customer,
            {
              kind,
              amount: step.amount,
              source: step.source,
              funder: FUNDER[step.source],
              availableFrom: availableFrom === null ? undefined : new Date(availableFrom),
              expiresAt: expiresAt === null ? undefined : new Date(expiresAt),
              reference,
            },
            r,
          ),
        );
        if (this.expectOutcome("credit", expected, answer) && expected.ok) {
          const lot = expected.value;
          const view = answer.value as { lotId: string };
          lot.id = view.lotId;
          lot.known = true;
          this.credited.push(lot);
          this.same("credit answer", view, {
            lotId: lot.id,
            kind: lot.kind,
            amount: lot.amount,
            remaining: lot.remaining,
            source: lot.source,
            funder: lot.funder,
            state: lot.state,
            availableFrom: iso(lot.availableFrom),
            expiresAt: iso(lot.expiresAt),
            reference: lot.reference,
          });
        }
        return;
      }
      case "advance": {
        const target = model.now + step.seconds * 1000;
        h.clock.set(new Date(target));
        model.advanceTo(target);
        this.lagging = true;
        if (step.settle) await this.compareBalance();
        return;
      }
      case "hold": {
        const id = this.orderId(step.order);
        const amount = this.resolve(step.amount, model.available(step.kind));
        const timeoutSeconds = step.timeoutSeconds;
        const expected = model.hold(id, step.kind, amount, timeoutSeconds);
        const answer = await this.send((r) =>
          s.hold(
            customer,
            { holdId: id, kind: step.kind, amount, timeoutSeconds: timeoutSeconds ?? undefined },
            r,
          ),
        );
        if (this.expectOutcome(`hold ${id} of ${amount} ${step.kind}`, expected, answer) && expected.ok) {
          this.same("hold answer", answer.value, this.holdView(expected.value));
          this.takesToCheck = { table: "hold", id };
        }
        return;
      }
      case "capture":
      case "release": {
        const id = this.pick(model.holds.keys(), step.recent, this.orderId(step.order));
        const expected = step.t === "capture" ? model.capture(id) : model.release(id);
        const answer = await this.send((r) =>
          step.t === "capture" ? s.capture(customer, id, r) : s.release(customer, id, r),
        );
        if (this.expectOutcome(`${step.t} ${id}`, expected, answer) && expected.ok) {
          this.same(`${step.t} answer`, answer.value, this.holdView(expected.value));
        }
        return;
      }
      case "spend": {
        const id = this.orderId(step.order);
        const amount = this.resolve(step.amount, model.available(step.kind));
        const expected = model.spend(id, step.kind, amount);
        const answer = await this.send((r) =>
          s.spend(customer, { redemptionId: id, kind: step.kind, amount }, r),
        );
        if (this.expectOutcome(`spend ${id} of ${amount} ${step.kind}`, expected, answer) && expected.ok) {
          this.same("spend answer", answer.value, { redemptionId: id, kind: step.kind, amount, refunded: 0 });
          this.takesToCheck = { table: "redemption", id };
        }
        return;
      }
      case "refund": {
        const id = this.pick(model.redemptions.keys(), step.recent, this.orderId(step.order));
        const r = model.redemptions.get(id);
        const amount = this.resolve(step.amount, r ? r.amount - r.refunded : 0);
        const expected = model.refund(id, amount);
        const answer = await this.send((req) => s.refund(customer, { redemptionId: id, amount }, req));
        if (this.expectOutcome(`refund ${amount} of ${id}`, expected, answer) && expected.ok) {
          const { redemption, graceUntil } = expected.value;
          this.same("refund answer", answer.value, {
            redemptionId: id,
            kind: redemption.kind,
            amount: redemption.amount,
            refunded: redemption.refunded,
            graceUntil: graceUntil === null ? null : iso(graceUntil),
          });
        }
        return;
      }
      case "clawback": {
        const origins = step.lots.flatMap((n) => {
          const lot = this.credited[n % Math.max(1, this.credited.length)];
          return lot ? [lot] : [];
        });
        const kind = origins[0] && step.sameKind ? origins[0].kind : step.kind;
        const pendingNamed = [...new Set(origins)].filter((l) => l.kind === kind && l.state === "pending");
        const amount = this.resolve(
          step.amount,
          model.available(kind) + pendingNamed.reduce((n, l) => n + l.remaining, 0),
        );
        const lotIds = [...origins.map((l) => l.id), ...(step.unknownLot ? ["lot_does_not_exist"] : [])];
        const expected = model.clawback(kind, amount, lotIds);
        const answer = await this.send((r) =>
          s.clawback(
            customer,
            {
              kind,
              amount,
              lotIds: lotIds.length > 0 ? lotIds : undefined,
              reference: `return-${this.requests + 1}`,
            },
            r,
          ),
        );
        if (
          this.expectOutcome(`clawback ${amount} ${kind} from ${JSON.stringify(lotIds)}`, expected, answer) &&
          expected.ok
        ) {
          this.same("clawback answer", answer.value, expected.value);
        }
        return;
      }
      case "adjust": {
        const available = model.available(step.kind);
        const amount =
          step.amount === "-all"
            ? -Math.max(1, available)
            : step.amount === "-all-1"
              ? -(available + 1)
              : step.amount;
        const expected = model.adjust(step.kind, amount);
        const answer = await this.send((r) =>
          s.adjust(customer, { kind: step.kind, amount, reason: "model test" }, r),
        );
        if (this.expectOutcome(`adjust ${amount} ${step.kind}`, expected, answer)) {
          this.same("adjust answer", answer.value, { kind: step.kind, amount, reason: "model test" });
        }
        return;
      }
      case "retry":
      case "conflict": {
        const last = this.last;
        if (!last) return;
        const before = await this.movementCount();
        if (step.t === "retry") {
          const again = await last.call(last.request);
          this.same("a retry with the same key and request", again, { ...last.answer, replayed: true });
        } else {
          const again = await last.call({
            ...last.request,
            fingerprint: `${last.request.fingerprint}-other`,
          });
          if (again.ok || again.code !== "IDEMPOTENCY_CONFLICT") {
            this.fail(`the same key with another request was answered ${JSON.stringify(again)}`);
          }
        }
        const after = await this.movementCount();
        if (after !== before) this.fail(`a ${step.t} wrote ${after - before} movements`);
        return;
      }
    }
  }

  private holdView(hold: MHold) {
    return {
      holdId: hold.id,
      kind: hold.kind,
      amount: hold.amount,
      state: hold.state,
      releaseReason: hold.reason,
      expiresAt: iso(hold.expiresAt),
    };
  }

  private async movementCount(): Promise<number> {
    const row = await this.h.database.db
      .selectFrom("movements")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("customer_id", "=", this.customer)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** R4, from the takes the hold or redemption stored and the lots right after it. */
  private checkSpendingOrder(rows: LedgerRows, table: "hold" | "redemption", id: string): void {
    const row =
      table === "hold"
        ? rows.holds.find((r) => r.hold_id === id)
        : rows.redemptions.find((r) => r.redemption_id === id);
    if (!row) this.fail(`${table} ${id} was accepted but not stored`);
    const takes = row.take_lot_ids.map((lotId, i) => ({ lotId, amount: row.take_amounts[i] ?? 0 }));
    const violations = takesFollowSpendingOrder(rows.lots, row.kind, takes, this.h.clock.now());
    if (violations.length > 0) this.fail(`${table} ${id}: ${violations.join("\n")}`);
  }

  /** R6: the service's balance (which settles what is due) equals the model's. */
  private async compareBalance(): Promise<void> {
    const balance = await this.h.service.balance(this.customer);
    this.lagging = false;
    for (const kind of KINDS) this.same(`balance of ${kind}`, balance.kinds[kind], this.model.balance(kind));
  }

  /** After every step: the ledger invariants, and when the service is up to date, the model. */
  async verify(): Promise<void> {
    const rows = await loadLedgerRows(this.h.database.db, this.customer);
    const violations = findLedgerViolations(rows);
    if (violations.length > 0) this.fail(`ledger invariants broken:\n${violations.join("\n")}`);
    if (this.takesToCheck) {
      this.checkSpendingOrder(rows, this.takesToCheck.table, this.takesToCheck.id);
      this.takesToCheck = null;
    }
    if (this.lagging) return;
    await this.compareBalance();
    this.compareTables(rows);
  }

  /** Lots, holds and redemptions in the tables equal the model's, field by field. */
  private compareTables(rows: LedgerRows): void {
    const { model } = this;
    const lots = [...rows.lots].sort(byText((r) => r.lot_id));
    // Lots the model does not know the id of yet (adjustments, grace lots) are matched by their fields.
    const knownIds = new Set(model.lots.filter((l) => l.known).map((l) => l.id));
    const signature = (l: {
      kind: string;
      amount: number;
      remaining: number;
      state: string;
      source: string;
      reference: string | null;
      expiresAt: number;
      createdAt: number;
    }) =>
      JSON.stringify([
        l.kind,
        l.amount,
        l.remaining,
        l.state,
        l.source,
        l.reference,
        l.expiresAt,
        l.createdAt,
      ]);
    const unknownRows = lots.filter((r) => !knownIds.has(r.lot_id));
    for (const lot of model.lots.filter((l) => !l.known)) {
      const sig = signature(lot);
      const i = unknownRows.findIndex(
        (r) =>
          signature({
            ...r,
            expiresAt: r.expires_at.getTime(),
            createdAt: r.created_at.getTime(),
          }) === sig,
      );
      const row = unknownRows[i];
      if (!row) {
        this.fail(
          `the model has a lot the table lacks: ${sig}\n  unmatched rows: ${JSON.stringify(
            unknownRows.map((r) =>
              signature({ ...r, expiresAt: r.expires_at.getTime(), createdAt: r.created_at.getTime() }),
            ),
          )}`,
        );
      }
      unknownRows.splice(i, 1);
      lot.id = row.lot_id;
      lot.known = true;
    }
    if (unknownRows.length > 0)
      this.fail(`the table has lots the model lacks: ${JSON.stringify(unknownRows)}`);
    const asRow = (l: MLot) => [
      l.id,
      l.kind,
      l.amount,
      l.remaining,
      l.state,
      l.source,
      l.funder,
      l.reference,
      iso(l.createdAt),
      iso(l.availableFrom),
      iso(l.expiresAt),
    ];
    this.same(
      "lots",
      lots.map((r) => [
        r.lot_id,
        r.kind,
        r.amount,
        r.remaining,
        r.state,
        r.source,
        r.funder,
        r.reference,
        r.created_at.toISOString(),
        r.available_from.toISOString(),
        r.expires_at.toISOString(),
      ]),
      [...model.lots].sort(byText((l) => l.id)).map(asRow),
    );
    const holds = [...rows.holds].sort(byText((r) => r.hold_id));
    const takes = (t: MTake[]) => t.map((x) => [x.lot.id, x.amount, x.returned]);
    this.same(
      "holds",
      holds.map((r) => [
        r.hold_id,
        r.kind,
        r.amount,
        r.state,
        r.release_reason,
        r.expires_at.toISOString(),
        r.take_lot_ids.map((id, i) => [id, r.take_amounts[i], r.take_returned[i]]),
      ]),
      [...model.holds.values()]
        .sort(byText((x) => x.id))
        .map((x) => [x.id, x.kind, x.amount, x.state, x.reason, iso(x.expiresAt), takes(x.takes)]),
    );
    const redemptions = [...rows.redemptions].sort(byText((r) => r.redemption_id));
    this.same(
      "redemptions",
      redemptions.map((r) => [
        r.redemption_id,
        r.kind,
        r.amount,
        r.refunded,
        r.take_lot_ids.map((id, i) => [id, r.take_amounts[i], r.take_returned[i]]),
      ]),
      [...model.redemptions.values()]
        .sort(byText((x) => x.id))
        .map((x) => [x.id, x.kind, x.amount, x.refunded, takes(x.takes)]),
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// fast-check commands: one per step, so that a failing run is shrunk over the steps that actually ran.

interface Run {
  driver: Driver;
  customer: string;
  index: number;
  onStep: () => void;
}

class StepCommand implements fc.AsyncCommand<Run, Harness> {
  constructor(readonly step: Step) {}

  check(): boolean {
    return true;
  }

  async run(run: Run, h: Harness): Promise<void> {
    const i = run.index++;
    try {
      await run.driver.run(this.step);
      await run.driver.verify();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(
        `step ${i} ${this.toString()} of customer ${run.customer} at ${h.clock.now().toISOString()}: ${message}`,
        { cause: e },
      );
    } finally {
      run.onStep();
    }
  }

  toString(): string {
    return JSON.stringify(this.step);
  }
}

const commandsArb = fc.commands(
  [
    stepArb.map(
      (step) => new StepCommand(step),
      (c) => (c as StepCommand).step,
    ),
  ],
  { maxCommands: MAX_STEPS_PER_RUN, size: "max", ...(REPLAY !== undefined ? { replayPath: REPLAY } : {}) },
);

// ---------------------------------------------------------------------------------------------------

describe(`ledger model (${ON_POSTGRES ? "PostgreSQL" : "PGlite"})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await ledgerHarness();
  });
  afterAll(async () => {
    await h?.database.drop();
  });

  it(
    `random operation sequences agree with the reference model and keep the ledger invariants (${TARGET_STEPS} steps)`,
    async () => {
      let executed = 0;
      let runs = 0;
      const started = Date.now();
      let firstFailure: number | null = null;
      const property = fc.asyncProperty(commandsArb, async (commands) => {
        // Past the shrinking budget every further candidate "passes", so fast-check stops shrinking at
        // once and reports the smallest failing sequence found so far.
        if (firstFailure !== null && Date.now() - firstFailure > SHRINK_MS) return;
        runs += 1;
        const customer = `model-${runs}`;
        try {
          h.clock.set(new Date(START));
          const driver = new Driver(h, customer);
          const run: Run = { driver, customer, index: 0, onStep: () => executed++ };
          await fc.asyncModelRun(() => ({ model: run, real: h }), commands);
          // The same invariants once more, computed by SQL alone.
          const inSql = await checkLedgerInvariantsInSql(h.database.db, customer);
          if (inSql.length > 0)
            throw new Error(`ledger invariants (SQL) broken for ${customer}:\n${inSql.join("\n")}`);
          if (runs % 50 === 0) {
            const all = await checkLedgerInvariants(h.database.db);
            if (all.length > 0)
              throw new Error(`ledger invariants broken across customers:\n${all.join("\n")}`);
          }
        } catch (e) {
          firstFailure ??= Date.now();
          throw e;
        }
      });
      // Runs until the step budget is spent: each round's runs are sized from what is still missing.
      for (let round = 0; executed < TARGET_STEPS; round++) {
        const numRuns = Math.max(1, Math.ceil((TARGET_STEPS - executed) / (MAX_STEPS_PER_RUN / 2)));
        await assertAsyncProperty(property, {
          numRuns,
          seed: SEED + round,
          ...(PATH !== undefined && round === 0 ? { path: PATH } : {}),
        });
      }
      expect(await checkLedgerInvariants(h.database.db)).toEqual([]);
      expect(await checkLedgerInvariantsInSql(h.database.db)).toEqual([]);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `ledger model: ${executed} steps in ${runs} runs on ${ON_POSTGRES ? "PostgreSQL" : "PGlite"} in ${seconds} s`,
      );
      console.log(
        `outcomes: ${[...outcomes.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}`,
      );
      expect(executed).toBeGreaterThanOrEqual(TARGET_STEPS);
    },
    30 * 60_000,
  );
});
