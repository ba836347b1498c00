-- R31 notifications: a transactional outbox. Every notification is written in the transaction of
-- the movement that causes it (or, for "points expiring soon", of the scheduler's notice run), in
-- the customer's own rows; relays (src/app/notifications/) deliver it afterwards, at least once and
-- in order per customer, to each target: the webhook subscriptions and the NATS JetStream broker.
--
-- A notification caused by a movement has the movement's 26 digits as its own (`ntf_` + digits):
-- one notification per movement at most, and ids sort as the customer's movements were made. Its
-- text is the movement's explanation (R33), rendered when delivered, like a movement's when read.
create table notifications (
  occurred_at timestamptz not null,
  created_at timestamptz not null,
  amount bigint not null,
  explanation_code smallint not null,
  -- R31: an "expiring soon" notice's threshold (30 or 7 days) and its lot's expiry; null otherwise.
  threshold_days smallint,
  lot_expires_at timestamptz,
  customer_id text not null references customers,
  notification_id text not null,
  type text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  reference text,
  movement_id text,
  lot_id text,
  explanation_params json not null,
  primary key (customer_id, notification_id),
  check ((threshold_days is null) = (lot_expires_at is null))
);

-- R31: once per lot and threshold.
create unique index notifications_expiry_notices on notifications (customer_id, lot_id, threshold_days)
  where threshold_days is not null;
-- The retention sweep, oldest first.
create index notifications_by_age on notifications (created_at);

-- Where notifications go: webhook subscriptions made through the API, and the broker ('nats'),
-- registered by an instance that runs with KOPILKA_NATS_URL. A small table every write reads, never
-- writes (a reference table when distributed).
create table notification_targets (
  target_id text primary key,
  kind text not null check (kind in ('webhook', 'nats')),
  url text,
  -- The notification types it receives; null: all of them.
  event_types text[],
  description text,
  -- Webhooks: the HMAC-SHA256 signing secret, shown once when the subscription is made.
  secret text,
  state text not null check (state in ('enabled', 'disabled', 'deleted')),
  disabled_reason text,
  -- Since when every delivery attempt has failed (null after a success): a webhook failing for
  -- longer than KOPILKA_WEBHOOK_DISABLE_AFTER_SECONDS is disabled with a reason.
  failing_since timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((kind = 'webhook') = (url is not null and secret is not null))
);

-- One row per notification and target that existed when it was written (deleted targets aside).
--   pending    waiting for its next attempt at next_attempt_at; a relay that took it moves
--              next_attempt_at past its lease, so another takes it only if the first died
--   delivered  the target accepted it
--   dead       it failed for longer than the target kind's maximum age: a dead letter, replayable
-- `since` is where its age counts from: its creation, or its last replay.
create table notification_deliveries (
  next_attempt_at timestamptz not null,
  since timestamptz not null,
  delivered_at timestamptz,
  attempts integer not null default 0,
  customer_id text not null,
  notification_id text not null,
  target_id text not null references notification_targets,
  state text not null check (state in ('pending', 'delivered', 'dead')),
  last_error text,
  primary key (customer_id, notification_id, target_id),
  foreign key (customer_id, notification_id) references notifications on delete cascade
);

-- What relays take next: due pending deliveries, soonest first.
create index notification_deliveries_due on notification_deliveries (next_attempt_at)
  where state = 'pending';
-- In order per customer: a delivery waits while an earlier one of its customer and target is pending.
create index notification_deliveries_chain on notification_deliveries (target_id, customer_id, notification_id)
  where state = 'pending';
-- A target's dead letters, for the API.
create index notification_deliveries_dead on notification_deliveries (target_id, notification_id)
  where state = 'dead';
