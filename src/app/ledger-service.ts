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
  ledgerTotals,
  type OperationContext,
  type Refusal,
  refund,
  release,
  settle,
  spend,
  summarizeBalance,
} from "../domain/ledger/index.js";
import type { Clock, CustomerState, CustomerWrite, IdGenerator, LedgerRefs, LedgerStore } from "./ports.js";
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
  code: "IDEMPOTENCY_CONFLICT";
  message: string;
  details: Record<string, unknown>;
  replayed: false;
  requestId: string;
}

export interface BalanceResponse {
  customerId: string;
  asOf: string;
  kinds: Record<PointKind, KindBalanceView>;
}

/** Ledger use cases: each write is one customer transaction, idempotent by (customer, scope, key). */
export class LedgerService {
  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly policies: PolicySource,
  ) {}

  private async context(): Promise<OperationContext> {
    const now = this.clock.now();
    return { now, newId: (prefix) => this.ids.newId(prefix), policy: await this.policies.ledgerPolicy(now) };
  }

  private async write<T, V>(
    customerId: string,
    scope: string,
    request: WriteRequest,
    refs: LedgerRefs,
    operation: (ledger: CustomerLedger, ctx: OperationContext) => LedgerResult<T>,
    present: (value: T) => V,
  ): Promise<WriteResult<V> | ConflictRefusal> {
    // Everything read outside the customer's transaction is read before it: on PGlite the transaction
    // holds the only connection.
    const ctx = await this.context();
    return this.store.withCustomers([customerId], async (tx) => {
      const loaded = await tx.load([
        { customerId, refs, idempotency: { scope, key: request.idempotencyKey } },
      ]);
      const { ledger, outcome: prior } = loaded.get(customerId) as CustomerState;
      if (prior) {
        if (prior.fingerprint !== request.fingerprint) {
          return {
            ok: false,
            code: "IDEMPOTENCY_CONFLICT",
            message: "this Idempotency-Key was used with a different request",
            details: { idempotencyKey: request.idempotencyKey, originalRequestId: prior.requestId },
            replayed: false,
            requestId: request.requestId,
          } satisfies ConflictRefusal;
        }
        return { ...(prior.outcome as Outcome<V>), replayed: true, requestId: prior.requestId };
      }
      const result = operation(ledger, ctx);
      const outcome: Outcome<V> = result.ok
        ? { ok: true, value: present(result.value) }
        : { ok: false, code: result.code, message: result.message, details: result.details };
      await tx.write(
        [
          {
            customerId,
            actor: request.actor,
            ledger: result.ok
              ? { change: result, totals: ledgerTotals(applyChange(ledger, result)) }
              : undefined,
            outcome: {
              scope,
              key: request.idempotencyKey,
              stored: { fingerprint: request.fingerprint, requestId: request.requestId, outcome },
            },
          },
        ],
        ctx.now,
      );
      return { ...outcome, replayed: false, requestId: request.requestId };
    });
  }

  credit(customerId: string, input: CreditInput, request: WriteRequest) {
    return this.write(customerId, "credit", request, {}, (l, c) => credit(l, input, c), lotView);
  }

  adjust(customerId: string, input: AdjustInput, request: WriteRequest) {
    return this.write(
      customerId,
      "adjust",
      request,
      {},
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
      { holdIds: [input.holdId], redemptionIds: [input.holdId] },
      (l, c) => hold(l, input, c),
      holdView,
    );
  }

  capture(customerId: string, holdId: string, request: WriteRequest) {
    return this.write(
      customerId,
      "capture",
      request,
      { holdIds: [holdId] },
      (l, c) => capture(l, { holdId }, c),
      holdView,
    );
  }

  release(customerId: string, holdId: string, request: WriteRequest) {
    return this.write(
      customerId,
      "release",
      request,
      { holdIds: [holdId] },
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
      { holdIds: [input.redemptionId], redemptionIds: [input.redemptionId] },
      (l, c) => spend(l, input, c),
      redemptionView,
    );
  }

  refund(customerId: string, input: { redemptionId: string; amount: number }, request: WriteRequest) {
    return this.write(
      customerId,
      "refund",
      request,
      { redemptionIds: [input.redemptionId] },
      (l, c) => refund(l, input, c),
      (v) => ({ ...redemptionView(v.redemption), graceUntil: v.graceUntil?.toISOString() ?? null }),
    );
  }

  clawback(customerId: string, input: ClawbackInput, request: WriteRequest) {
    return this.write(
      customerId,
      "clawback",
      request,
      { lotIds: input.lotIds ?? [] },
      (l, c) => clawback(l, input, c),
      (v: ClawbackOutcome) => v,
    );
  }

  /**
   * Runs several operations per customer, each at its own instant, for many customers in one
   * transaction, and commits what the successful ones changed (a refused step changes nothing).
   * For loaders and batches; requests from the outside go through the idempotent writes above.
   */
  async runSequences(
    sequences: { customerId: string; steps: Step[] }[],
    actor: string,
  ): Promise<LedgerResult<unknown>[][]> {
    const base = await this.context();
    return this.store.withCustomers(
      sequences.map((s) => s.customerId),
      async (tx) => {
        const loaded = await tx.load(sequences.map((s) => ({ customerId: s.customerId })));
        const writes: CustomerWrite[] = [];
        const results = sequences.map(({ customerId, steps }) => {
          let ledger = (loaded.get(customerId) as CustomerState).ledger;
          let combined: LedgerChange<unknown> | undefined;
          const stepResults = steps.map((step) => {
            const result = step.operation(ledger, { ...base, now: step.at });
            if (result.ok) {
              ledger = applyChange(ledger, result);
              combined = combined ? combineChanges(combined, result) : result;
            }
            return result;
          });
          if (combined)
            writes.push({ customerId, actor, ledger: { change: combined, totals: ledgerTotals(ledger) } });
          return stepResults;
        });
        await tx.write(writes, base.now);
        return results;
      },
    );
  }

  /**
   * Brings customers up to now (R5, R13, R20) in one transaction: what the scheduled work calls for
   * each page of customers with something due. Returns the number of movements written.
   */
  async settleCustomers(customerIds: string[]): Promise<number> {
    const ctx = await this.context();
    return this.store.withCustomers(customerIds, async (tx) => {
      const loaded = await tx.load(customerIds.map((customerId) => ({ customerId })));
      const writes: CustomerWrite[] = [];
      for (const [customerId, state] of loaded) {
        const result = settle(state.ledger, ctx);
        // A lot can fall due with nothing in it (all cancelled): a change without a movement.
        if (
          !result.ok ||
          (result.movements.length === 0 && result.lots.length === 0 && result.holds.length === 0)
        ) {
          continue;
        }
        writes.push({
          customerId,
          actor: "system",
          ledger: { change: result, totals: ledgerTotals(applyChange(state.ledger, result)) },
        });
      }
      if (writes.length > 0) await tx.write(writes, ctx.now);
      return writes.reduce((n, w) => n + (w.ledger?.change.movements.length ?? 0), 0);
    });
  }

  /** Brings one customer up to now. */
  settle(customerId: string): Promise<number> {
    return this.settleCustomers([customerId]);
  }

  /** R6. Settles first when something is due, so the answer never depends on when the jobs last ran. */
  async balance(customerId: string): Promise<BalanceResponse> {
    const now = this.clock.now();
    let ledger = await this.store.readLedger(customerId);
    if (hasDueWork(ledger, now)) {
      await this.settle(customerId);
      ledger = await this.store.readLedger(customerId);
    }
    return {
      customerId,
      asOf: now.toISOString(),
      kinds: balanceView(summarizeBalance(ledger, now, await this.policies.ledgerPolicy(now))),
    };
  }

  async history(
    customerId: string,
    cursor: string | null,
    limit: number,
  ): Promise<{ items: MovementView[]; nextCursor: string | null }> {
    const [page, names] = await Promise.all([
      this.store.history(customerId, cursor, limit),
      this.policies.categoryNames(),
    ]);
    return { items: page.movements.map((m) => movementView(m, names)), nextCursor: page.nextCursor };
  }
}

function hasDueWork(ledger: CustomerLedger, now: Date): boolean {
  const t = now.getTime();
  return (
    ledger.lots.some(
      (l) =>
        (l.state === "pending" && l.availableFrom.getTime() <= t) ||
        (l.state === "available" && l.remaining > 0 && l.expiresAt.getTime() <= t),
    ) || ledger.holds.some((h) => h.state === "active" && h.expiresAt.getTime() <= t)
  );
}
