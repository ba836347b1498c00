import { POINT_KINDS } from "../domain/kinds.js";
import { applyChange, type OperationContext, WorkingSetTooSmall } from "../domain/ledger/index.js";
import {
  type BudgetReservation,
  type Clock,
  type CustomerLoad,
  type CustomerState,
  type CustomerWrite,
  idempotencySlot,
  type LedgerStore,
  type LedgerTransaction,
  type PremiumState,
  type PremiumWrite,
  type ProgrammesLoad,
  type ProgrammesState,
  referralKey,
  type SavingsLoad,
  type SavingsState,
  type SavingsWrite,
} from "./ports.js";
import { DatabaseTimeout, isDatabaseUnavailable } from "./unavailable.js";

/** What one piece of work changed for its customer; `customerId` comes from the work. */
export type CustomerChanges = Omit<CustomerWrite, "customerId">;

/**
 * One request's work on one customer: what to load, and a pure step over the loaded state. `run` may
 * be called more than once (after a wider load, or alone after a failed group): it must not have
 * effects besides its return value.
 */
export interface CustomerWork<R> {
  customerId: string;
  load: Omit<CustomerLoad, "customerId">;
  run(state: CustomerState, ctx: OperationContext): { result: R; write?: CustomerChanges | undefined };
}

export interface GroupCommitOptions {
  /** Lanes, each a range of customer-id hashes with at most one transaction in flight. */
  lanes: number;
  /** Customers whose work one transaction may group; 1 keeps every transaction on one customer. */
  customersPerTransaction: number;
  /**
   * The longest a work waits for the database, queued and in flight, before it fails as unavailable
   * (`DatabaseTimeout`); unset, works wait as long as the database takes.
   */
  databaseWaitMs?: number | undefined;
  /** Runs a transaction so that none of its statements outlives `ms` (the store's statement bound). */
  bounded?: (<T>(ms: number, work: () => Promise<T>) => Promise<T>) | undefined;
}

interface Queued {
  work: CustomerWork<unknown>;
  /** performance.now() when it was submitted: its wait for the database counts from here. */
  submittedAt: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Answer = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How often one customer's load may be widened in one transaction before it is a bug. */
const MAX_WIDENINGS = 8;

/**
 * 32-bit FNV-1a of the customer id. Lanes are contiguous ranges of it — the way a database
 * distributed by customer splits customers into shards — so one group commit stays in one range.
 */
export function customerHash(customerId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) {
    hash ^= customerId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Which of `ranges` contiguous ranges of customer-id hashes a customer falls in. */
export function hashRangeOf(customerId: string, ranges: number): number {
  return Math.floor((customerHash(customerId) * ranges) / 2 ** 32);
}

/**
 * Group commit across requests, as TigerBeetle batches transfers: concurrent work for different
 * customers shares transactions. Each customer maps to one lane by its hash; a lane runs one
 * transaction at a time, taking what is queued (up to `customersPerTransaction` customers): one load
 * statement, each work's pure step in arrival order, one write statement, one commit, and each waiter
 * gets its own answer. A customer's work never waits on another in-flight transaction of this
 * instance for its lock (across instances the customers' row locks still order it).
 *
 * A refusal is a work's own result and answers only it. A work that throws answers only itself. A
 * transaction that fails (not a retryable conflict: the store retries those whole) is split: every
 * work runs again alone, so a failure never answers for work that would have succeeded alone —
 * unless the database is unavailable, which would fail each of them alone too.
 *
 * With `databaseWaitMs`, every work has answered by then: one still queued when its time is up fails
 * without starting, and a transaction's statements end by the earliest deadline of its works.
 */
export class GroupCommitter {
  private readonly lanes: Lane[];

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly contextAt: (now: Date) => Promise<OperationContext>,
    private readonly options: GroupCommitOptions,
  ) {
    this.lanes = Array.from({ length: Math.max(1, options.lanes) }, () => new Lane(this));
  }

  private laneOf(customerId: string): Lane {
    return this.lanes[hashRangeOf(customerId, this.lanes.length)] as Lane;
  }

  /** Customers grouped by the lane (hash range) they belong to, for work that batches outside lanes. */
  byHashRange(customerIds: readonly string[]): string[][] {
    const ranges = new Map<number, string[]>();
    for (const id of customerIds) {
      const range = hashRangeOf(id, this.lanes.length);
      ranges.set(range, [...(ranges.get(range) ?? []), id]);
    }
    return [...ranges.values()];
  }

  /**
   * Customers in the groups a set-based statement takes them in outside the lanes: one hash range
   * and at most `customersPerTransaction` customers each, as a group commit — a transaction never
   * spans two (future) shards, nor more customers than allowed.
   */
  transactionGroups(customerIds: readonly string[]): string[][] {
    const size = this.customersPerTransaction;
    return this.byHashRange(customerIds).flatMap((range) =>
      Array.from({ length: Math.ceil(range.length / size) }, (_, i) => range.slice(i * size, (i + 1) * size)),
    );
  }

  submit<R>(work: CustomerWork<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.laneOf(work.customerId).enqueue({
        work: work as CustomerWork<unknown>,
        submittedAt: performance.now(),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
    });
  }

  submitAll<R>(works: CustomerWork<R>[]): Promise<R[]> {
    return Promise.all(works.map((w) => this.submit(w)));
  }

  /** Resolves when every lane is idle (for shutdown and tests). */
  async drained(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.idle()));
  }

  /** Works queued in each lane, not yet in a transaction (for /metrics). */
  queueDepths(): number[] {
    return this.lanes.map((l) => l.depth);
  }

  /** How many transactions of this instance write at once (KOPILKA_WRITE_LANES; PGlite: 1). */
  get laneCount(): number {
    return this.lanes.length;
  }

  get customersPerTransaction(): number {
    return Math.max(1, this.options.customersPerTransaction);
  }

  /** Works whose wait for the database is over answer so now, without starting. */
  expired(queued: Queued, at: number): boolean {
    const waitMs = this.options.databaseWaitMs;
    if (waitMs === undefined || at - queued.submittedAt < waitMs) return false;
    queued.reject(new DatabaseTimeout("no database transaction could take this write", waitMs));
    return true;
  }

  /** Runs a group as one transaction; if it fails, each of its works alone. */
  async commit(group: Queued[]): Promise<void> {
    const waitMs = this.options.databaseWaitMs;
    const bounded = this.options.bounded;
    const earliest = Math.min(...group.map((q) => q.submittedAt));
    const left = waitMs === undefined ? Number.POSITIVE_INFINITY : earliest + waitMs - performance.now();
    let answers: Map<Queued, Answer>;
    try {
      const transaction = () => this.transact(group);
      answers = await (bounded && left !== Number.POSITIVE_INFINITY
        ? bounded(left, transaction)
        : transaction());
    } catch (error) {
      if (group.length === 1 || isDatabaseUnavailable(error)) {
        for (const q of group) q.reject(error);
        return;
      }
      for (const q of group) await this.commit([q]);
      return;
    }
    for (const q of group) {
      const answer = answers.get(q);
      if (!answer) q.reject(new Error("the group commit gave this work no answer"));
      else if (answer.ok) q.resolve(answer.value);
      else q.reject(answer.error);
    }
  }

  private async transact(group: Queued[]): Promise<Map<Queued, Answer>> {
    // Read outside the transaction: on PGlite the transaction holds the only connection.
    const now = this.clock.now();
    const ctx = await this.contextAt(now);
    const customers = [...new Set(group.map((q) => q.work.customerId))];
    return this.store.withCustomers(customers, (tx) => runGroup(tx, group, ctx));
  }
}

class Lane {
  private readonly queue: Queued[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly committer: GroupCommitter) {}

  enqueue(item: Queued): void {
    this.queue.push(item);
    if (!this.running) this.running = this.drain();
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  get depth(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        if (group.length > 0) await this.committer.commit(group);
      }
    } finally {
      this.running = null;
    }
  }

  /**
   * The longest head of the queue with at most `customersPerTransaction` customers: arrival order
   * kept. Works whose wait is over have answered and leave the queue first.
   */
  private takeGroup(): Queued[] {
    const now = performance.now();
    const waiting = this.queue.filter((q) => !this.committer.expired(q, now));
    this.queue.splice(0, this.queue.length, ...waiting);
    const limit = this.committer.customersPerTransaction;
    const customers = new Set<string>();
    let n = 0;
    for (; n < this.queue.length; n++) {
      const id = (this.queue[n] as Queued).work.customerId;
      if (!customers.has(id) && customers.size === limit) break;
      customers.add(id);
    }
    return this.queue.splice(0, n);
  }
}

/**
 * How often a group decides its budget reservations again on slices that moved since they were
 * loaded (each round locks the slices it tried, so this ends): more means a bug.
 */
const MAX_BUDGET_ROUNDS = 2 * 16;

/**
 * All the group's works: one load, each customer's works in order, one write. Budget reservations
 * (R22, R26) go first: when another transaction took from a slice since the load, the reservation
 * changes nothing but locks the slices it tried; they are read again, now stable, and every work
 * runs again on them — decided anew rather than failed.
 */
async function runGroup(tx: LedgerTransaction, group: Queued[], ctx: OperationContext) {
  const byCustomer = new Map<string, Queued[]>();
  for (const q of group) byCustomer.set(q.work.customerId, [...(byCustomer.get(q.work.customerId) ?? []), q]);
  const loads = [...byCustomer].map(([customerId, items]) => mergeLoads(customerId, items));
  const states = await tx.load(loads, ctx.now);
  for (let round = 1; ; round++) {
    const { answers, writes } = await runCustomers(tx, loads, byCustomer, states, ctx);
    const reservations = writes.flatMap((w) => w.budgetReservations ?? []);
    if (reservations.length === 0 || (await tx.reserveFromBudgets(reservations))) {
      if (writes.length > 0) await tx.write(writes, ctx.now);
      return answers;
    }
    if (round >= MAX_BUDGET_ROUNDS) throw new Error("budget reservations did not settle");
    const fresh = await tx.budgetSlices([...new Set(reservations.map((r) => r.budgetId))]);
    for (const state of states.values())
      for (const [id, slices] of fresh) if (state.budgets.has(id)) state.budgets.set(id, slices);
  }
}

/** Every customer's works on its loaded state, widening a load that fell short (R4). */
async function runCustomers(
  tx: LedgerTransaction,
  loads: CustomerLoad[],
  byCustomer: Map<string, Queued[]>,
  states: Map<string, CustomerState>,
  ctx: OperationContext,
) {
  const answers = new Map<Queued, Answer>();
  const writes: CustomerWrite[] = [];
  // Budgets are shared: each customer sees the slices as the customers before it in this
  // transaction left them, so that together they reserve no more than the slices hold.
  const seenBy = (state: CustomerState): CustomerState => ({
    ...state,
    budgets: withReservations(
      state.budgets,
      writes.flatMap((w) => w.budgetReservations ?? []),
    ),
  });
  for (const load of loads) {
    const items = byCustomer.get(load.customerId) as Queued[];
    let state = seenBy(states.get(load.customerId) as CustomerState);
    for (let widenings = 0; ; widenings++) {
      try {
        const done = runCustomer(state, items, ctx);
        for (const [q, a] of done.answers) answers.set(q, a);
        writes.push(...done.writes);
        break;
      } catch (error) {
        if (!(error instanceof WorkingSetTooSmall) || widenings >= MAX_WIDENINGS) throw error;
        // R4: the prefix did not reach far enough for this customer: load a wider one and run its
        // works again from the start (nothing is written until every customer is done).
        const spend = load.spend ?? {};
        spend[error.kind] = Math.max(spend[error.kind] ?? 0, error.atLeast);
        load.spend = spend;
        load.spendBeyondBalance = true;
        const wider = (await tx.load([load], ctx.now)).get(load.customerId) as CustomerState;
        // The slices stay as this transaction read (or locked) them.
        states.set(load.customerId, {
          ...wider,
          budgets: (states.get(load.customerId) as CustomerState).budgets,
        });
        state = seenBy(states.get(load.customerId) as CustomerState);
      }
    }
  }
  return { answers, writes };
}

/** R22, R26: loaded budget slices as they stand after these reservations. */
export function withReservations(
  budgets: CustomerState["budgets"],
  reservations: readonly BudgetReservation[],
): CustomerState["budgets"] {
  if (reservations.length === 0) return budgets;
  const next = new Map(budgets);
  for (const r of reservations) {
    const slices = next.get(r.budgetId);
    if (slices)
      next.set(
        r.budgetId,
        slices.map((s) => (s.slice === r.slice ? { ...s, reserved: s.reserved + r.points } : s)),
      );
  }
  return next;
}

/** One customer's works in arrival order, each on the state the ones before it left. */
function runCustomer(initial: CustomerState, items: Queued[], ctx: OperationContext) {
  let state = initial;
  const answers: [Queued, Answer][] = [];
  const writes: CustomerWrite[] = [];
  for (const q of items) {
    let done: ReturnType<CustomerWork<unknown>["run"]>;
    try {
      done = q.work.run(state, ctx);
    } catch (error) {
      if (error instanceof WorkingSetTooSmall) throw error;
      answers.push([q, { ok: false, error }]);
      continue;
    }
    answers.push([q, { ok: true, value: done.result }]);
    if (done.write) {
      writes.push({ ...done.write, customerId: q.work.customerId });
      state = advance(state, done.write);
    }
  }
  return { answers, writes };
}

/** One load that serves every work of a customer. */
function mergeLoads(customerId: string, items: Queued[]): CustomerLoad {
  const union = (pick: (l: CustomerWork<unknown>["load"]) => readonly string[] | undefined) => [
    ...new Set(items.flatMap((q) => pick(q.work.load) ?? [])),
  ];
  const spend: CustomerLoad["spend"] = {};
  for (const q of items)
    for (const kind of POINT_KINDS) {
      const amount = q.work.load.spend?.[kind] ?? 0;
      if (amount > 0) spend[kind] = (spend[kind] ?? 0) + amount;
    }
  return {
    customerId,
    refs: {
      holdIds: union((l) => l.refs?.holdIds),
      redemptionIds: union((l) => l.refs?.redemptionIds),
      lotIds: union((l) => l.refs?.lotIds),
    },
    spend,
    spendBeyondBalance: items.some((q) => q.work.load.spendBeyondBalance),
    orderIds: union((l) => l.orderIds),
    eventIds: union((l) => l.eventIds),
    idempotency: items.flatMap((q) => q.work.load.idempotency ?? []),
    reviewIds: union((l) => l.reviewIds),
    reviewSkus: union((l) => l.reviewSkus),
    budgetIds: union((l) => l.budgetIds),
    ...mergeSavingsLoads(items.map((q) => q.work.load.savings)),
    ...mergeProgrammesLoads(items.map((q) => q.work.load.programmes)),
    ...(items.some((q) => q.work.load.premium) ? { premium: true } : {}),
  };
}

/** R23, R24: every row any work asks for (a customer's works settle at most one month at a time). */
function mergeProgrammesLoads(loads: (ProgrammesLoad | undefined)[]): { programmes?: ProgrammesLoad } {
  const asked = loads.filter((l): l is ProgrammesLoad => l !== undefined);
  if (asked.length === 0) return {};
  const union = (pick: (l: ProgrammesLoad) => readonly string[] | undefined) => [
    ...new Set(asked.flatMap((l) => pick(l) ?? [])),
  ];
  const referralsOfMonth = asked.find((l) => l.referralsOfMonth)?.referralsOfMonth;
  return {
    programmes: {
      inviteCode: asked.some((l) => l.inviteCode),
      invitation: asked.some((l) => l.invitation),
      isNew: asked.some((l) => l.isNew),
      manager: asked.some((l) => l.manager),
      invitedFriendIds: union((l) => l.invitedFriendIds),
      referredOrderIds: union((l) => l.referredOrderIds),
      managerMonths: union((l) => l.managerMonths),
      referrals: [
        ...new Map(
          asked.flatMap((l) => l.referrals ?? []).map((r) => [referralKey(r.buyerId, r.orderId), r]),
        ).values(),
      ],
      ...(referralsOfMonth ? { referralsOfMonth } : {}),
    },
  };
}

/** R23, R24: the programme rows as a later work of the same transaction sees them. */
function advanceProgrammes(state: ProgrammesState, write: CustomerChanges): ProgrammesState {
  const p = write.programmes;
  if (!p) return state;
  const next: ProgrammesState = {
    ...state,
    invitedFriends: new Map(state.invitedFriends),
    referredOrders: new Map(state.referredOrders),
    referrals: new Map(state.referrals),
    managerMonths: new Map(state.managerMonths),
  };
  if (p.inviteCode) next.inviteCode = p.inviteCode;
  if (p.invitation) next.invitation = p.invitation;
  if (p.manager) next.manager = p.manager.manager;
  // A customer with an invitation, a code or a movement is not new any more.
  if (p.invitation || write.ledger || (write.orders?.length ?? 0) > 0) next.isNew = false;
  for (const f of p.invitedFriends ?? []) next.invitedFriends.set(f.friendId, f);
  for (const r of p.referredOrders ?? []) next.referredOrders.set(r.orderId, r);
  for (const r of p.referrals ?? []) next.referrals.set(referralKey(r.buyerId, r.orderId), r);
  for (const d of p.monthDeltas ?? []) {
    // A month no work of the customer loaded is not looked at by any of them.
    const m = next.managerMonths.get(d.month);
    if (!m) continue;
    next.managerMonths.set(d.month, {
      ...m,
      purchasesKop: m.purchasesKop + (m.settledAt ? 0 : d.purchasesKop),
      referralPoints: m.referralPoints + d.referralPoints,
    });
  }
  for (const m of p.settledMonths ?? []) next.managerMonths.set(m.month, m);
  return next;
}

/**
 * R25: the entries every work names; the month the first one being paid asks for (a run pays one);
 * the entries after the earliest instant a late withdrawal asks about.
 */
function mergeSavingsLoads(loads: (SavingsLoad | undefined)[]): { savings?: SavingsLoad } {
  const asked = loads.filter((l): l is SavingsLoad => l !== undefined);
  if (asked.length === 0) return {};
  const month = asked.find((l) => l.month)?.month;
  const instants = asked.flatMap((l) => (l.laterThan ? [l.laterThan.getTime()] : []));
  return {
    savings: {
      entryIds: [...new Set(asked.flatMap((l) => l.entryIds ?? []))],
      ...(month ? { month } : {}),
      ...(instants.length > 0 ? { laterThan: new Date(Math.min(...instants)) } : {}),
    },
  };
}

/** R25: the savings account as a later work of the same transaction sees it. */
function advanceSavings(state: SavingsState | undefined, write: SavingsWrite | undefined) {
  if (!state || !write) return state;
  const entries = new Map(state.entries);
  for (const e of write.entries ?? []) entries.set(e.entryId, e);
  const month = state.month && {
    ...state.month,
    entries: [
      ...state.month.entries,
      ...(write.entries ?? []).filter(
        (e) =>
          e.occurredAt >= (state.month as { start: Date }).start &&
          e.occurredAt < (state.month as { end: Date }).end,
      ),
    ],
    opening:
      state.month.opening +
      (write.entries ?? [])
        .filter((e) => e.occurredAt < (state.month as { start: Date }).start)
        .reduce((sum, e) => sum + (e.type === "deposit" ? e.amount : -e.amount), 0),
    paid: state.month.paid || write.interest?.month === state.month.month,
  };
  const later = state.later && {
    ...state.later,
    entries: [
      ...state.later.entries,
      ...(write.entries ?? []).filter((e) => e.occurredAt > (state.later as { after: Date }).after),
    ],
  };
  return {
    balance: write.account?.balance ?? state.balance,
    rateBp: write.account ? write.account.rateBp : state.rateBp,
    mechanic: write.account?.mechanic ?? state.mechanic,
    entries,
    ...(month ? { month } : {}),
    ...(later ? { later } : {}),
  };
}

/** The state as a later work of the same transaction sees it: what the earlier ones wrote, applied. */
export function advance(state: CustomerState, write: CustomerChanges): CustomerState {
  const orders = new Map(state.orders.map((o) => [o.orderId, o]));
  for (const o of write.orders ?? []) orders.set(o.orderId, o);
  const events = new Map(state.events.map((e) => [e.eventId, e]));
  const parked = new Map(state.parked.map((e) => [e.event.eventId, e]));
  const refusedInSequence = [...state.refusedInSequence];
  for (const e of write.events ?? []) {
    const { event, outcome } = e;
    events.set(event.eventId, {
      eventId: event.eventId,
      fingerprint: e.fingerprint,
      outcome,
      requestId: e.requestId,
    });
    if (outcome.status === "parked") parked.set(event.eventId, e);
    else parked.delete(event.eventId);
    if (outcome.status === "refused" && event.sequence !== undefined)
      refusedInSequence.push({
        eventId: event.eventId,
        orderId: event.orderId,
        sequence: event.sequence,
        code: outcome.error.code,
      });
  }
  const outcomes = new Map(state.outcomes);
  for (const o of write.outcomes ?? []) outcomes.set(idempotencySlot(o), o.stored);
  const reviews = new Map(state.reviews.map((r) => [r.review.reviewId, r]));
  for (const r of write.reviews ?? []) reviews.set(r.review.reviewId, r);
  return {
    reviews: [...reviews.values()],
    budgets: withReservations(state.budgets, write.budgetReservations ?? []),
    ledger: write.ledger ? applyChange(state.ledger, write.ledger.change) : state.ledger,
    orders: [...orders.values()],
    events: [...events.values()],
    parked: [...parked.values()],
    refusedInSequence,
    outcomes,
    ...(state.savings ? { savings: advanceSavings(state.savings, write.savings) as SavingsState } : {}),
    ...(state.programmes ? { programmes: advanceProgrammes(state.programmes, write) } : {}),
    ...(state.premium ? { premium: advancePremium(state.premium, write.premium) } : {}),
  };
}

/** R28: the periods as a later work of the same transaction sees them. */
function advancePremium(state: PremiumState, write: PremiumWrite | undefined): PremiumState {
  if (!write) return state;
  return { periods: new Map(state.periods).set(write.period.periodId, write.period) };
}
