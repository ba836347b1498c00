-- R25: the savings account. The marketplace reports money deposited and withdrawn (kopecks); each
-- report is a row of savings_entries, idempotent by its id, never changed afterwards. One
-- savings_accounts row per customer caches the balance (the sum of its entries) and holds the
-- operator's per-customer rate, if any; both are written only in that customer's own work.
-- savings_interest has one row per (customer, month) paid: its primary key is what makes a month
-- paid twice pay once, whatever instance runs it.
create table savings_accounts (
  customer_id text primary key references customers,
  balance bigint not null default 0 check (balance >= 0),
  -- Basis points a year (1200 = 12%); null: the programme's rate.
  rate_bp integer check (rate_bp between 0 and 1800)
);

create table savings_entries (
  customer_id text not null references customers,
  entry_id text not null,
  type text not null check (type in ('deposit', 'withdrawal')),
  amount bigint not null check (amount > 0),
  occurred_at timestamptz not null,
  -- The account's balance right after it: what a retry with the same id is answered with.
  balance_after bigint not null check (balance_after >= 0),
  recorded_at timestamptz not null,
  actor text not null,
  primary key (customer_id, entry_id)
);

-- A month's interest reads one account's entries before the month's end, in time order.
create index savings_entries_by_instant on savings_entries (customer_id, occurred_at);

create table savings_interest (
  customer_id text not null references customers,
  -- The month paid, 'YYYY-MM' in the operator's time zone.
  month text not null,
  points bigint not null check (points >= 0),
  -- Σ end-of-day balance × day over the month's days, in kopecks (kopeck-days).
  balance_days bigint not null,
  days integer not null check (days between 28 and 31),
  rate_bp integer not null,
  movement_id text,
  paid_at timestamptz not null,
  primary key (customer_id, month)
);
