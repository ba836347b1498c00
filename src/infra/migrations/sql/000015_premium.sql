-- R28: Premium subscription periods as the marketplace reports them, in the customer's own rows.
-- A period is keyed by the marketplace's id: reporting it again with other dates corrects it (a new
-- version, the old and new dates audited in audit_log as premium.record_period); the row holds the
-- version in force. Periods may overlap.
create table premium_periods (
  customer_id text not null references customers,
  period_id text not null,
  version integer not null check (version >= 1),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  recorded_by text not null,
  recorded_at timestamptz not null,
  primary key (customer_id, period_id),
  -- Start inclusive, end exclusive: an empty or reversed period is refused before it gets here.
  check (ends_at > starts_at)
);

-- R28: the union of the customer's periods as disjoint intervals [starts_at, ends_at), rewritten in
-- the same work as every period write. Overlapping periods make "is the customer Premium at T" a
-- question about all of them; over disjoint intervals it is one probe of this primary key: the last
-- interval starting at or before T, Premium if it ends after T.
create table premium_coverage (
  customer_id text not null references customers,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  primary key (customer_id, starts_at),
  check (ends_at > starts_at)
);
