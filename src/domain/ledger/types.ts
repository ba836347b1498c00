import type { PointKind } from "../kinds.js";
import type { LocalizedText } from "../text.js";
import type { Funder } from "./accounts.js";
import type { ExplanationRef } from "./explain.js";

/** Where points came from; R2 ties some sources to one kind. */
export const CREDIT_SOURCES = [
  "purchase",
  "seller",
  "review",
  "friend_invite",
  "campaign",
  "savings_interest",
  "savings_cashback",
  "manager_programme",
  "adjustment",
  "refund_grace",
] as const;
export type CreditSource = (typeof CREDIT_SOURCES)[number];

/** R3: every credit creates a lot. */
export interface Lot {
  lotId: string;
  kind: PointKind;
  amount: number;
  remaining: number;
  source: CreditSource;
  funder: Funder;
  state: "pending" | "available";
  createdAt: Date;
  availableFrom: Date;
  expiresAt: Date;
  reference: string | null;
}

/** Which lot a hold or a redemption took points from, and how many went back since. */
export interface LotTake {
  lotId: string;
  amount: number;
  returned: number;
}

/** R20: points reserved for an unpaid order. */
export interface Hold {
  holdId: string;
  kind: PointKind;
  amount: number;
  state: "active" | "captured" | "released";
  releaseReason: "requested" | "timeout" | null;
  createdAt: Date;
  expiresAt: Date;
  takes: LotTake[];
}

/** Points spent (a captured hold or a direct spend); refunds (R15) return into its lots. */
export interface Redemption {
  redemptionId: string;
  kind: PointKind;
  amount: number;
  refunded: number;
  createdAt: Date;
  takes: LotTake[];
}

export interface Posting {
  account: string;
  amount: number;
}

export const MOVEMENT_TYPES = [
  "credit",
  "make_available",
  "debt_offset",
  "hold",
  "capture",
  "release",
  "spend",
  "expire",
  "clawback",
  "refund",
  "adjust",
] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** R33: what a customer reads about a movement, in Russian and English. */
export type Explanation = LocalizedText;

/** R32: a movement is a set of postings that nets to zero; lotDeltas say which lots it touched. */
export interface Movement {
  movementId: string;
  customerId: string;
  kind: PointKind;
  type: MovementType;
  postings: Posting[];
  lotDeltas: { lotId: string; delta: number }[];
  reference: string | null;
  /** R33: rendered in Russian and English when read (renderExplanation). */
  explanation: ExplanationRef;
  occurredAt: Date;
  /** R34: "clock" for what time alone caused (availability, expiry, hold time-outs), recorded as system. */
  causedBy: "request" | "clock";
}

/** What the balance cache keeps per kind; a change moves it by exactly its postings. */
export interface BalanceTotals {
  available: number;
  pending: number;
  held: number;
  /** R14: points owed from returns, netted against the next accruals. */
  debt: number;
}

/** Where a lot stands in the R4 spending order: soonest-expiring, then oldest, then by id. */
export interface SpendingKey {
  expiresAt: Date;
  createdAt: Date;
  lotId: string;
}

/**
 * Which of a kind's spendable lots a working set holds: every lot up to `through` in the R4 order
 * (none when null), or all of them. `covers` is the amount the loader was asked to cover, so an
 * operation that needs more can ask for a wider load.
 */
export type SpendableCoverage =
  | { complete: true }
  | { complete: false; through: SpendingKey | null; covers: number };

/**
 * The part of one customer's ledger an operation can touch — its working set — and the cached totals
 * of all of it. The working set holds every lot and hold that time has made due, the holds,
 * redemptions and lots the operation names (and the lots behind their takes), and for each kind a
 * prefix of the spendable lots in the R4 order (`spendable`). Totals never come from summing lots.
 */
export interface CustomerLedger {
  customerId: string;
  lots: Lot[];
  holds: Hold[];
  redemptions: Redemption[];
  /** The balance cache per kind as loaded (debt included), before the operation. */
  totals: Record<PointKind, BalanceTotals>;
  spendable: Record<PointKind, SpendableCoverage>;
}

/**
 * The working set did not hold enough of a kind's spendable lots for this operation: the caller loads
 * a prefix covering at least `atLeast` points of `kind` and runs the operation again. Not a refusal:
 * the operation's outcome is decided only once enough is loaded.
 */
export class WorkingSetTooSmall extends Error {
  constructor(
    readonly kind: PointKind,
    readonly atLeast: number,
  ) {
    super(`the working set does not cover ${atLeast} ${kind} points`);
  }
}

/** Configurable defaults from rules.md; every one is a number an operator can change. */
export interface LedgerPolicy {
  /** R3: a lot expires this many days after it becomes available. Default 365. */
  expiryDays: number;
  /** R15: points refunded into an expired lot come back with this many days. Default 30. */
  refundGraceDays: number;
  /** R20: an unpaid hold is released after this many seconds. Default 1800. */
  holdTimeoutSeconds: number;
  /** R6: the balance reports points expiring within this many days. Default 30. */
  expiringWithinDays: number;
}

export const DEFAULT_LEDGER_POLICY: LedgerPolicy = {
  expiryDays: 365,
  refundGraceDays: 30,
  holdTimeoutSeconds: 1800,
  expiringWithinDays: 30,
};

export const LEDGER_REFUSAL_CODES = [
  "INSUFFICIENT_POINTS",
  "HOLD_NOT_FOUND",
  "HOLD_EXPIRED",
  "HOLD_NOT_ACTIVE",
  "HOLD_ALREADY_EXISTS",
  "REDEMPTION_NOT_FOUND",
  "REDEMPTION_ALREADY_EXISTS",
  "REFUND_EXCEEDS_REDEEMED",
  "LOT_NOT_FOUND",
  "SOURCE_KIND_MISMATCH",
  "INVALID_DATES",
] as const;
export type LedgerRefusalCode = (typeof LEDGER_REFUSAL_CODES)[number];

/** A business refusal: a value, never an exception. */
export interface Refusal {
  ok: false;
  code: LedgerRefusalCode;
  message: string;
  details: Record<string, unknown>;
}

export function refuse(
  code: LedgerRefusalCode,
  message: string,
  details: Record<string, unknown> = {},
): Refusal {
  return { ok: false, code, message, details };
}

/** What a successful operation changed: the app layer persists exactly this. */
export interface LedgerChange<T> {
  ok: true;
  value: T;
  movements: Movement[];
  /** Lots created or changed, with their final state. */
  lots: Lot[];
  holds: Hold[];
  redemptions: Redemption[];
}

export type LedgerResult<T> = LedgerChange<T> | Refusal;

/** Everything an operation may depend on besides the ledger: the time and a source of ids. */
export interface OperationContext {
  now: Date;
  newId: (prefix: "mov" | "lot") => string;
  policy: LedgerPolicy;
}

/** Every kind's totals at zero: a customer the balance cache has no row for yet. */
export function zeroTotals(): Record<PointKind, BalanceTotals> {
  const zero = () => ({ available: 0, pending: 0, held: 0, debt: 0 });
  return { bonus: zero(), savings: zero(), referral: zero() };
}

/** The ledger of a customer with nothing in it yet: a complete working set, every total zero. */
export function emptyLedger(customerId: string): CustomerLedger {
  return {
    customerId,
    lots: [],
    holds: [],
    redemptions: [],
    totals: zeroTotals(),
    spendable: { bonus: { complete: true }, savings: { complete: true }, referral: { complete: true } },
  };
}
