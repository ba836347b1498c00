import type { Invitation, InviteCode, InvitedFriend, InviteEffect } from "../domain/invites/index.js";
import type { PointKind } from "../domain/kinds.js";
import type { BalanceTotals, CustomerLedger, LedgerChange, Movement } from "../domain/ledger/index.js";
import type {
  Manager,
  ManagerMonth,
  ManagerReferral,
  ReferralEffect,
  ReferredOrder,
} from "../domain/managers/index.js";
import type {
  ConfigVersion,
  EventEffect,
  Order,
  OrderEvent,
  OrderState,
  ProgrammeConfig,
  RefusedInSequence,
} from "../domain/orders/index.js";
import type { PremiumInterval, PremiumPeriod } from "../domain/premium/index.js";
import type { BudgetSlice, Review } from "../domain/reviews/index.js";
import type { CalendarMonth, SavingsEntry, SavingsMechanic } from "../domain/savings/index.js";
import type { OrderDay } from "../domain/segments/stats.js";
import type { SellerStatsDelta } from "../domain/seller-discounts/stats.js";
import type { Outcome, WriteRequest } from "./ledger-service.js";

/** The only clock the use cases read; tests pass a fake one fixed at a reference instant. */
export interface Clock {
  now(): Date;
}

export const ID_PREFIXES = ["mov", "lot", "req", "key", "aud", "ntf", "whk", "cmp"] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

/**
 * Prefixed, time-ordered ids (`mov_01J…`): the prefix, `_` and 26 Crockford base-32 digits, which
 * is how movements reference lots (by the digits).
 */
export interface IdGenerator {
  newId(prefix: IdPrefix): string;
  /**
   * The first 19 digits of a block of 2^35 ids that sort after every id made so far and before any
   * made later: a set-based statement appends 7 base-32 digits of an ordinal to make each of its ids.
   */
  newIdBlock(prefix: IdPrefix): string;
}

/** How many base-32 digits an id block leaves for the ordinal (`IdGenerator.newIdBlock`). */
export const ID_BLOCK_DIGITS = 7;

/**
 * Runs `write` in one transaction under the caller's Idempotency-Key for `subject` (migration 14,
 * writes that name no customer: a webhook subscription's id, a campaign's): a key used before gives
 * its stored answer (`prior`) and runs nothing; otherwise `write`'s answer is stored with the key.
 * Concurrent requests with one key run one after the other. `Writes` is what the transaction may do.
 */
export type KeyedWriteRun<Writes> = <T>(
  scope: string,
  subject: string,
  request: WriteRequest,
  at: Date,
  write: (tx: Writes) => Promise<Outcome<T>>,
) => Promise<{ prior: StoredOutcome } | { stored: Outcome<T> }>;

/** What a write answered, kept so that a retry with the same key gets the same answer. */
export interface StoredOutcome {
  /** The operation the key was first used for (`credit`, `spend` …). */
  scope: string;
  fingerprint: string;
  requestId: string;
  outcome: unknown;
}

/** Which holds, redemptions and lots an operation names (the lots behind their takes come too). */
export interface LedgerRefs {
  holdIds?: string[];
  redemptionIds?: string[];
  lotIds?: string[];
}

/**
 * An Idempotency-Key as stored: per customer and caller (the API key id, `customer:<id>` for a
 * customer token, `cli:<user>`), with the operation (`scope`) it is used for.
 */
export interface IdempotencyRef {
  caller: string;
  key: string;
  scope: string;
}

/**
 * What one transaction loads for one of its customers: its working set. Whatever time has made due
 * (pending lots, expiries, hold time-outs, and the lots behind those holds) always comes; the rest is
 * what the operations name. Nothing here scales with the customer's history.
 */
export interface CustomerLoad {
  customerId: string;
  refs?: LedgerRefs;
  /** R4: per kind, the points the loaded prefix of spendable lots must cover (a spend or hold). */
  spend?: Partial<Record<PointKind, number>>;
  /**
   * Load the prefix even where the balance cannot cover it. First loads skip a prefix that cannot be
   * spent (a refusal must not read every lot); a load widened after WorkingSetTooSmall does not.
   */
  spendBeyondBalance?: boolean;
  /** Orders with their lots (returns claw back from them first). */
  orderIds?: string[];
  eventIds?: string[];
  idempotency?: IdempotencyRef[];
  /** R22: reviews by id, with the lots their points wait in. */
  reviewIds?: string[];
  /** R22: the customer's reviews of these products that hold a reward (one per product). */
  reviewSkus?: string[];
  /** R22, R26: every slice of these budgets (`review:<sellerId>`, `campaign:<campaignId>`). */
  budgetIds?: string[];
  /** R25: the savings account, the entries named, and a month's opening balance and entries. */
  savings?: SavingsLoad;
  /** R23, R24: what of the invite and manager programmes the work can touch. */
  programmes?: ProgrammesLoad;
  /** R28: the customer's Premium periods (every one: a period write rewrites the coverage). */
  premium?: boolean;
}

/** R28: the customer's Premium periods as loaded, by period id (the version in force of each). */
export interface PremiumState {
  periods: Map<string, PremiumPeriod>;
}

/** R28: a period reported with new dates, the customer's coverage after it, and its audit row. */
export interface PremiumWrite {
  period: PremiumPeriod;
  /** The version it replaces; null: the period is new. */
  before: PremiumPeriod | null;
  coverage: PremiumInterval[];
  auditId: string;
}

/** R23, R24: programme rows one customer's work can touch; each is an index probe. */
export interface ProgrammesLoad {
  /** R23: the customer's own invite code, and its invitation as a friend. */
  inviteCode?: boolean;
  invitation?: boolean;
  /** R23: whether the customer has never had an order or a movement (a new customer). */
  isNew?: boolean;
  /** R23, the inviter's side: invited friends by id, with their reward lots. */
  invitedFriendIds?: string[];
  /** R24, the buyer's side: orders placed with a promo code, by order id. */
  referredOrderIds?: string[];
  /** R24: the customer's manager status. */
  manager?: boolean;
  /** R24, the manager's side: referrals by (buyer, order), with their lots. */
  referrals?: { buyerId: string; orderId: string }[];
  /** R24: (manager, month) rows by month. */
  managerMonths?: string[];
  /** R24: every referral of a month, with its lots (the month-end run). */
  referralsOfMonth?: string;
}

/** R23, R24: the programme rows a customer's work loaded. */
export interface ProgrammesState {
  inviteCode: InviteCode | undefined;
  invitation: Invitation | undefined;
  isNew: boolean;
  /** By friend id. */
  invitedFriends: Map<string, InvitedFriend>;
  /** By order id. */
  referredOrders: Map<string, ReferredOrder>;
  manager: Manager | undefined;
  /** By `referralKey(buyerId, orderId)`. */
  referrals: Map<string, ManagerReferral>;
  /** By month (YYYY-MM). */
  managerMonths: Map<string, ManagerMonth>;
}

/** The programme rows of a state whose work asked for them (a work that did not is a bug). */
export function programmesOf(state: { programmes?: ProgrammesState | undefined }): ProgrammesState {
  if (!state.programmes) throw new Error("the work did not load the programmes it reads");
  return state.programmes;
}

export function referralKey(buyerId: string, orderId: string): string {
  return `${buyerId}\u0000${orderId}`;
}

/** An effect on another customer, recorded in this customer's work and applied in the other's (R23, R24). */
export interface OutgoingEffect {
  /** Unique per source customer; the snapshot's sequence number is part of it. */
  effectId: string;
  targetCustomerId: string;
  payload: InviteEffect | ReferralEffect;
}

/** R23, R24: what one customer's work writes to the programmes' rows. */
export interface ProgrammesWrite {
  /** An invite code made for the customer (also written to the lookup by code). */
  inviteCode?: InviteCode & { createdAt: Date };
  invitation?: Invitation;
  invitedFriends?: InvitedFriend[];
  referredOrders?: ReferredOrder[];
  /** A grant or revocation, with the audit row of who, when, from what to what. */
  manager?: {
    manager: Manager;
    auditId: string;
    action: "managers.grant" | "managers.revoke";
    before: Manager | null;
  };
  referrals?: ManagerReferral[];
  /**
   * Additions to (manager, month) rows: own purchases (dropped once the month is settled) and pending
   * referral points; and months settled by this work.
   */
  monthDeltas?: { month: string; purchasesKop: number; referralPoints: number }[];
  settledMonths?: ManagerMonth[];
}
/** R25: what of a savings account one operation can touch. */
export interface SavingsLoad {
  entryIds?: string[];
  /** A month being paid: the balance at `start`, the entries in [start, end), whether it was paid. */
  month?: Pick<CalendarMonth, "month" | "start" | "end">;
  /** A withdrawal's instant: the entries after it (`SavingsState.later`). */
  laterThan?: Date;
}

/** R25: a savings account as loaded. */
export interface SavingsState {
  /** The balance of every entry so far, kopecks; 0 for an account without a row. */
  balance: number;
  /** The operator's rate for this customer, basis points; null: the programme's. */
  rateBp: number | null;
  /** R25: what the account earns, monthly interest or purchase cashback (the operator's setting). */
  mechanic: SavingsMechanic;
  /** The entries asked for by id that exist, with the balance right after each. */
  entries: Map<string, RecordedSavingsEntry>;
  month?: { month: string; start: Date; end: Date; opening: number; entries: SavingsEntry[]; paid: boolean };
  /**
   * Asked with `laterThan`: the entries that occurred after that instant, from which the lowest balance
   * from an instant on follows (a withdrawal reported late may take at most that). Reading them costs
   * the entries after the instant only: none for a report in time order.
   */
  later?: { after: Date; entries: SavingsEntry[] };
}

/** R25: an entry as stored, with the account's balance right after it. */
export interface RecordedSavingsEntry extends SavingsEntry {
  balanceAfter: number;
}

/** R25: a month's interest as recorded, one row per (customer, month). */
export interface SavingsInterestRecord {
  month: string;
  points: number;
  balanceDays: bigint;
  days: number;
  rateBp: number;
  movementId: string | null;
}

/** R25: what one customer's work writes to its savings account. */
export interface SavingsWrite {
  /** The account row after the write. */
  account?: SavingsAccountRow;
  entries?: RecordedSavingsEntry[];
  interest?: SavingsInterestRecord;
  /** An operator's change of one of the customer's settings, for audit_log (who, when, from what to what). */
  settingChange?: SavingsSettingChange;
}

/** R25: a savings_accounts row: the balance it caches and the customer's own settings. */
export type SavingsAccountRow = Pick<SavingsState, "balance" | "rateBp" | "mechanic">;

/** R25: the customer's own settings an operator may change, each audited as `savings.set_<setting>`. */
export type SavingsSettingChange =
  | { auditId: string; setting: "rate"; before: { rateBp: number | null }; after: { rateBp: number | null } }
  | {
      auditId: string;
      setting: "mechanic";
      before: { mechanic: SavingsMechanic };
      after: { mechanic: SavingsMechanic };
    };

/** One caller's key: the scope is what it was used for, not part of what it is. */
export function idempotencySlot(ref: Pick<IdempotencyRef, "caller" | "key">): string {
  return `${ref.caller}\u0000${ref.key}`;
}

/** One customer's state as loaded: the ledger's working set plus the orders, events and stored answers. */
export interface CustomerState {
  ledger: CustomerLedger;
  orders: Order[];
  /** The events asked for by id that were received before. */
  events: ReceivedEvent[];
  /** Parked events of the orders asked for, in the order they arrived. */
  parked: StoredOrderEvent[];
  /** Refused events with a sequence of the orders asked for, above the order's last applied one. */
  refusedInSequence: RefusedInSequence[];
  /** Stored answers by `idempotencySlot`. */
  outcomes: Map<string, StoredOutcome>;
  /** R25: present when the load asked for it. */
  savings?: SavingsState;
  /** R22: the reviews asked for, by id or as a product's rewarded review. */
  reviews: StoredReview[];
  /** R22, R26: the slices of the budgets asked for, by budget id (one never funded has none). */
  budgets: Map<string, BudgetSlice[]>;
  /** R23, R24: present when the load asked for it. */
  programmes?: ProgrammesState;
  /** R28: present when the load asked for it. */
  premium?: PremiumState;
}

/** R22, R26: points reserved (positive) or given back (negative) on one slice of a budget. */
export interface BudgetReservation {
  budgetId: string;
  slice: number;
  points: number;
}

/** A review as stored: with the fingerprint and answer of its report, which a redelivery gets again. */
export interface StoredReview {
  review: Review;
  fingerprint: string;
  /** What the report was answered: the review, or a refusal. */
  outcome: unknown;
  requestId: string;
}

/** What one transaction writes for one of its customers. */
export interface CustomerWrite {
  customerId: string;
  /** The movements and changed lots/holds/redemptions, and the balance cache after them. */
  ledger?: { change: LedgerChange<unknown>; totals: Record<PointKind, BalanceTotals> };
  orders?: Order[];
  /** The orders among `orders` this write creates (placed): their lines are stored once, now. */
  newOrderIds?: string[];
  events?: StoredOrderEvent[];
  outcomes?: (IdempotencyRef & { stored: StoredOutcome })[];
  savings?: SavingsWrite;
  /** R22: reviews recorded or moderated. */
  reviews?: StoredReview[];
  /** R22, R26: the budget reservations this write makes; one that the budget cannot hold fails it. */
  budgetReservations?: BudgetReservation[];
  /** R23, R24. */
  programmes?: ProgrammesWrite;
  /** R28. */
  premium?: PremiumWrite;
  /**
   * R27: changes to the customer's statistics with sellers, from its order events. Added to the
   * stored rows, never read by the work: nothing in a transaction depends on them.
   */
  sellerStats?: SellerStatsDelta[];
  /** R29: changes to the customer's orders by day, added to the stored rows like `sellerStats`. */
  orderDays?: OrderDay[];
  /** Effects on other customers, for the relay to apply in their own work. */
  effects?: OutgoingEffect[];
  /** The API key id, `customer:<id>` or `system`: recorded on every movement (R34 audit). */
  actor: string;
}

/**
 * One transaction holding the locks of its customers. Loading is one statement and writing is one
 * statement, whatever the number of customers: round trips, not rows, are what cost here.
 */
export interface LedgerTransaction {
  /** `now` decides what is due: the instant the operations run at. */
  load(requests: CustomerLoad[], now: Date): Promise<Map<string, CustomerState>>;
  /** Everything but the budget reservations, which `reserveFromBudgets` made before. */
  write(writes: CustomerWrite[], at: Date): Promise<void>;
  /**
   * R22, R26: moves each budget slice by its reservations, all or none. None when a slice no longer
   * holds what is reserved from it (another transaction took from it since the load); the slices
   * tried are locked until the transaction ends either way.
   */
  reserveFromBudgets(reservations: readonly BudgetReservation[]): Promise<boolean>;
  /** R22, R26: the budgets' slices as they are now (read again after a reservation was refused). */
  budgetSlices(budgetIds: readonly string[]): Promise<Map<string, BudgetSlice[]>>;
  /**
   * R5, R13 set-based for the transaction's customers: due pending lots become available, expired
   * lots are written off, with the movements the per-customer path would write. Customers with a
   * debt or a timed-out hold are left for the per-customer path and returned.
   */
  settleDueLotsInBulk(
    now: Date,
    movementIdBase: string,
  ): Promise<{ movements: number; perCustomer: string[] }>;
  /**
   * R25 set-based for the transaction's customers: pays `run.month`'s interest with the lots,
   * movements, balance cache and savings_interest rows the per-customer path writes. Customers whose
   * credit depends on more (a savings debt, anything due to settle first) are left and returned.
   */
  payInterestInBulk(
    run: SavingsInterestBulk,
  ): Promise<{ accounts: number; points: number; perCustomer: string[] }>;
}

/** R25: one month's run over a transaction's customers, set-based (src/infra/savings-interest-bulk.ts). */
export interface SavingsInterestBulk {
  month: CalendarMonth;
  /** A day ends at midnight here (KOPILKA_TIME_ZONE). */
  timeZone: string;
  /** The programme's yearly rate for accounts without their own, basis points. */
  programmeRateBp: number;
  now: Date;
  /** R3: when the points credited now expire. */
  expiresAt: Date;
  /** IdGenerator.newIdBlock("mov") and ("lot"). */
  movementIdBlock: string;
  lotIdBlock: string;
}

export interface BalanceSnapshot {
  totals: Record<PointKind, BalanceTotals>;
  /** Points of available lots expiring after now and within the days asked for, and the nearest date. */
  expiringSoon: Record<PointKind, { amount: number; nearestDate: Date | null }>;
  /** The earliest instant something falls due (a pending lot, an expiry, a hold time-out), if any. */
  nextDueAt: Date | null;
}

/** A page of a customer's history, newest first, narrowed by what is given. */
export interface HistoryQuery {
  cursor: string | null;
  limit: number;
  kind?: PointKind | undefined;
  type?: Movement["type"] | undefined;
  /** The movement's reference: an order id, a hold or spend id, the caller's own reference. */
  reference?: string | undefined;
  /** occurredAt at or after `from` and before `to`. */
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface HistoryPage {
  movements: (Omit<Movement, "causedBy"> & { actor: string })[];
  nextCursor: string | null;
}

export interface LedgerStore {
  /**
   * Runs `work` in one transaction holding the customers' locks (taken in a fixed order); creates
   * customers that are new. A serialization failure or deadlock runs it again from the start.
   */
  withCustomers<T>(customerIds: string[], work: (tx: LedgerTransaction) => Promise<T>): Promise<T>;
  /** R6 without locking and without loading lots: the cache, an indexed expiring-soon sum, what is due. */
  readBalance(customerId: string, now: Date, expiringWithinDays: number): Promise<BalanceSnapshot>;
  history(customerId: string, query: HistoryQuery): Promise<HistoryPage>;
  /** Up to `limit` customers with a pending lot due, a lot expired, or a hold timed out as of `now`. */
  customersWithDueWork(now: Date, limit: number): Promise<string[]>;
  /** Removes up to `limit` stored Idempotency-Key answers made before `cutoff`, oldest first; how many. */
  sweepStoredAnswers(cutoff: Date, limit: number): Promise<number>;
}

/** What one order event answered; kept so that a redelivery gets the same answer. */
export type EventOutcome =
  | { eventId: string; orderId: string; status: "applied"; orderState: OrderState; effect: EventEffect }
  | {
      eventId: string;
      orderId: string;
      status: "parked";
      /** What it waits for, for people: "sequence 3 of order o-1", "order o-1 to be paid". */
      waitingFor: string;
      /** With `sequence`: the number the order needs next. */
      waitingForSequence?: number;
    }
  | {
      eventId: string;
      orderId: string;
      status: "refused";
      error: { code: string; message: string; details: Record<string, unknown> };
    };

/** An event as written: whole, since a parked one is kept whole until its turn comes. */
export interface StoredOrderEvent {
  event: OrderEvent;
  fingerprint: string;
  outcome: EventOutcome;
  /** The request that decided its outcome (null: stored before migration 6). */
  requestId: string | null;
}

/** An event received before, as a redelivery needs it: its fingerprint and the answer it got. */
export interface ReceivedEvent {
  eventId: string;
  fingerprint: string;
  outcome: EventOutcome;
  requestId: string | null;
}

export interface ConfigVersionRecord extends ConfigVersion {
  previousConfig: ProgrammeConfig;
  reason: string;
  createdBy: string;
  createdAt: Date;
}

/** An order event that waits (parked), as people look at it. */
export interface WaitingEvent {
  customerId: string;
  orderId: string;
  eventId: string;
  type: string;
  sequence: number | null;
  waitingFor: string;
  receivedAt: Date;
}

export interface OrderStore {
  readOrder(customerId: string, orderId: string): Promise<Order | undefined>;
  /** R24: the order's promo code and what it earns the manager, if placed with one. */
  referredOrder(customerId: string, orderId: string): Promise<ReferredOrder | undefined>;
  /** The order's waiting events, oldest first. */
  waitingEventsOf(customerId: string, orderId: string): Promise<WaitingEvent[]>;
  /** Every customer's waiting events received before `before`, oldest first, after `after` (a page). */
  waitingEvents(query: {
    before: Date;
    limit: number;
    after?: { receivedAt: Date; customerId: string; eventId: string } | undefined;
  }): Promise<WaitingEvent[]>;
  /** How many events wait, and since when the oldest. */
  waitingSummary(): Promise<{ count: number; oldestReceivedAt: Date | null }>;
  configVersions(): Promise<ConfigVersionRecord[]>;
  /**
   * Appends a version numbered one after the last; `build` sees the last one and may refuse (a
   * string). A request key seen before returns its version, or "conflict" if the fingerprint differs.
   */
  addConfigVersion(
    request: { idempotencyKey: string; fingerprint: string },
    build: (latest: ConfigVersionRecord | undefined) => Omit<ConfigVersionRecord, "version"> | string,
  ): Promise<{ record: ConfigVersionRecord; replayed: boolean } | { refusal: string; conflict: boolean }>;
  /** R11 points per unit for (seller, sku) pairs; keys are `${sellerId}\u0000${sku}`. */
  sellerPoints(pairs: readonly { sellerId: string; sku: string }[]): Promise<Map<string, number>>;
  setSellerPoints(input: {
    sellerId: string;
    sku: string;
    pointsPerUnit: number;
    actor: string;
    at: Date;
  }): Promise<{
    previous: number | null;
  }>;
}

/** R22: a review awaiting moderation, as operators list it. */
export interface UnmoderatedReview {
  customerId: string;
  reviewId: string;
  sku: string;
  sellerId: string;
  orderId: string;
  points: number;
  submittedAt: Date;
}

/** R22: a seller's review budget as a whole. */
export interface ReviewBudget {
  sellerId: string;
  funded: number;
  reserved: number;
  remaining: number;
}

export interface ReviewStore {
  /**
   * Adds a funding to a seller's review budget, once per funding id: a funding id seen before
   * answers `replayed` (or `conflict` if its points differ).
   */
  fundBudget(input: {
    sellerId: string;
    fundingId: string;
    points: number;
    actor: string;
    at: Date;
  }): Promise<{ status: "added" | "replayed" | "conflict"; budget: ReviewBudget }>;
  budget(sellerId: string): Promise<ReviewBudget>;
  /** Reviews awaiting moderation submitted at or before `before`, oldest first, after `after` (a page). */
  unmoderated(query: {
    before: Date;
    limit: number;
    after?: { submittedAt: Date; customerId: string; reviewId: string } | undefined;
  }): Promise<UnmoderatedReview[]>;
}
