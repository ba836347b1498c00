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
