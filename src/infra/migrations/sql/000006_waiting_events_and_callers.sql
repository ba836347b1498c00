-- Order events that wait, refusals replayed with their first request's id, and stored answers that
-- belong to their caller and are swept after a while (issue 8).

-- The request that decided an event's current answer: a refusal sent again answers with its id.
alter table order_events add column request_id text;

-- A refused event with a sequence blocks the later events of its order (PREDECESSOR_REFUSED).
create index order_events_refused_in_sequence on order_events (customer_id, order_id, sequence)
  where status = 'refused' and sequence is not null;

-- What waits, oldest first: the operator's listing and the metrics.
create index order_events_waiting on order_events (received_at, customer_id, event_id) where status = 'parked';

-- An Idempotency-Key belongs to its caller (the API key, `customer:<id>`, `cli:<user>`): another
-- caller's key is another request. Answers stored before this migration have no caller (''), and
-- match any caller's key until the sweep removes them (KOPILKA_IDEMPOTENCY_RETENTION_HOURS); they
-- may hold one key in several scopes, so the scope stays in the key and the use case refuses a key
-- reused on another route (IDEMPOTENCY_KEY_REUSED).
alter table idempotency add column caller text not null default '';
alter table idempotency alter column caller drop default;
alter table idempotency drop constraint idempotency_pkey;
alter table idempotency add primary key (customer_id, caller, key, scope);

-- The sweep takes the oldest first.
create index idempotency_created_at on idempotency (created_at);
