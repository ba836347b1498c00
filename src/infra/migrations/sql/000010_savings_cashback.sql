-- R25, the variant: what a customer's savings account earns — monthly interest (the default) or
-- cashback on purchases paid from the account — is the operator's per-customer setting, kept on the
-- account's row beside the per-customer rate and written only in that customer's own work. A constant
-- default: the column is added without rewriting the table.
alter table savings_accounts
  add column mechanic text not null default 'interest' check (mechanic in ('interest', 'cashback'));
