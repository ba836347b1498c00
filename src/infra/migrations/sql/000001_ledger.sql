-- Kopilka ledger: lots, holds, redemptions and append-only double-entry movements.
-- Every customer-owned table is keyed by customer_id first and every write touches one customer,
-- so the schema can be distributed by customer_id (Citus) without change.

create function kopilka_sum(amounts bigint[]) returns bigint
  language sql immutable parallel safe
  as $$ select coalesce(sum(a), 0)::bigint from unnest(amounts) as a $$;

-- One row per customer: the row each write transaction locks, so writes for one customer serialize.
create table customers (
  customer_id text primary key check (customer_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  created_at timestamptz not null default now()
);

-- A cache of what the lots, holds and debt postings say, kept in the same transaction.
create table balances (
  customer_id text not null references customers,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  available bigint not null default 0 check (available >= 0),
  pending bigint not null default 0 check (pending >= 0),
  held bigint not null default 0 check (held >= 0),
  debt bigint not null default 0 check (debt >= 0),
  primary key (customer_id, kind)
);

create table lots (
  customer_id text not null references customers,
  lot_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  amount bigint not null check (amount > 0),
  remaining bigint not null,
  source text not null,
  funder text not null,
  state text not null check (state in ('pending', 'available')),
  created_at timestamptz not null,
  available_from timestamptz not null,
  expires_at timestamptz not null,
  reference text,
  primary key (customer_id, lot_id),
  check (remaining >= 0 and remaining <= amount),
  check (expires_at > available_from)
);
create index lots_open on lots (customer_id) where remaining > 0 or state = 'pending';
create index lots_due_pending on lots (available_from) where state = 'pending';
create index lots_due_expiry on lots (expires_at) where state = 'available' and remaining > 0;

-- take_* arrays: which lots a hold or redemption took points from, and how many went back since.
create table holds (
  customer_id text not null references customers,
  hold_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  amount bigint not null check (amount > 0),
  state text not null check (state in ('active', 'captured', 'released')),
  release_reason text check (release_reason in ('requested', 'timeout')),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  take_lot_ids text[] not null,
  take_amounts bigint[] not null,
  take_returned bigint[] not null,
  primary key (customer_id, hold_id),
  check (kopilka_sum(take_amounts) = amount)
);
create index holds_due on holds (expires_at) where state = 'active';
create index holds_active on holds (customer_id) where state = 'active';

create table redemptions (
  customer_id text not null references customers,
  redemption_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  amount bigint not null check (amount > 0),
  refunded bigint not null check (refunded >= 0),
  created_at timestamptz not null,
  take_lot_ids text[] not null,
  take_amounts bigint[] not null,
  take_returned bigint[] not null,
  primary key (customer_id, redemption_id),
  check (refunded <= amount),
  check (kopilka_sum(take_amounts) = amount),
  check (kopilka_sum(take_returned) = refunded)
);

-- R32: postings are the parallel arrays accounts/amounts; they must net to zero.
create table movements (
  customer_id text not null references customers,
  movement_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  type text not null,
  accounts text[] not null,
  amounts bigint[] not null,
  lot_ids text[] not null,
  lot_deltas bigint[] not null,
  reference text,
  explanation_ru text not null,
  explanation_en text not null,
  actor text not null,
  occurred_at timestamptz not null,
  primary key (customer_id, movement_id),
  check (kopilka_sum(amounts) = 0),
  check (cardinality(accounts) = cardinality(amounts) and cardinality(accounts) >= 2),
  check (cardinality(lot_ids) = cardinality(lot_deltas))
);

-- A retried write returns what the first one answered, refusals included.
create table idempotency (
  customer_id text not null references customers,
  scope text not null,
  key text not null,
  fingerprint text not null,
  request_id text not null,
  -- Text, not jsonb: a replay must answer byte for byte what the first request did (jsonb reorders keys).
  outcome text not null,
  created_at timestamptz not null,
  primary key (customer_id, scope, key)
);

create table api_keys (
  key_id text primary key,
  name text not null,
  role text not null check (role in ('operator', 'support', 'seller', 'readonly')),
  seller_id text,
  key_hash text not null unique,
  created_at timestamptz not null,
  revoked_at timestamptz,
  check ((role = 'seller') = (seller_id is not null))
);

-- A scheduled task runs once per slot, however many service instances are up.
create table scheduled_runs (
  task text not null,
  slot bigint not null,
  claimed_by text not null,
  claimed_at timestamptz not null,
  finished_at timestamptz,
  customers_settled integer,
  primary key (task, slot)
);

-- The ledger is append-only: a correction is a new movement, never an edit.
create function kopilka_forbid_change() returns trigger language plpgsql as $$
begin
  raise exception 'the % table is append-only', tg_table_name;
end
$$;
create trigger movements_append_only before update or delete on movements
  for each row execute function kopilka_forbid_change();
