-- Revoking a customer's tokens refuses every token issued for that customer up to that instant:
-- a token is refused when its iat (whole seconds) is at or before revoked_before. One row per
-- customer, written only by a revocation and read by a primary-key probe when a token is checked;
-- who revoked and why go to audit_log.
create table customer_token_revocations (
  customer_id text primary key references customers,
  revoked_before timestamptz not null
);
