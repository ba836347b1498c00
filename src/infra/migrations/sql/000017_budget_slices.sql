-- Points budgets of every kind in one pair of tables (src/domain/budget-slices.ts, src/infra/budget-store.ts):
-- R22 a seller's review budget ('review:<sellerId>', moved here from migration 9's tables) and R26 a
-- campaign's ('campaign:<campaignId>'). A budget is 16 slices, so that no row is updated by every
-- write that spends it: a customer's work reserves from the slice of its hash range first, then from
-- the others, with a conditional update that never lets reserved pass funded, and gives points back
-- to the slices it took them from.

create table budget_fundings (
  budget_id text not null,
  funding_id text not null check (funding_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  -- Negative only where a campaign not yet begun had its budget lowered (nothing was reserved then).
  points bigint not null check (points <> 0),
  funded_by text not null,
  funded_at timestamptz not null,
  primary key (budget_id, funding_id)
);

create table budget_slices (
  budget_id text not null,
  slice smallint not null check (slice >= 0),
  funded bigint not null,
  reserved bigint not null check (reserved >= 0),
  check (reserved <= funded),
  primary key (budget_id, slice)
);

insert into budget_fundings (budget_id, funding_id, points, funded_by, funded_at)
  select 'review:' || seller_id, funding_id, points, funded_by, funded_at from review_budget_fundings;
insert into budget_slices (budget_id, slice, funded, reserved)
  select 'review:' || seller_id, slice, funded, reserved from review_budget_slices;
drop table review_budget_fundings;
drop table review_budget_slices;

