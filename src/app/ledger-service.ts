import type { PointKind } from "../domain/kinds.js";
import {
  type AdjustInput,
  adjust,
  applyChange,
  type ClawbackInput,
  type ClawbackOutcome,
  type CreditInput,
  type CustomerLedger,
  capture,
  clawback,
  combineChanges,
  credit,
  type HoldInput,
  hold,
  type LedgerChange,
  type LedgerResult,
  type OperationContext,
  type Refusal,
  refund,
  release,
  settle,
  spend,
  totalsAfter,
} from "../domain/ledger/index.js";
import type { GroupCommitter } from "./group-commit.js";
import { keyedWork } from "./keyed-work.js";
import type {
  BalanceSnapshot,
  Clock,
  CustomerLoad,
  CustomerState,
  HistoryQuery,
  LedgerStore,
  StoredOutcome,
} from "./ports.js";
import type { PolicySource } from "./programme-rules.js";
import {
  balanceView,
  holdView,
  type KindBalanceView,
  lotView,
  type MovementView,
  movementView,
  redemptionView,
} from "./views.js";

/** One operation of a sequence, run at its own instant. */
export interface Step {
  at: Date;
  operation: (ledger: CustomerLedger, ctx: OperationContext) => LedgerResult<unknown>;
}

/** Who asks, and what makes a retry recognisable. */
export interface WriteRequest {
  idempotencyKey: string;
  /** A hash of everything the request says (path and body): same key + other fingerprint = conflict. */
  fingerprint: string;
  requestId: string;
  /** The API key id, `customer:<id>` or `system`: recorded on every movement (R34 audit). */
  actor: string;
}

export type Outcome<T> = { ok: true; value: T } | (Omit<Refusal, "code"> & { code: string });

/** A write's answer and whether it was replayed from an earlier request with the same key. */
export type WriteResult<T> = Outcome<T> & { replayed: boolean; requestId: string };

export interface ConflictRefusal {
  ok: false;
  code: "IDEMPOTENCY_CONFLICT" | "IDEMPOTENCY_KEY_REUSED";
  message: string;
  details: Record<string, unknown>;
  replayed: false;
  requestId: string;
}

/**
 * The answer to a request whose caller used its Idempotency-Key before (`prior`): the stored answer
 * again, or a refusal when the key was used for another operation or with another request.
 */
export function answerToUsedKey<V>(
  prior: StoredOutcome,
  scope: string,
  request: WriteRequest,
): WriteResult<V> | ConflictRefusal {
  const refusal = { ok: false, replayed: false, requestId: request.requestId } as const;
  if (prior.scope !== scope) {
    return {
      ...refusal,
      code: "IDEMPOTENCY_KEY_REUSED",
      message: `this Idempotency-Key was used for another operation (${prior.scope}); use a new key for each operation`,
      details: { idempotencyKey: request.idempotencyKey, firstUsedFor: prior.scope, operation: scope },
    };
  }
  if (prior.fingerprint !== request.fingerprint) {
    return {
      ...refusal,
      code: "IDEMPOTENCY_CONFLICT",
      message: "this Idempotency-Key was used with a different request",
      details: { idempotencyKey: request.idempotencyKey, originalRequestId: prior.requestId },
    };
  }
  return { ...(prior.outcome as Outcome<V>), replayed: true, requestId: prior.requestId };
}

/**
 * The answer to a write a store ran under the caller's Idempotency-Key: the answer stored before
 * (replayed, or refused as another request), or the one just stored.
 */
export function answerOfKeyedWrite<V>(
  result: { prior: StoredOutcome } | { stored: Outcome<V> },
  scope: string,
  request: WriteRequest,
): WriteResult<V> | ConflictRefusal {
  if ("prior" in result) return answerToUsedKey<V>(result.prior, scope, request);
  return { ...result.stored, replayed: false, requestId: request.requestId };
}

export interface BalanceResponse {
  customerId: string;
  asOf: string;
  kinds: Record<PointKind, KindBalanceView>;
}

/**
 * Ledger use cases: each write is one customer's work, idempotent by (customer, caller, key); a key
 * is for one operation (`scope`).
 */
export class LedgerService {
  constructor(
    private readonly store: LedgerStore,
    private readonly committer: GroupCommitter,
    private readonly clock: Clock,
    private readonly policies: PolicySource,
    /** The IANA time zone explanations show dates and times in (KOPILKA_TIME_ZONE). */
    private readonly timeZone: string,
  ) {}

  private write<T, V>(
    customerId: string,
    scope: string,
    request: WriteRequest,
    load: Pick<CustomerLoad, "refs" | "spend">,
    operation: (ledger: CustomerLedger, ctx: OperationContext) => LedgerResult<T>,
    present: (value: T) => V,
  ): Promise<WriteResult<V> | ConflictRefusal> {
    return this.committer.submit(
      keyedWork<V>(customerId, scope, request, load, (state, ctx) => {
        const result = operation(state.ledger, ctx);
        if (!result.ok) {
          const { code, message, details } = result;
          return { outcome: { ok: false, code, message, details } };
        }
        return {
          outcome: { ok: true, value: present(result.value) },
          write: { ledger: ledgerWrite(state.ledger, result) },
        };
      }),
    );
  }

  credit(customerId: string, input: CreditInput, request: WriteRequest) {
    return this.write(customerId, "credit", request, {}, (l, c) => credit(l, input, c), lotView);
  }

  adjust(customerId: string, input: AdjustInput, request: WriteRequest) {
    return this.write(
      customerId,
      "adjust",
      request,
      { spend: input.amount < 0 ? { [input.kind]: -input.amount } : {} },
      (l, c) => adjust(l, input, c),
      () => ({
        kind: input.kind,
        amount: input.amount,
        reason: input.reason,
      }),
    );
  }

  hold(customerId: string, input: HoldInput, request: WriteRequest) {
    return this.write(
      customerId,
      "hold",
      request,
      {
        refs: { holdIds: [input.holdId], redemptionIds: [input.holdId] },
        spend: { [input.kind]: input.amount },
      },
      (l, c) => hold(l, input, c),
      holdView,
    );
  }

  capture(customerId: string, holdId: string, request: WriteRequest) {
    return this.write(
      customerId,
      "capture",
      request,
      { refs: { holdIds: [holdId] } },
      (l, c) => capture(l, { holdId }, c),
      holdView,
    );
  }

  release(customerId: string, holdId: string, request: WriteRequest) {
    return this.write(
      customerId,
      "release",
      request,
      { refs: { holdIds: [holdId] } },
      (l, c) => release(l, { holdId }, c),
      holdView,
    );
  }

  spend(
    customerId: string,
    input: { redemptionId: string; kind: PointKind; amount: number },
    request: WriteRequest,
  ) {
    return this.write(
      customerId,
      "spend",
      request,
      {
        refs: { holdIds: [input.redemptionId], redemptionIds: [input.redemptionId] },
        spend: { [input.kind]: input.amount },
      },
      (l, c) => spend(l, input, c),
      redemptionView,
    );
  }

  refund(customerId: string, input: { redemptionId: string; amount: number }, request: WriteRequest) {
    return this.write(
      customerId,
      "refund",
      request,
      { refs: { redemptionIds: [input.redemptionId] } },
      (l, c) => refund(l, input, c),
      (v) => ({ ...redemptionView(v.redemption), graceUntil: v.graceUntil?.toISOString() ?? null }),
    );
  }

  clawback(customerId: string, input: ClawbackInput, request: WriteRequest) {
    return this.write(
      customerId,
      "clawback",
      request,
      { refs: { lotIds: input.lotIds ?? [] }, spend: { [input.kind]: input.amount } },
      (l, c) => clawback(l, input, c),
      (v: ClawbackOutcome) => v,
    );
  }

  /**
   * Runs several operations per customer, each at its own instant, and commits what the successful
   * ones changed (a refused step changes nothing). For loaders; requests from the outside go through
   * the idempotent writes above.
   */
  runSequences(
    sequences: { customerId: string; steps: Step[] }[],
    actor: string,
  ): Promise<LedgerResult<unknown>[][]> {
    return this.committer.submitAll(
      sequences.map(({ customerId, steps }) => ({
        customerId,
        load: {},
        run: (state: CustomerState, base: OperationContext) => {
          let ledger = state.ledger;
          let combined: LedgerChange<unknown> | undefined;
          const results = steps.map((step) => {
            const result = step.operation(ledger, { ...base, now: step.at });
            if (result.ok) {
              ledger = applyChange(ledger, result);
              combined = combined ? combineChanges(combined, result) : result;
            }
            return result;
          });
          const write = combined ? { actor, ledger: ledgerWrite(state.ledger, combined) } : undefined;
          return { result: results, write };
        },
      })),
    );
  }

  /**
   * Brings customers up to now (R5, R13, R20): what balance reads and quotes run when something is
   * due, and the scheduled work for each page of customers. Returns the number of movements written.
   */
  async settleCustomers(customerIds: string[]): Promise<number> {
    const counts = await this.committer.submitAll(
      customerIds.map((customerId) => ({
        customerId,
        load: {},
        run: (state: CustomerState, ctx: OperationContext) => {
          const result = settle(state.ledger, ctx);
          // A lot can fall due with nothing in it (all cancelled): a change without a movement.
          if (
            !result.ok ||
            (result.movements.length === 0 && result.lots.length === 0 && result.holds.length === 0)
          ) {
            return { result: 0 };
          }
          return {
            result: result.movements.length,
            write: { actor: "system", ledger: ledgerWrite(state.ledger, result) },
          };
        },
      })),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Brings one customer up to now. */
  settle(customerId: string): Promise<number> {
    return this.settleCustomers([customerId]);
  }

  /**
   * R6 from the balance cache, never from the lots. Settles first when something is due (a pending
   * lot's time, an expiry, a hold's time-out at or before now), so the answer never depends on when
   * the scheduled work last ran.
   */
  async currentBalance(customerId: string): Promise<BalanceSnapshot & { asOf: Date; withinDays: number }> {
    const now = this.clock.now();
    const { expiringWithinDays } = await this.policies.ledgerPolicy(now);
    let snapshot = await this.store.readBalance(customerId, now, expiringWithinDays);
    if (snapshot.nextDueAt && snapshot.nextDueAt.getTime() <= now.getTime()) {
      await this.settle(customerId);
      snapshot = await this.store.readBalance(customerId, now, expiringWithinDays);
    }
    return { ...snapshot, asOf: now, withinDays: expiringWithinDays };
  }

  async balance(customerId: string): Promise<BalanceResponse> {
    const snapshot = await this.currentBalance(customerId);
    return { customerId, asOf: snapshot.asOf.toISOString(), kinds: balanceView(snapshot) };
  }

  async history(
    customerId: string,
    query: HistoryQuery,
  ): Promise<{ items: MovementView[]; nextCursor: string | null }> {
    const [page, categoryNames] = await Promise.all([
      this.store.history(customerId, query),
      this.policies.categoryNames(),
    ]);
    const context = { categoryNames, timeZone: this.timeZone };
    return { items: page.movements.map((m) => movementView(m, context)), nextCursor: page.nextCursor };
  }
}

/** A successful change and the balance cache after it (the cache moved by the change's postings). */
export function ledgerWrite(ledger: CustomerLedger, change: LedgerChange<unknown>) {
  return { change, totals: totalsAfter(ledger.totals, change.movements) };
}
