-- Orders, their events, the programme configuration versions and sellers' points per product.

-- R7-R20 numbers as versions: each change is a new row, in force from effective_from; never edited.
create table programme_config_versions (
  version integer primary key check (version >= 1),
  effective_from timestamptz not null,
  config jsonb not null,
  previous_config jsonb not null,
  reason text not null,
  created_by text not null,
  created_at timestamptz not null,
  -- A retried request with the same key returns this version instead of adding another.
  idempotency_key text not null unique,
  fingerprint text not null
);

-- R11: fixed points per unit a seller sets on its own products.
create table seller_product_points (
  seller_id text not null,
  sku text not null,
  points_per_unit bigint not null check (points_per_unit >= 0 and points_per_unit <= 100000),
  updated_by text not null,
  updated_at timestamptz not null,
  primary key (seller_id, sku)
);

-- Who changed what configuration, when, from what to what.
create table audit_log (
  audit_id text primary key,
  actor text not null,
  action text not null,
  subject text not null,
  before jsonb,
  after jsonb,
  at timestamptz not null
);

-- An order and its lines as the domain keeps them (one document, written in the customer's transaction).
create table orders (
  customer_id text not null references customers,
  order_id text not null,
  state text not null check (state in ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned')),
  config_version integer not null,
  placed_at timestamptz not null,
  updated_at timestamptz not null,
  document jsonb not null,
  primary key (customer_id, order_id)
);

-- Every event once: its id is its idempotency key; a parked event waits for the events before it.
create table order_events (
  customer_id text not null references customers,
  event_id text not null,
  order_id text not null,
  sequence integer,
  fingerprint text not null,
  status text not null check (status in ('applied', 'refused', 'parked')),
  event jsonb not null,
  -- Text, not jsonb: a redelivery gets the same answer byte for byte (jsonb reorders keys).
  outcome text not null,
  received_at timestamptz not null,
  primary key (customer_id, event_id)
);
create index order_events_parked on order_events (customer_id, order_id, sequence) where status = 'parked';
