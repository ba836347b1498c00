import type { ColumnType, Generated } from "kysely";

/** Kysely's view of the tables in migrations/sql. */
export interface Database {
  kopilka_migrations: { id: number; name: string; applied_at: ColumnType<Date, Date | undefined, never> };
  customers: { customer_id: string; created_at: Generated<Date> };
  balances: {
    customer_id: string;
    kind: string;
    available: number;
    pending: number;
    held: number;
    debt: number;
  };
  lots: {
    customer_id: string;
    lot_id: string;
    kind: string;
    amount: number;
    remaining: number;
    source: string;
    funder: string;
    state: string;
    created_at: Date;
    available_from: Date;
    expires_at: Date;
    reference: string | null;
  };
  holds: {
    customer_id: string;
    hold_id: string;
    kind: string;
    amount: number;
    state: string;
    release_reason: string | null;
    created_at: Date;
    expires_at: Date;
    take_lot_ids: string[];
    take_amounts: number[];
    take_returned: number[];
  };
  redemptions: {
    customer_id: string;
    redemption_id: string;
    kind: string;
    amount: number;
    refunded: number;
    created_at: Date;
    take_lot_ids: string[];
    take_amounts: number[];
    take_returned: number[];
  };
  movements: {
    customer_id: string;
    movement_id: string;
    kind: string;
    type: string;
    accounts: string[];
    amounts: number[];
    lot_ids: string[];
    lot_deltas: number[];
    reference: string | null;
    explanation_ru: string;
    explanation_en: string;
    actor: string;
    occurred_at: Date;
  };
  idempotency: {
    customer_id: string;
    scope: string;
    key: string;
    fingerprint: string;
    request_id: string;
    outcome: unknown;
    created_at: Date;
  };
  api_keys: {
    key_id: string;
    name: string;
    role: string;
    seller_id: string | null;
    key_hash: string;
    created_at: Date;
    revoked_at: Date | null;
  };
  scheduled_runs: {
    task: string;
    slot: number;
    claimed_by: string;
    claimed_at: Date;
    finished_at: Date | null;
    customers_settled: number | null;
  };
}
