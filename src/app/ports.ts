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

/**
 * Prefixed, time-ordered ids (`mov_01J…`): the prefix, `_` and 26 Crockford base-32 digits, the shape
 * movements store lot ids in (17 bytes each).
 */
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

/** What one transaction loads for one of its customers. */
export interface CustomerLoad {
  customerId: string;
  refs?: LedgerRefs;
  orderIds?: string[];
  eventIds?: string[];
  idempotency?: { scope: string; key: string };
}

/** One customer's state as loaded: the ledger plus the orders, events and stored answer asked for. */
export interface CustomerState {
  ledger: CustomerLedger;
  orders: Order[];
  /** The events asked for by id that were received before. */
  events: StoredOrderEvent[];
  /** Parked events of the orders asked for. */
  parked: StoredOrderEvent[];
  outcome: StoredOutcome | undefined;
}

/** What one transaction writes for one of its customers. */
export interface CustomerWrite {
  customerId: string;
  /** The movements and changed lots/holds/redemptions, and the balance cache after them. */
  ledger?: { change: LedgerChange<unknown>; totals: Record<PointKind, BalanceTotals> };
  orders?: Order[];
  events?: StoredOrderEvent[];
  outcome?: { scope: string; key: string; stored: StoredOutcome };
  /** The API key id, `customer:<id>` or `system`: recorded on every movement (R34 audit). */
  actor: string;
}

/**
 * One transaction holding the locks of its customers. Loading is one statement and writing is one
 * statement, whatever the number of customers: round trips, not rows, are what cost here.
 */
export interface LedgerTransaction {
  load(requests: CustomerLoad[]): Promise<Map<string, CustomerState>>;
  write(writes: CustomerWrite[], at: Date): Promise<void>;
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
  /** Reads without locking (a consistent snapshot of one customer). */
  readLedger(customerId: string): Promise<CustomerLedger>;
  history(customerId: string, cursor: string | null, limit: number): Promise<HistoryPage>;
  /** Up to `limit` customers with a pending lot due, a lot expired, or a hold timed out as of `now`. */
  customersWithDueWork(now: Date, limit: number): Promise<string[]>;
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

export interface ConfigVersionRecord extends ConfigVersion {
  previousConfig: ProgrammeConfig;
  reason: string;
  createdBy: string;
  createdAt: Date;
}

export interface OrderStore {
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
