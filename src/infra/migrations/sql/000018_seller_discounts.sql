-- R27, issue 11: sellers' loyalty discounts.
--
-- Definitions are a seller's configuration, keyed by seller (a table distributed by seller, or kept
-- on the coordinator as campaigns are): `seller_discounts` holds the version in force of each, every
-- change appends to `seller_discount_versions` (refused updates and deletes), and audit_log keeps
-- who, when, before and after. Ending a discount is a version too (`ended`); its history stays.
create table seller_discounts (
  seller_id text not null,
  discount_id text not null check (discount_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  current_version integer not null check (current_version >= 1),
  -- Of each unit's price, basis points: 10% is 1000 (src/domain/seller-discounts, MAX_DISCOUNT_BP).
  percent_bp integer not null check (percent_bp between 1 and 9000),
  -- {"type": "points_from_seller", "atLeast": n} or {"type": "units_this_month", "moreThan": n}.
  condition jsonb not null,
  -- {"ru": …, "en": …} or null.
  name jsonb,
  ended_at timestamptz,
  created_at timestamptz not null,
  created_by text not null,
  updated_at timestamptz not null,
  primary key (seller_id, discount_id)
);

-- The quote reads the discounts in force of the cart's sellers.
create index seller_discounts_in_force on seller_discounts (seller_id) where ended_at is null;

create table seller_discount_versions (
  seller_id text not null,
  discount_id text not null,
  version integer not null check (version >= 1),
  percent_bp integer not null,
  condition jsonb not null,
  name jsonb,
  ended boolean not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (seller_id, discount_id, version),
  foreign key (seller_id, discount_id) references seller_discounts
);

create trigger seller_discount_versions_append_only before update or delete on seller_discount_versions
  for each row execute function kopilka_forbid_change();

-- R27: a customer's statistics with one seller, in the customer's own rows (keyed by customer first,
-- distributable by customer), written in the same transaction as the order event that changes them
-- (src/domain/seller-discounts/stats.ts defines them):
--   points_kop  kopecks of points earned on the seller's lines (purchase accrual and the seller's own
--               R11 points), counted at shipment, net of returns;
--   units_month the latest calendar month (KOPILKA_TIME_ZONE, 'YYYY-MM') in which orders with the
--               seller's products were placed and shipped, and units the seller's units of orders
--               placed that month, shipped and not returned.
-- One row per (customer, seller), whatever the history: the quote reads it by its primary key, and a
-- month that is over is overwritten, never kept.
create table customer_seller_stats (
  customer_id text not null references customers,
  seller_id text not null,
  points_kop bigint not null check (points_kop >= 0),
  units_month text not null check (units_month ~ '^[0-9]{4}-[0-9]{2}$'),
  units bigint not null check (units >= 0),
  primary key (customer_id, seller_id)
);
