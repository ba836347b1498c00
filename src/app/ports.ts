import type { PointKind } from "../domain/kinds.js";
import type { BalanceTotals, CustomerLedger, LedgerChange, Movement } from "../domain/ledger/index.js";
import type {
  ConfigVersion,
  EventEffect,
  Order,
  OrderEvent,
  OrderState,
  ProgrammeConfig,
} from "../domain/orders/index.js";

/** The only clock the use cases read; tests pass a fake one fixed at a reference instant. */
export interface Clock {
  now(): Date;
}

export const ID_PREFIXES = ["mov", "lot", "req", "key", "aud"] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

/** Prefixed, time-ordered ids (`mov_01J…`). */
export interface IdGenerator {
  newId(prefix: IdPrefix): string;
}

/** What a write answered, kept so that a retry with the same key gets the same answer. */
export interface StoredOutcome {
  fingerprint: string;
  requestId: string;
  outcome: unknown;
}

/** Which holds, redemptions and lots an operation refers to, beyond the customer's open lots. */
export interface LedgerRefs {
  holdIds?: string[];
  redemptionIds?: string[];
  lotIds?: string[];
}

/** Storage for one customer, inside one transaction that holds that customer's lock. */
export interface CustomerTransaction {
  findOutcome(scope: string, key: string): Promise<StoredOutcome | undefined>;
  saveOutcome(scope: string, key: string, stored: StoredOutcome, at: Date): Promise<void>;
  loadLedger(refs: LedgerRefs): Promise<CustomerLedger>;
  /** Persists an operation's change: new movements, changed lots/holds/redemptions, the balance cache. */
  apply(
    change: LedgerChange<unknown>,
    balances: Record<PointKind, BalanceTotals>,
    actor: string,
  ): Promise<void>;
}

export interface HistoryPage {
  movements: (Movement & { actor: string })[];
  nextCursor: string | null;
}

export interface LedgerStore {
  /** Runs `work` in one transaction that holds the customer's lock; creates the customer if new. */
  withCustomer<T>(customerId: string, work: (tx: CustomerTransaction) => Promise<T>): Promise<T>;
  /** Reads without locking (a consistent snapshot of one customer). */
  readLedger(customerId: string): Promise<CustomerLedger>;
  history(customerId: string, cursor: string | null, limit: number): Promise<HistoryPage>;
  /** Customers with a pending lot due, a lot expired, or a hold timed out as of `now`. */
  customersWithDueWork(now: Date, limit: number, afterCustomerId: string | null): Promise<string[]>;
}

/** What one order event answered; kept so that a redelivery gets the same answer. */
export type EventOutcome =
  | { eventId: string; orderId: string; status: "applied"; orderState: OrderState; effect: EventEffect }
  | { eventId: string; orderId: string; status: "parked"; waitingForSequence: number }
  | {
      eventId: string;
      orderId: string;
      status: "refused";
      error: { code: string; message: string; details: Record<string, unknown> };
    };

export interface StoredOrderEvent {
  event: OrderEvent;
  fingerprint: string;
  outcome: EventOutcome;
}

/** One customer's orders and order events, in the same transaction as that customer's ledger. */
export interface OrderTransaction extends CustomerTransaction {
  loadOrders(orderIds: string[]): Promise<Order[]>;
  saveOrders(orders: Order[]): Promise<void>;
  findEvents(eventIds: string[]): Promise<StoredOrderEvent[]>;
  parkedEvents(orderIds: string[]): Promise<StoredOrderEvent[]>;
  saveEvents(events: StoredOrderEvent[], at: Date): Promise<void>;
}

export interface ConfigVersionRecord extends ConfigVersion {
  previousConfig: ProgrammeConfig;
  reason: string;
  createdBy: string;
  createdAt: Date;
}

export interface OrderStore {
  withCustomer<T>(customerId: string, work: (tx: OrderTransaction) => Promise<T>): Promise<T>;
  readOrder(customerId: string, orderId: string): Promise<Order | undefined>;
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
