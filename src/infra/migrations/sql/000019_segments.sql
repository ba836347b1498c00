-- R29, issue 12: customer statistics and segments.
--
-- A customer's orders by the day they were placed (a day in the operator's time zone), written in
-- the customer's own work by adding: a placed order adds itself to its day, a cancellation takes it
-- off again (src/domain/segments/stats.ts). The statistics read the last 90 days — at most 90 rows
-- of one customer, whatever its history — so no row is read-modified-written by an order and none
-- is shared by customers.
create table customer_order_days (
  customer_id text not null references customers,
  day date not null,
  orders integer not null check (orders >= 0),
  total_kop bigint not null check (total_kop >= 0),
  card_orders integer not null check (card_orders >= 0),
  savings_orders integer not null check (savings_orders >= 0),
  primary key (customer_id, day)
);

-- Segment definitions: global configuration (like campaigns), written by operators, read through an
-- in-process cache. Every change is a new, append-only version.
create table segments (
  segment_id text primary key check (segment_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  current_version integer not null check (current_version >= 1),
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null
);

create table segment_versions (
  segment_id text not null references segments,
  version integer not null check (version >= 1),
  -- name {ru, en} and rule, the API's shape.
  definition jsonb not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (segment_id, version)
);

create trigger segment_versions_append_only before update or delete on segment_versions
  for each row execute function kopilka_forbid_change();
