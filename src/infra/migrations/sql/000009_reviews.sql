-- R22 reviews: one row per reported review, written only in the reviewing customer's own work
-- (the customer's row lock orders it). A refused report is kept too (status 'refused'), with the
-- fingerprint and answer of its report, so that a redelivery of the same review id gets the same
-- answer and another body is a conflict. A reward's points wait, pending, in lot_id until moderation.
create table reviews (
  customer_id text not null references customers,
  review_id text not null check (review_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  sku text not null,
  seller_id text not null,
  order_id text not null,
  text_length integer not null check (text_length >= 0),
  photo_count integer not null check (photo_count >= 0),
  submitted_at timestamptz not null,
  status text not null check (status in ('refused', 'awaiting', 'approved', 'rejected')),
  points bigint not null check (points >= 0),
  funder text,
  -- What the seller's review budget reserved for the points, as JSON text [{"slice":…,"points":…}]
  -- (empty: the marketplace funds them); a rejection gives exactly these back.
  budget_takes text not null,
  lot_id text,
  not_rewarded_reason text,
  moderated_by text,
  moderated_at timestamptz,
  fingerprint text not null,
  outcome text not null,
  request_id text not null,
  received_at timestamptz not null,
  primary key (customer_id, review_id),
  check ((points > 0) = (lot_id is not null)),
  check ((status in ('approved', 'rejected')) = (moderated_by is not null))
);

-- R22: a customer is rewarded at most once per product: one review of a product holds a reward
-- (awaiting moderation or approved). It is also how a report finds that review, by one probe.
create unique index reviews_one_reward_per_product on reviews (customer_id, sku)
  where points > 0 and status in ('awaiting', 'approved');

-- R22: reviews awaiting moderation, oldest first, for the operators' list (moderation is due
-- within 3 days by default); decided reviews leave the index.
create index reviews_awaiting_moderation on reviews (submitted_at, customer_id, review_id)
  where status = 'awaiting';

-- R22: a seller funds review rewards on its own products with a points budget. Fundings are kept one
-- row each, idempotent by funding id. The budget is partitioned into slices (16, see
-- src/domain/reviews/budget.ts) so that no row is updated by every review: a review reserves its
-- points at submission, from the slice of its customer's hash range first, then from others, with
-- a conditional update that never lets reserved pass funded. A rejected review gives its points back
-- to the slices it took them from.
create table review_budget_fundings (
  seller_id text not null,
  funding_id text not null check (funding_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  points bigint not null check (points > 0),
  funded_by text not null,
  funded_at timestamptz not null,
  primary key (seller_id, funding_id)
);

create table review_budget_slices (
  seller_id text not null,
  slice smallint not null check (slice >= 0),
  funded bigint not null check (funded >= 0),
  reserved bigint not null check (reserved >= 0),
  primary key (seller_id, slice)
);
