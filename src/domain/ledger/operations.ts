import type { PointKind } from "../kinds.js";
import { type Funder, funderAccount, SINK, WALLET } from "./accounts.js";
import { totalsAfter } from "./balance.js";
import { addDays, LedgerDraft, spendingOrder } from "./draft.js";
import {
  type ExplanationRef,
  explainAdjustment,
  explainCapture,
  explainClawback,
  explainCredit,
  explainDebtOffset,
  explainExpire,
  explainHold,
  explainMadeAvailable,
  explainRefund,
  explainRelease,
  explainSpend,
  type ReturnedLine,
} from "./explain.js";
import {
  type CreditSource,
  type CustomerLedger,
  type Hold,
  type LedgerChange,
  type LedgerResult,
  type Lot,
  type OperationContext,
  type Posting,
  type Redemption,
  refuse,
} from "./types.js";

/** R2: some sources only ever produce one kind of points. */
const SOURCE_KIND: Partial<Record<CreditSource, PointKind>> = {
  savings_interest: "savings",
  savings_cashback: "savings",
  manager_programme: "referral",
};

/** R14: debts are netted against accruals, not against points that come back from refunds. */
function isAccrual(source: CreditSource): boolean {
  return source !== "refund_grace" && source !== "adjustment";
}

function insufficient(draft: LedgerDraft, kind: PointKind, requested: number) {
  const available = draft.available(kind);
  return refuse("INSUFFICIENT_POINTS", `${requested} ${kind} points requested, ${available} available`, {
    kind,
    requested,
    available,
  });
}

/**
 * R14: points that become available pay off the customer's debt of that kind first.
 */
function offsetDebt(draft: LedgerDraft, lot: Lot): void {
  const owed = draft.debt(lot.kind);
  const offset = Math.min(owed, lot.remaining);
  if (offset === 0) return;
  draft.changeLot(lot, { remaining: lot.remaining - offset });
  draft.post(
    "debt_offset",
    lot.kind,
    [
      { account: WALLET.available, amount: -offset },
      { account: WALLET.debt, amount: offset },
    ],
    [{ lotId: lot.lotId, delta: -offset }],
    lot.reference,
    explainDebtOffset(offset, owed - offset),
  );
}

function releaseHold(draft: LedgerDraft, hold: Hold, reason: "requested" | "timeout"): void {
  const { lotDeltas } = draft.returnTakes(hold.kind, hold.takes, hold.amount, hold.holdId);
  draft.putHold({ ...hold, state: "released", releaseReason: reason });
  draft.post(
    "release",
    hold.kind,
    [
      { account: WALLET.held, amount: -hold.amount },
      { account: WALLET.available, amount: hold.amount },
    ],
    lotDeltas,
    hold.holdId,
    explainRelease(hold.amount, hold.holdId, reason === "timeout"),
  );
}

type DueItem = { at: number; rank: 0; hold: Hold } | { at: number; rank: 1 | 2; lot: Lot };

/** The earliest thing time has made due by `now`: a hold timing out, a lot becoming available or expiring. */
function nextDue(draft: LedgerDraft, now: number): DueItem | undefined {
  let next: DueItem | undefined;
  // Ties keep a fixed order whatever order the rows were loaded in: holds by id, lots as R4 spends them.
  const before = (a: DueItem, b: DueItem) =>
    a.at - b.at ||
    a.rank - b.rank ||
    ("hold" in a && "hold" in b ? (a.hold.holdId < b.hold.holdId ? -1 : 1) : 0) ||
    ("lot" in a && "lot" in b ? spendingOrder(a.lot, b.lot) : 0);
  const consider = (item: DueItem) => {
    if (item.at <= now && (!next || before(item, next) < 0)) next = item;
  };
  for (const hold of draft.allHolds()) {
    if (hold.state === "active") consider({ at: hold.expiresAt.getTime(), rank: 0, hold });
  }
  for (const lot of draft.allLots()) {
    if (lot.state === "pending") consider({ at: lot.availableFrom.getTime(), rank: 1, lot });
    else if (lot.remaining > 0) consider({ at: lot.expiresAt.getTime(), rank: 2, lot });
  }
  return next;
}

/**
 * R13: a pending lot's points become available — when its date comes, or (`confirmed`) when a
 * decision says so, its expiry then counted from now.
 */
function makeAvailable(
  draft: LedgerDraft,
  lot: Lot,
  confirmed?: { expiresAt: Date; explanation: ExplanationRef },
): void {
  const amount = lot.remaining;
  const explanation = confirmed?.explanation ?? explainMadeAvailable(amount, lot.expiresAt, lot.reference);
  draft.changeLot(
    lot,
    confirmed
      ? { state: "available", availableFrom: draft.now, expiresAt: confirmed.expiresAt }
      : { state: "available" },
  );
  // A pending lot whose points were all cancelled (R13) becomes available empty: nothing moves.
  if (amount === 0) return;
  draft.post(
    "make_available",
    lot.kind,
    [
      { account: WALLET.pending, amount: -amount },
      { account: WALLET.available, amount },
    ],
    [],
    lot.reference,
    explanation,
  );
  if (isAccrual(lot.source)) offsetDebt(draft, lot);
}

/** R5: breakage is a recorded movement, never a silent delete. */
function expire(draft: LedgerDraft, lot: Lot): void {
  const amount = lot.remaining;
  draft.changeLot(lot, { remaining: 0 });
  draft.post(
    "expire",
    lot.kind,
    [
      { account: WALLET.available, amount: -amount },
      { account: SINK.expired, amount },
    ],
    [{ lotId: lot.lotId, delta: -amount }],
    lot.reference,
    explainExpire(amount, lot.expiresAt),
  );
}

/**
 * Brings the ledger up to `now`, replaying what time made due in the order it fell due, each at its
 * own instant: timed-out holds are released (R20), pending lots become available (R13) and pay off
 * debt in that order (R14), lots past their expiry are written off (R5). Every operation starts with
 * this, so the outcome never depends on when the scheduled work last ran.
 */
function bringUpToDate(draft: LedgerDraft): void {
  const now = draft.now.getTime();
  for (let item = nextDue(draft, now); item; item = nextDue(draft, now)) {
    const due = item;
    draft.asClockAt(new Date(due.at), () => {
      if ("hold" in due) releaseHold(draft, due.hold, "timeout");
      else if (due.rank === 1) makeAvailable(draft, due.lot);
      else expire(draft, due.lot);
    });
  }
}

function run<T>(
  ledger: CustomerLedger,
  ctx: OperationContext,
  body: (draft: LedgerDraft) => LedgerResult<T> | T,
): LedgerResult<T> {
  const draft = new LedgerDraft(ledger, ctx);
  bringUpToDate(draft);
  const outcome = body(draft);
  if (outcome && typeof outcome === "object" && "ok" in outcome && outcome.ok === false) return outcome;
  return draft.finish(outcome as T);
}

/** Settles the ledger to `now` and nothing else: what the scheduled jobs run for each customer. */
export function settle(ledger: CustomerLedger, ctx: OperationContext): LedgerResult<null> {
  return run(ledger, ctx, () => null);
}

export interface CreditInput {
  kind: PointKind;
  amount: number;
  source: CreditSource;
  funder: Funder;
  /** R13: when the points become available; absent or not in the future means at once. */
  availableFrom?: Date | undefined;
  /** R3: default expiry-days after the points become available. */
  expiresAt?: Date | undefined;
  reference?: string | null | undefined;
  /** R33: the caller's own explanation (an order's per-line breakdown); default: one made from the source. */
  explanation?: ExplanationRef | undefined;
}

/** R3: a credit creates a lot, pending until `availableFrom` (R13), funded by `funder` (R32). */
export function credit(ledger: CustomerLedger, input: CreditInput, ctx: OperationContext): LedgerResult<Lot> {
  return run(ledger, ctx, (draft) => {
    const required = SOURCE_KIND[input.source];
    if (required && required !== input.kind) {
      return refuse(
        "SOURCE_KIND_MISMATCH",
        `source ${input.source} credits ${required} points, not ${input.kind}`,
        {
          source: input.source,
          kind: input.kind,
          expectedKind: required,
        },
      );
    }
    const now = draft.now;
    const availableFrom =
      input.availableFrom && input.availableFrom.getTime() > now.getTime() ? input.availableFrom : now;
    const expiresAt = input.expiresAt ?? addDays(availableFrom, ctx.policy.expiryDays);
    if (expiresAt.getTime() <= availableFrom.getTime()) {
      return refuse("INVALID_DATES", "expiresAt must be later than the moment the points become available", {
        availableFrom: availableFrom.toISOString(),
        expiresAt: expiresAt.toISOString(),
      });
    }
    const pending = availableFrom.getTime() > now.getTime();
    const lot: Lot = {
      lotId: ctx.newId("lot"),
      kind: input.kind,
      amount: input.amount,
      remaining: input.amount,
      source: input.source,
      funder: input.funder,
      state: pending ? "pending" : "available",
      createdAt: now,
      availableFrom,
      expiresAt,
      reference: input.reference ?? null,
    };
    draft.addLot(lot);
    draft.post(
      "credit",
      input.kind,
      [
        { account: funderAccount(input.funder), amount: -input.amount },
        { account: pending ? WALLET.pending : WALLET.available, amount: input.amount },
      ],
      [{ lotId: lot.lotId, delta: input.amount }],
      lot.reference,
      input.explanation ??
        explainCredit(input.amount, input.source, pending ? availableFrom : null, expiresAt, lot.reference),
    );
    if (!pending && isAccrual(input.source)) offsetDebt(draft, lot);
    return lot;
  });
}

export interface HoldInput {
  holdId: string;
  kind: PointKind;
  amount: number;
  /** R20: default from the policy (30 minutes). */
  timeoutSeconds?: number | undefined;
}

/** R20: points move from available to held, in the R4 order, until captured, released or timed out. */
export function hold(ledger: CustomerLedger, input: HoldInput, ctx: OperationContext): LedgerResult<Hold> {
  return run(ledger, ctx, (draft) => {
    if (draft.hold(input.holdId) || draft.redemption(input.holdId)) {
      return refuse("HOLD_ALREADY_EXISTS", `${input.holdId} is already used by a hold or a spend`, {
        holdId: input.holdId,
      });
    }
    if (draft.available(input.kind) < input.amount) return insufficient(draft, input.kind, input.amount);
    const takes = draft.takeInSpendingOrder(input.kind, input.amount);
    const expiresAt = new Date(
      draft.now.getTime() + (input.timeoutSeconds ?? ctx.policy.holdTimeoutSeconds) * 1000,
    );
    const created: Hold = {
      holdId: input.holdId,
      kind: input.kind,
      amount: input.amount,
      state: "active",
      releaseReason: null,
      createdAt: draft.now,
      expiresAt,
      takes,
    };
    draft.putHold(created);
    draft.post(
      "hold",
      input.kind,
      [
        { account: WALLET.available, amount: -input.amount },
        { account: WALLET.held, amount: input.amount },
      ],
      takes.map((t) => ({ lotId: t.lotId, delta: -t.amount })),
      input.holdId,
      explainHold(input.amount, input.kind, input.holdId, expiresAt),
    );
    return created;
  });
}

/**
 * R20: the hold a capture or release acts on. One already in the state asked for is answered as it
 * is (idempotent by order id); one timed out, or already in the other final state, is refused.
 */
function holdToSettle(
  draft: LedgerDraft,
  holdId: string,
  into: "captured" | "released",
): { hold: Hold; done: boolean } | ReturnType<typeof refuse> {
  const found = draft.hold(holdId);
  if (!found) return refuse("HOLD_NOT_FOUND", `no hold ${holdId}`, { holdId });
  if (found.state === "released" && found.releaseReason === "timeout") {
    return refuse("HOLD_EXPIRED", `hold ${holdId} timed out at ${found.expiresAt.toISOString()}`, {
      holdId,
      expiredAt: found.expiresAt.toISOString(),
    });
  }
  if (found.state === into) return { hold: found, done: true };
  if (found.state !== "active") {
    const advice = found.state === "captured" ? "; refund it instead" : "";
    return refuse("HOLD_NOT_ACTIVE", `hold ${holdId} was ${found.state}${advice}`, {
      holdId,
      state: found.state,
    });
  }
  return { hold: found, done: false };
}

/** R20: capture turns held points into spent ones. Capturing a captured hold changes nothing. */
export function capture(
  ledger: CustomerLedger,
  input: { holdId: string },
  ctx: OperationContext,
): LedgerResult<Hold> {
  return run(ledger, ctx, (draft) => {
    const target = holdToSettle(draft, input.holdId, "captured");
    if ("ok" in target) return target;
    const found = target.hold;
    if (target.done) return found;
    const captured: Hold = { ...found, state: "captured" };
    draft.putHold(captured);
    draft.putRedemption({
      redemptionId: found.holdId,
      kind: found.kind,
      amount: found.amount,
      refunded: 0,
      createdAt: draft.now,
      takes: found.takes.map((t) => ({ ...t, returned: 0 })),
    });
    draft.post(
      "capture",
      found.kind,
      [
        { account: WALLET.held, amount: -found.amount },
        { account: SINK.redeemed, amount: found.amount },
      ],
      [],
      found.holdId,
      explainCapture(found.amount, found.holdId),
    );
    return captured;
  });
}

/** R20: release puts held points back into their lots. Releasing a released hold changes nothing. */
export function release(
  ledger: CustomerLedger,
  input: { holdId: string },
  ctx: OperationContext,
): LedgerResult<Hold> {
  return run(ledger, ctx, (draft) => {
    const target = holdToSettle(draft, input.holdId, "released");
    if ("ok" in target) return target;
    const found = target.hold;
    if (target.done) return found;
    releaseHold(draft, found, "requested");
    return draft.hold(found.holdId) as Hold;
  });
}

/** Spends points at once (no hold), in the R4 order. */
export function spend(
  ledger: CustomerLedger,
  input: { redemptionId: string; kind: PointKind; amount: number },
  ctx: OperationContext,
): LedgerResult<Redemption> {
  return run(ledger, ctx, (draft) => {
    if (draft.redemption(input.redemptionId) || draft.hold(input.redemptionId)) {
      return refuse("REDEMPTION_ALREADY_EXISTS", `${input.redemptionId} is already used`, {
        redemptionId: input.redemptionId,
      });
    }
    if (draft.available(input.kind) < input.amount) return insufficient(draft, input.kind, input.amount);
    const takes = draft.takeInSpendingOrder(input.kind, input.amount);
    const redemption: Redemption = {
      redemptionId: input.redemptionId,
      kind: input.kind,
      amount: input.amount,
      refunded: 0,
      createdAt: draft.now,
      takes,
    };
    draft.putRedemption(redemption);
    draft.post(
      "spend",
      input.kind,
      [
        { account: WALLET.available, amount: -input.amount },
        { account: SINK.redeemed, amount: input.amount },
      ],
      takes.map((t) => ({ lotId: t.lotId, delta: -t.amount })),
      input.redemptionId,
      explainSpend(input.amount, input.redemptionId),
    );
    return redemption;
  });
}

/**
 * R15: spent points come back into the lots they came from, with their original expiry; a lot that
 * has expired meanwhile gives them back in a new lot with the grace expiry.
 */
export function refund(
  ledger: CustomerLedger,
  input: { redemptionId: string; amount: number; returnedLines?: ReturnedLine[] | undefined },
  ctx: OperationContext,
): LedgerResult<{ redemption: Redemption; graceUntil: Date | null }> {
  return run(ledger, ctx, (draft) => {
    const found = draft.redemption(input.redemptionId);
    if (!found) {
      return refuse("REDEMPTION_NOT_FOUND", `nothing was spent under ${input.redemptionId}`, {
        redemptionId: input.redemptionId,
      });
    }
    const refundable = found.amount - found.refunded;
    if (input.amount > refundable) {
      return refuse("REFUND_EXCEEDS_REDEEMED", `${input.amount} requested, ${refundable} left to refund`, {
        redemptionId: input.redemptionId,
        requested: input.amount,
        refundable,
      });
    }
    const updated: Redemption = { ...found, refunded: found.refunded + input.amount };
    const { lotDeltas, graceUntil } = draft.returnTakes(
      found.kind,
      updated.takes,
      input.amount,
      found.redemptionId,
    );
    draft.putRedemption(updated);
    draft.post(
      "refund",
      found.kind,
      [
        { account: SINK.redeemed, amount: -input.amount },
        { account: WALLET.available, amount: input.amount },
      ],
      lotDeltas,
      found.redemptionId,
      explainRefund(input.amount, found.redemptionId, graceUntil, input.returnedLines),
    );
    return { redemption: updated, graceUntil };
  });
}

export interface ClawbackInput {
  kind: PointKind;
  amount: number;
  /** The lots the returned purchase credited, most recent first; their points are taken back first. */
  lotIds?: string[] | undefined;
  reference?: string | null | undefined;
  /** R33: the returned lines the explanation lists, below its own sentence (with the shortfall note). */
  returnedLines?: ReturnedLine[] | undefined;
}

export interface ClawbackOutcome {
  /** R13: points of still-pending lots, cancelled back to their funders. */
  cancelledPending: number;
  /** Available points taken back. */
  clawedBack: number;
  /** R14: what was missing, to be withheld from the refund or recorded as debt. */
  shortfall: number;
  debtAfter: number;
}

/**
 * R13, R14: a returned purchase loses its accrual. Its own lots go first: pending points are
 * cancelled back to their funder, available ones clawed back; then other available lots in the R4
 * order; what is still missing is reported as a shortfall and recorded as debt.
 */
export function clawback(
  ledger: CustomerLedger,
  input: ClawbackInput,
  ctx: OperationContext,
): LedgerResult<ClawbackOutcome> {
  return run(ledger, ctx, (draft) => {
    const origins: Lot[] = [];
    for (const lotId of input.lotIds ?? []) {
      const lot = draft.lot(lotId);
      if (!lot || lot.kind !== input.kind) {
        return refuse("LOT_NOT_FOUND", `no ${input.kind} lot ${lotId}`, { lotId });
      }
      origins.push(lot);
    }
    const postings: Posting[] = [];
    const lotDeltas: { lotId: string; delta: number }[] = [];
    let left = input.amount;
    let cancelledPending = 0;
    let clawedBack = 0;
    const others = draft.spendableLots(input.kind).filter((l) => !origins.includes(l));
    for (const lot of [...origins, ...others]) {
      if (left === 0) break;
      const take = Math.min(left, lot.remaining);
      if (take === 0) continue;
      draft.changeLot(lot, { remaining: lot.remaining - take });
      lotDeltas.push({ lotId: lot.lotId, delta: -take });
      left -= take;
      if (lot.state === "pending") {
        cancelledPending += take;
        postings.push(
          { account: WALLET.pending, amount: -take },
          { account: funderAccount(lot.funder), amount: take },
        );
      } else {
        clawedBack += take;
      }
    }
    // More points are available than the working set's lots hold: they must be taken (R4) first.
    if (left > 0 && draft.available(input.kind) - clawedBack > 0)
      draft.needMoreLots(input.kind, input.amount);
    if (clawedBack > 0) {
      postings.push(
        { account: WALLET.available, amount: -clawedBack },
        { account: SINK.clawedBack, amount: clawedBack },
      );
    }
    const shortfall = left;
    if (shortfall > 0) {
      postings.push(
        { account: WALLET.debt, amount: -shortfall },
        { account: SINK.clawedBack, amount: shortfall },
      );
    }
    draft.post(
      "clawback",
      input.kind,
      postings,
      lotDeltas,
      input.reference ?? null,
      explainClawback(cancelledPending, clawedBack, shortfall, input.reference ?? null, input.returnedLines),
    );
    return { cancelledPending, clawedBack, shortfall, debtAfter: draft.debt(input.kind) };
  });
}

export interface AdjustInput {
  kind: PointKind;
  /** Positive adds points, negative removes them; never zero. */
  amount: number;
  reason: string;
}

/**
 * R34: support corrects a balance with a reason. Added points are a new lot funded by the
 * marketplace; removed points leave in the R4 order and go back to the marketplace.
 */
export function adjust(
  ledger: CustomerLedger,
  input: AdjustInput,
  ctx: OperationContext,
): LedgerResult<null> {
  return run(ledger, ctx, (draft) => {
    const account = funderAccount("marketplace");
    if (input.amount > 0) {
      const lot: Lot = {
        lotId: ctx.newId("lot"),
        kind: input.kind,
        amount: input.amount,
        remaining: input.amount,
        source: "adjustment",
        funder: "marketplace",
        state: "available",
        createdAt: draft.now,
        availableFrom: draft.now,
        expiresAt: addDays(draft.now, ctx.policy.expiryDays),
        reference: null,
      };
      draft.addLot(lot);
      draft.post(
        "adjust",
        input.kind,
        [
          { account, amount: -input.amount },
          { account: WALLET.available, amount: input.amount },
        ],
        [{ lotId: lot.lotId, delta: input.amount }],
        null,
        explainAdjustment(input.amount, input.reason),
      );
      return null;
    }
    const removed = -input.amount;
    if (draft.available(input.kind) < removed) return insufficient(draft, input.kind, removed);
    const takes = draft.takeInSpendingOrder(input.kind, removed);
    draft.post(
      "adjust",
      input.kind,
      [
        { account: WALLET.available, amount: -removed },
        { account, amount: removed },
      ],
      takes.map((t) => ({ lotId: t.lotId, delta: -t.amount })),
      null,
      explainAdjustment(input.amount, input.reason),
    );
    return null;
  });
}

/**
 * Points that wait for a decision, not for a date (R22: a review's moderation; R24: the month's own
 * purchases) are pending "until" this instant, which no clock reaches; `confirmPendingLot` makes them
 * available and counts their expiry from then, `cancelPendingLot` gives them back to their funder.
 */
export const UNTIL_DECIDED = new Date("9000-01-01T00:00:00.000Z");

/**
 * A lot that waits for a decision rather than a date (R22: a review's reward until moderation): made
 * available now, its expiry counted from now (R3), paying off debt first like any accrual (R14).
 */
export function confirmPendingLot(
  ledger: CustomerLedger,
  input: { lotId: string; explanation: (expiresAt: Date) => ExplanationRef },
  ctx: OperationContext,
): LedgerResult<Lot> {
  return run(ledger, ctx, (draft) => {
    const lot = draft.lot(input.lotId);
    if (lot?.state !== "pending") {
      return refuse("LOT_NOT_FOUND", `no pending lot ${input.lotId}`, { lotId: input.lotId });
    }
    const expiresAt = addDays(draft.now, ctx.policy.expiryDays);
    makeAvailable(draft, lot, { expiresAt, explanation: input.explanation(expiresAt) });
    return lot;
  });
}

/**
 * A pending lot's points cancelled back to its funder (R13, R22: a rejected review): a new movement,
 * the lot left pending and empty.
 */
export function cancelPendingLot(
  ledger: CustomerLedger,
  input: { lotId: string; explanation: ExplanationRef },
  ctx: OperationContext,
): LedgerResult<Lot> {
  return run(ledger, ctx, (draft) => {
    const lot = draft.lot(input.lotId);
    if (lot?.state !== "pending") {
      return refuse("LOT_NOT_FOUND", `no pending lot ${input.lotId}`, { lotId: input.lotId });
    }
    const amount = lot.remaining;
    if (amount === 0) return lot;
    draft.changeLot(lot, { remaining: 0 });
    draft.post(
      "clawback",
      lot.kind,
      [
        { account: WALLET.pending, amount: -amount },
        { account: funderAccount(lot.funder), amount },
      ],
      [{ lotId: lot.lotId, delta: -amount }],
      lot.reference,
      input.explanation,
    );
    return lot;
  });
}

/** The working set as it stands after `change`, its totals moved by the change's postings. */
export function applyChange(ledger: CustomerLedger, change: LedgerChange<unknown>): CustomerLedger {
  return {
    customerId: ledger.customerId,
    lots: mergeById(ledger.lots, change.lots, (l) => l.lotId),
    holds: mergeById(ledger.holds, change.holds, (h) => h.holdId),
    redemptions: mergeById(ledger.redemptions, change.redemptions, (r) => r.redemptionId),
    totals: totalsAfter(ledger.totals, change.movements),
    spendable: ledger.spendable,
  };
}

function mergeById<V>(items: V[], changed: V[], key: (v: V) => string): V[] {
  const map = new Map(items.map((v) => [key(v), v]));
  for (const v of changed) map.set(key(v), v);
  return [...map.values()];
}

/** One change that does what `first` then `second` did: how several operations commit together. */
export function combineChanges<A, B>(first: LedgerChange<A>, second: LedgerChange<B>): LedgerChange<B> {
  return {
    ok: true,
    value: second.value,
    movements: [...first.movements, ...second.movements],
    lots: mergeById(first.lots, second.lots, (l) => l.lotId),
    holds: mergeById(first.holds, second.holds, (h) => h.holdId),
    redemptions: mergeById(first.redemptions, second.redemptions, (r) => r.redemptionId),
  };
}
