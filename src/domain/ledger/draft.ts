import type { PointKind } from "../kinds.js";
import { WALLET } from "./accounts.js";
import type { ExplanationRef } from "./explain.js";
import {
  type BalanceTotals,
  type CustomerLedger,
  type Hold,
  type LedgerChange,
  type Lot,
  type LotTake,
  type Movement,
  type MovementType,
  type OperationContext,
  type Posting,
  type Redemption,
  type SpendableCoverage,
  type SpendingKey,
  WorkingSetTooSmall,
} from "./types.js";

const DAY_MS = 86_400_000;

export function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * DAY_MS);
}

/** R4: soonest-expiring first, then oldest first; the lot id breaks the last tie so the order is total. */
export function spendingOrder(a: SpendingKey, b: SpendingKey): number {
  return (
    a.expiresAt.getTime() - b.expiresAt.getTime() ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.lotId < b.lotId ? -1 : a.lotId > b.lotId ? 1 : 0)
  );
}

/**
 * A working copy of one customer's ledger. Operations change it through these methods only, so
 * every change is recorded as a balanced movement and the app layer persists exactly what changed.
 */
export class LedgerDraft {
  readonly customerId: string;
  private readonly lots = new Map<string, Lot>();
  private readonly holds = new Map<string, Hold>();
  private readonly redemptions = new Map<string, Redemption>();
  private readonly touchedLots = new Set<string>();
  private readonly touchedHolds = new Set<string>();
  private readonly touchedRedemptions = new Set<string>();
  private readonly movements: Movement[] = [];
  /** Set while the ledger is being brought up to date: those movements are the clock's doing. */
  private clockDriven = false;
  private readonly totals: Record<PointKind, BalanceTotals>;
  private readonly coverage: Record<PointKind, SpendableCoverage>;

  constructor(
    ledger: CustomerLedger,
    readonly ctx: OperationContext,
  ) {
    this.customerId = ledger.customerId;
    for (const lot of ledger.lots) this.lots.set(lot.lotId, { ...lot });
    for (const hold of ledger.holds)
      this.holds.set(hold.holdId, { ...hold, takes: hold.takes.map((t) => ({ ...t })) });
    for (const r of ledger.redemptions)
      this.redemptions.set(r.redemptionId, { ...r, takes: r.takes.map((t) => ({ ...t })) });
    this.totals = ledger.totals;
    this.coverage = ledger.spendable;
  }

  /** What this draft's movements posted to one of the customer's accounts for a kind. */
  private posted(kind: PointKind, account: string): number {
    let sum = 0;
    for (const m of this.movements) {
      if (m.kind !== kind) continue;
      for (const p of m.postings) if (p.account === account) sum += p.amount;
    }
    return sum;
  }

  /** R14: what the customer owes of a kind now: the cached debt moved by this draft's postings. */
  debt(kind: PointKind): number {
    return this.totals[kind].debt - this.posted(kind, WALLET.debt);
  }

  /** The instant being worked at: the operation's, or while catching up, the due item's own. */
  get now(): Date {
    return this.replaying ?? this.ctx.now;
  }

  private replaying: Date | null = null;

  /** Runs `work` as the clock, at `at`: its movements are dated then and recorded as the system's. */
  asClockAt(at: Date, work: () => void): void {
    this.replaying = at;
    this.clockDriven = true;
    try {
      work();
    } finally {
      this.replaying = null;
      this.clockDriven = false;
    }
  }

  lot(lotId: string): Lot | undefined {
    return this.lots.get(lotId);
  }

  hold(holdId: string): Hold | undefined {
    return this.holds.get(holdId);
  }

  redemption(redemptionId: string): Redemption | undefined {
    return this.redemptions.get(redemptionId);
  }

  allLots(): Lot[] {
    return [...this.lots.values()];
  }

  allHolds(): Hold[] {
    return [...this.holds.values()];
  }

  /**
   * Available lots of a kind with points left, in the R4 spending order, as far as the working set
   * holds all of them: a lot past the loaded prefix could have others before it that were not loaded.
   */
  spendableLots(kind: PointKind): Lot[] {
    const coverage = this.coverage[kind];
    return this.allLots()
      .filter(
        (l) =>
          l.kind === kind &&
          l.state === "available" &&
          l.remaining > 0 &&
          (coverage.complete || (coverage.through !== null && spendingOrder(l, coverage.through) <= 0)),
      )
      .sort(spendingOrder);
  }

  /**
   * Signals that an operation needs spendable lots beyond the loaded prefix (there are more: the
   * coverage is not complete). The caller loads a wider prefix and runs the operation again.
   */
  needMoreLots(kind: PointKind, amount: number): never {
    const coverage = this.coverage[kind];
    if (coverage.complete)
      throw new Error(`the ${kind} lots do not hold the ${amount} points the totals promise`);
    throw new WorkingSetTooSmall(kind, coverage.covers * 2 + amount);
  }

  /** R6: the available points of a kind: the cached total moved by this draft's postings. */
  available(kind: PointKind): number {
    return this.totals[kind].available + this.posted(kind, WALLET.available);
  }

  addLot(lot: Lot): void {
    this.lots.set(lot.lotId, lot);
    this.touchedLots.add(lot.lotId);
  }

  changeLot(
    lot: Lot,
    change: Partial<Pick<Lot, "remaining" | "state" | "availableFrom" | "expiresAt">>,
  ): void {
    Object.assign(lot, change);
    if (lot.remaining < 0 || lot.remaining > lot.amount) {
      throw new Error(`lot ${lot.lotId} would hold ${lot.remaining} of ${lot.amount}`);
    }
    this.touchedLots.add(lot.lotId);
  }

  putHold(hold: Hold): void {
    this.holds.set(hold.holdId, hold);
    this.touchedHolds.add(hold.holdId);
  }

  putRedemption(redemption: Redemption): void {
    this.redemptions.set(redemption.redemptionId, redemption);
    this.touchedRedemptions.add(redemption.redemptionId);
  }

  /** Takes `amount` from available lots in the R4 order. The caller has checked the balance. */
  takeInSpendingOrder(kind: PointKind, amount: number): LotTake[] {
    const takes: LotTake[] = [];
    let left = amount;
    for (const lot of this.spendableLots(kind)) {
      if (left === 0) break;
      const take = Math.min(left, lot.remaining);
      this.changeLot(lot, { remaining: lot.remaining - take });
      takes.push({ lotId: lot.lotId, amount: take, returned: 0 });
      left -= take;
    }
    if (left !== 0) this.needMoreLots(kind, amount);
    return takes;
  }

  /**
   * Puts `amount` points back into the lots they were taken from, the last-taken first so that a
   * partial return followed by the rest restores exactly what was taken. R15: a lot whose expiry
   * has passed cannot take points back; they go into a new lot that expires after the grace period.
   * Returns the lot deltas (for the movement) and the grace expiry if a grace lot was made.
   */
  returnTakes(
    kind: PointKind,
    takes: LotTake[],
    amount: number,
    reference: string,
  ): { lotDeltas: { lotId: string; delta: number }[]; graceUntil: Date | null } {
    const lotDeltas: { lotId: string; delta: number }[] = [];
    let graceUntil: Date | null = null;
    let left = amount;
    for (let i = takes.length - 1; i >= 0 && left > 0; i--) {
      const take = takes[i];
      if (!take) continue;
      const back = Math.min(left, take.amount - take.returned);
      if (back === 0) continue;
      take.returned += back;
      left -= back;
      const lot = this.lots.get(take.lotId);
      if (!lot) throw new Error(`lot ${take.lotId} was not loaded`);
      if (lot.expiresAt.getTime() > this.now.getTime()) {
        this.changeLot(lot, { remaining: lot.remaining + back });
        lotDeltas.push({ lotId: lot.lotId, delta: back });
      } else {
        graceUntil = addDays(this.now, this.ctx.policy.refundGraceDays);
        const grace: Lot = {
          lotId: this.ctx.newId("lot"),
          kind,
          amount: back,
          remaining: back,
          source: "refund_grace",
          funder: lot.funder,
          state: "available",
          createdAt: this.now,
          availableFrom: this.now,
          expiresAt: graceUntil,
          reference,
        };
        this.addLot(grace);
        lotDeltas.push({ lotId: grace.lotId, delta: back });
      }
    }
    if (left !== 0) throw new Error(`returned ${amount - left} of ${amount} points`);
    return { lotDeltas, graceUntil };
  }

  /** R32: records a movement; its postings must net to zero. */
  post(
    type: MovementType,
    kind: PointKind,
    postings: Posting[],
    lotDeltas: { lotId: string; delta: number }[],
    reference: string | null,
    explanation: ExplanationRef,
  ): Movement {
    const net = postings.reduce((sum, p) => sum + p.amount, 0);
    if (net !== 0) throw new Error(`movement ${type} does not net to zero: ${net}`);
    const movement: Movement = {
      movementId: this.ctx.newId("mov"),
      customerId: this.customerId,
      kind,
      type,
      postings: postings.filter((p) => p.amount !== 0),
      lotDeltas,
      reference,
      explanation,
      occurredAt: this.now,
      causedBy: this.clockDriven ? "clock" : "request",
    };
    this.movements.push(movement);
    return movement;
  }

  finish<T>(value: T): LedgerChange<T> {
    const pick = <V>(map: Map<string, V>, ids: Set<string>): V[] =>
      [...ids].map((id) => map.get(id)).filter((v): v is V => v !== undefined);
    return {
      ok: true,
      value,
      movements: this.movements,
      lots: pick(this.lots, this.touchedLots),
      holds: pick(this.holds, this.touchedHolds),
      redemptions: pick(this.redemptions, this.touchedRedemptions),
    };
  }
}
