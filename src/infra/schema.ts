import type { ColumnType, Generated } from "kysely";

/** Kysely's view of the tables in migrations/sql. */
export interface Database extends OrdersDatabase {
  kopilka_migrations: { id: number; name: string; applied_at: ColumnType<Date, Date | undefined, never> };
  customers: { customer_id: string; created_at: Generated<Date> };
  /** R22 (migration 9). */
  reviews: {
    customer_id: string;
    review_id: string;
    sku: string;
    seller_id: string;
    order_id: string;
    text_length: number;
    photo_count: number;
    submitted_at: Date;
    status: string;
    points: number;
    funder: string | null;
    /** JSON text: [{ slice, points }]. */
    budget_takes: string;
    lot_id: string | null;
    not_rewarded_reason: string | null;
    moderated_by: string | null;
    moderated_at: Date | null;
    fingerprint: string;
    outcome: string;
    request_id: string;
    received_at: Date;
  };
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
    occurred_at: Date;
    kind: string;
    type: string;
    reference: string | null;
    actor: string;
    /** R33: a template code (src/infra/movement-rows.ts) and its params, rendered on read. */
    explanation_code: number;
    explanation_params: unknown;
    /** R32: an account code per posting, parallel to amounts; funders without a code are named here. */
    accounts: Uint8Array;
    funders: string[] | null;
    amounts: number[];
    /** The 26 digits of each lot touched, parallel to lot_deltas. */
    lot_refs: Uint8Array;
    lot_deltas: number[];
  };
  idempotency: {
    customer_id: string;
    scope: string;
    key: string;
    fingerprint: string;
    request_id: string;
    outcome: string;
    created_at: Date;
    /** Whose key it is; '' for answers stored before migration 6. */
    caller: string;
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
  /** A customer's tokens issued at or before `revoked_before` are refused. */
  customer_token_revocations: { customer_id: string; revoked_before: Date };
  /** R25 (migration 8). */
  savings_accounts: { customer_id: string; balance: number; rate_bp: number | null; mechanic: string };
  savings_entries: {
    customer_id: string;
    entry_id: string;
    type: string;
    amount: number;
    occurred_at: Date;
    balance_after: number;
    recorded_at: Date;
    actor: string;
  };
  savings_interest: {
    customer_id: string;
    month: string;
    points: number;
    balance_days: string;
    days: number;
    rate_bp: number;
    movement_id: string | null;
    paid_at: Date;
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

export interface OrdersDatabase {
  programme_config_versions: {
    version: number;
    effective_from: Date;
    config: unknown;
    previous_config: unknown;
    reason: string;
    created_by: string;
    created_at: Date;
    idempotency_key: string;
    fingerprint: string;
  };
  seller_product_points: {
    seller_id: string;
    sku: string;
    points_per_unit: number;
    updated_by: string;
    updated_at: Date;
  };
  /** Stored answers to writes that name no customer (migration 14): the webhook routes. */
  global_idempotency: {
    caller: string;
    subject: string;
    key: string;
    scope: string;
    fingerprint: string;
    request_id: string;
    outcome: string;
    created_at: Date;
  };
  /** R26 (migration 16). */
  campaigns: {
    campaign_id: string;
    funder: string;
    published_at: Date | null;
    ended_at: Date | null;
    current_version: number;
    starts_at: Date;
    ends_at: Date;
    created_at: Date;
    created_by: string;
    updated_at: Date;
  };
  campaign_versions: {
    campaign_id: string;
    version: number;
    /** JSON text on write; parsed jsonb on read. */
    definition: unknown;
    starts_at: Date;
    ends_at: Date;
    created_at: Date;
    created_by: string;
  };
  /** R29 (migration 19): segments and their append-only versions. */
  segments: {
    segment_id: string;
    current_version: number;
    created_at: Date;
    created_by: string;
    updated_at: Date;
  };
  segment_versions: {
    segment_id: string;
    version: number;
    /** JSON text on write; parsed jsonb on read. */
    definition: unknown;
    created_at: Date;
    created_by: string;
  };
  /** R27 (migration 18): each seller discount's version in force. */
  seller_discounts: {
    seller_id: string;
    discount_id: string;
    current_version: number;
    percent_bp: number;
    /** JSON text on write; parsed jsonb on read. */
    condition: unknown;
    name: unknown;
    ended_at: Date | null;
    created_at: Date;
    created_by: string;
    updated_at: Date;
  };
  seller_discount_versions: {
    seller_id: string;
    discount_id: string;
    version: number;
    percent_bp: number;
    condition: unknown;
    name: unknown;
    ended: boolean;
    created_at: Date;
    created_by: string;
  };
  /** R27: a customer's statistics with one seller (src/domain/seller-discounts/stats.ts). */
  customer_seller_stats: {
    customer_id: string;
    seller_id: string;
    points_kop: string | number;
    units_month: string;
    units: string | number;
  };
  audit_log: {
    audit_id: string;
    actor: string;
    action: string;
    subject: string;
    before: unknown;
    after: unknown;
    at: Date;
  };
  orders: {
    customer_id: string;
    order_id: string;
    state: string;
    config_version: number;
    placed_at: Date;
    updated_at: Date;
    payment_method: string;
    spend: number[];
    progress: unknown;
  };
  order_lines: {
    customer_id: string;
    order_id: string;
    lines: unknown;
  };
  order_events: {
    customer_id: string;
    event_id: string;
    order_id: string;
    sequence: number | null;
    fingerprint: string;
    status: string;
    event: unknown | null;
    outcome: string;
    received_at: Date;
    /** The request that decided its outcome; null for events stored before migration 6. */
    request_id: string | null;
  };
  /** R31: the outbox (migration 12). */
  notifications: {
    customer_id: string;
    notification_id: string;
    type: string;
    kind: string;
    amount: number;
    reference: string | null;
    movement_id: string | null;
    lot_id: string | null;
    threshold_days: number | null;
    lot_expires_at: Date | null;
    explanation_code: number;
    explanation_params: unknown;
    occurred_at: Date;
    created_at: Date;
  };
  notification_targets: {
    target_id: string;
    kind: "webhook" | "nats";
    url: string | null;
    event_types: string[] | null;
    description: string | null;
    secret: string | null;
    state: "enabled" | "disabled" | "deleted";
    disabled_reason: string | null;
    failing_since: Date | null;
    created_at: Date;
    updated_at: Date;
  };
  notification_deliveries: {
    customer_id: string;
    notification_id: string;
    target_id: string;
    state: "pending" | "delivered" | "dead";
    attempts: number;
    next_attempt_at: Date;
    since: Date;
    delivered_at: Date | null;
    last_error: string | null;
  };
  order_event_partitions: {
    stream: string;
    partition: number;
    owner: string | null;
    lease_until: Date | null;
  };
  order_event_consumers: {
    stream: string;
    owner: string;
    alive_until: Date;
  };
}
