import type { PointKind } from "../../domain/kinds.js";

/**
 * What finance reads (src/infra/finance-store.ts): set-based statements across customers, their
 * rows in pages as the database yields them (a server-side cursor), never a whole result at once.
 * Points are bigint: sums over every customer may pass 2^53.
 */

/** Rows read lazily, a page at a time; read once. Leaving early (return) ends the read. */
export type RowPages<Row> = AsyncIterable<readonly Row[]>;

/** Instants [start, end). */
export interface Period {
  readonly start: Date;
  readonly end: Date;
}

/** Points customers hold of a kind, funded by a funder, in each state: lots' remaining and active holds. */
export interface LiabilityRecord {
  kind: PointKind;
  funder: string;
  pending: bigint;
  available: bigint;
  held: bigint;
}

/** R5: points written off as expired in a month, of a kind, out of a funder's lots. */
export interface BreakageRecord {
  month: string;
  kind: PointKind;
  funder: string;
  expired: bigint;
}

/** Points of lots that expire in a month unless spent first, of a kind and funder. */
export interface ForecastRecord {
  month: string;
  kind: PointKind;
  funder: string;
  expiring: bigint;
}

/** A funder's month: issued into its lots, taken back out of them, expired in them. */
export interface StatementRecord {
  month: string;
  issued: bigint;
  clawedBack: bigint;
  expired: bigint;
}

/** What `kopilka verify` and `GET /v1/finance/verify` check, each violation tagged with one. */
export const RECONCILIATION_CHECKS = [
  /** R32: a movement's postings net to zero, over known accounts, its arrays parallel. */
  "movements_net_to_zero",
  /** R32: the postings over all accounts sum to zero. */
  "accounts_sum_to_zero",
  /** R6, R14, R20: the balance cache equals the lots, the active holds and the postings. */
  "balances_match_lots_and_holds",
  /** R3: a lot's remaining equals the lot deltas posted to it, within [0, amount]. */
  "lots_match_movements",
  /** R15, R20: holds and redemptions took from lots of their kind what their amounts say. */
  "takes_match_lots",
  /** R32: what each funder's account was posted equals what its lots say it paid and got back. */
  "funders_match_postings",
] as const;
export type ReconciliationCheck = (typeof RECONCILIATION_CHECKS)[number];

export interface Violation {
  check: ReconciliationCheck;
  message: string;
}

/** The reconciliation of one snapshot of the ledger: the first violations found and the trial balance. */
export interface Reconciliation {
  /** At most the limit asked for. */
  violations: Violation[];
  /** More violations were found than listed. */
  truncated: boolean;
  movements: bigint;
  /** The sums of all postings to the customers' wallets, the sinks and the funders. */
  postings: { wallets: bigint; sinks: bigint; funders: bigint };
}

export interface FinanceStore {
  /** Outstanding points by kind and funder, ordered so, as the ledger records them now. */
  liability(): RowPages<LiabilityRecord>;
  /** Expired points per month (in `timeZone`) of `period`, by kind and funder, ordered so. */
  breakage(period: Period, timeZone: string): RowPages<BreakageRecord>;
  /** Points of lots expiring after `after` and before `before`, per month, by kind and funder. */
  expiryForecast(after: Date, before: Date, timeZone: string): RowPages<ForecastRecord>;
  /** Each of `months` (which `period` spans) for `funder`, in order, months without a movement too. */
  funderStatement(
    funder: string,
    months: readonly string[],
    period: Period,
    timeZone: string,
  ): RowPages<StatementRecord>;
  /** The whole ledger reconciled in one snapshot, with at most `limit` violations listed. */
  reconcile(limit: number): Promise<Reconciliation>;
}
