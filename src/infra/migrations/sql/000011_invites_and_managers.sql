-- Cross-customer effects. One customer's work never writes another customer's rows: when an event of
-- one customer earns or takes back points of another (R23: a friend's first order rewards the
-- inviter; R24: a referred order earns the manager), the first customer's work records the effect
-- here, in its own rows and its own transaction, and a relay (src/app/effects/) later applies it in
-- the other customer's own work. An effect is a snapshot with a sequence number: the target keeps the
-- last number it applied, so a redelivered or overtaken effect changes nothing (exactly once).
create table customer_effects (
  customer_id text not null references customers,
  effect_id text not null,
  target_customer_id text not null,
  type text not null check (type in ('invite', 'referral')),
  payload text not null,
  created_at timestamptz not null,
  -- A relay that took the effect and has not finished; another takes it after this instant.
  lease_until timestamptz,
  attempts integer not null default 0,
  last_error text,
  delivered_at timestamptz,
  primary key (customer_id, effect_id)
);

-- What the relay has left to deliver, oldest first; delivered effects leave the index.
create index customer_effects_undelivered on customer_effects (created_at, customer_id, effect_id)
  where delivered_at is null;

-- R23: invite codes, a lookup by code (in a store distributed by customer: a table distributed by
-- code), written in the inviter's own work. The fingerprints the marketplace sent with the inviter
-- let a friend's registration from the same device or payment be refused as a self-invite.
create table invite_codes (
  code text primary key,
  customer_id text not null references customers,
  device_fingerprint text,
  payment_fingerprint text,
  created_at timestamptz not null
);
create index invite_codes_by_customer on invite_codes (customer_id);

-- R23, the friend's side: the one invitation a friend accepted (its primary key: one inviter per
-- friend), and what the friend's orders did with it.
create table invitations (
  customer_id text primary key references customers,
  inviter_id text not null,
  code text not null,
  registered_at timestamptz not null,
  status text not null check (status in ('registered', 'rewarded', 'clawed_back')),
  order_id text,
  order_total_kop bigint,
  points bigint not null default 0 check (points >= 0),
  available_from timestamptz,
  expires_at timestamptz,
  seq integer not null check (seq >= 1)
);

-- R23, the inviter's side: one row per invited friend, as the relay applied the friend's effects.
create table invited_friends (
  customer_id text not null references customers,
  friend_id text not null,
  registered_at timestamptz not null,
  status text not null check (status in ('registered', 'rewarded', 'clawed_back')),
  order_id text,
  order_total_kop bigint,
  points bigint not null default 0 check (points >= 0),
  lot_id text,
  applied_seq integer not null,
  primary key (customer_id, friend_id)
);

-- R24: promo codes, a lookup by code like invite_codes.
create table manager_codes (
  code text primary key,
  customer_id text not null references customers,
  created_at timestamptz not null
);

-- R24: manager status, in the manager's own rows; grants and revocations are audited in audit_log.
create table managers (
  customer_id text primary key references customers,
  promo_code text not null,
  status text not null check (status in ('active', 'revoked')),
  granted_by text not null,
  granted_at timestamptz not null,
  revoked_by text,
  revoked_at timestamptz
);

-- R24, the buyer's side: an order placed with a promo code, and the referral points it has earned
-- the manager so far (shipped minus returned units' money × rate), sent as effects numbered by seq.
create table referred_orders (
  customer_id text not null references customers,
  order_id text not null,
  manager_id text not null,
  promo_code text not null,
  status text not null check (status in ('counted', 'own_code', 'manager_revoked')),
  rate_bp integer not null,
  points bigint not null default 0 check (points >= 0),
  first_shipped_at timestamptz,
  seq integer not null default 0,
  primary key (customer_id, order_id)
);

-- R24, the manager's side: one row per referred order, in the calendar month (operator's time zone)
-- it was placed in; lot_ids are the referral lots credited for it, which the month's run decides.
create table manager_referrals (
  customer_id text not null references customers,
  buyer_id text not null,
  order_id text not null,
  month text not null check (month ~ '^\d{4}-\d{2}$'),
  lot_ids text[] not null,
  points bigint not null check (points >= 0),
  applied_seq integer not null,
  primary key (customer_id, buyer_id, order_id)
);
create index manager_referrals_by_month on manager_referrals (customer_id, month);

-- R24: per (manager, month): the manager's own purchases (money paid on own orders placed that
-- month, net of cancellations and returns known before the month is settled), the referral points
-- pending, and the month-end decision — taken once, under the manager's lock (settled_at).
create table manager_months (
  customer_id text not null references customers,
  month text not null check (month ~ '^\d{4}-\d{2}$'),
  -- Both are moved by additions (an insert of the addition that, on conflict, adds it), so neither
  -- carries a CHECK: PostgreSQL checks the row an insert proposes, a negative addition included.
  purchases_kop bigint not null default 0,
  referral_points bigint not null default 0,
  settled_at timestamptz,
  qualified boolean,
  threshold_kop bigint,
  primary key (customer_id, month)
);
-- The month-end run's pages: months not yet settled, in customer order.
create index manager_months_unsettled on manager_months (month, customer_id) where settled_at is null;
