-- Stored answers to writes that name no customer: the webhook subscription routes (R31, issue 10).
-- As `idempotency` (migrations 1 and 6) — a retry with the same Idempotency-Key gets the first answer
-- byte for byte, refusals too; another body is IDEMPOTENCY_CONFLICT, another operation
-- IDEMPOTENCY_KEY_REUSED — keyed by what the write is about (the subject: a subscription's id, '' for
-- a new one) where those are keyed by customer: the same caller's key on another subscription is
-- another request, as on another customer. A small table of operators' writes, swept after
-- KOPILKA_IDEMPOTENCY_RETENTION_HOURS like the customers' answers. The answer to a new subscription holds its signing secret: only the same
-- caller's retry with the same key sees it again, and only while the answer is kept.
create table global_idempotency (
  caller text not null,
  subject text not null,
  key text not null,
  scope text not null,
  fingerprint text not null,
  request_id text not null,
  -- Text, not jsonb: a replay answers byte for byte what the first request did.
  outcome text not null,
  created_at timestamptz not null,
  primary key (caller, subject, key)
);

-- The sweep takes the oldest first.
create index global_idempotency_created_at on global_idempotency (created_at);
