import type { PointKind } from "../domain/kinds.js";
import type { CustomerLedger, LedgerChange, Movement } from "../domain/ledger/index.js";

/** The cached totals per customer and kind (R6), kept in step with the lots by every write. */
export interface BalanceTotals {
  available: number;
  pending: number;
  held: number;
  debt: number;
}

/** The only clock the use cases read; tests pass a fake one fixed at a reference instant. */
export interface Clock {
  now(): Date;
}

export const ID_PREFIXES = ["mov", "lot", "req", "key", "run"] as const;
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
