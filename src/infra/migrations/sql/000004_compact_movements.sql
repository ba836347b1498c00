-- Compact movements. R33: a movement keeps its explanation as a template code and the template's
-- params, and the service renders the Russian and English text when the movement is read; two full
-- texts were half of every row.
--
-- explanation_code: which template (the numbers are listed in src/infra/movement-rows.ts; 0 is
-- `text`); explanation_params: the template's params as JSON, kept as the service wrote them.
-- Rows written before this migration become `text`, whose params are their stored [ru, en].
--
-- The table is rebuilt rather than updated: movements are append-only (the trigger refuses updates),
-- and a rewrite leaves no dead row versions behind.

alter table movements rename to movements_before_4;
alter index movements_pkey rename to movements_before_4_pkey;

-- R32: postings are the parallel arrays accounts/amounts; they must net to zero.
create table movements (
  customer_id text not null references customers,
  movement_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  type text not null,
  accounts text[] not null,
  amounts bigint[] not null,
  lot_ids text[] not null,
  lot_deltas bigint[] not null,
  reference text,
  explanation_code smallint not null,
  explanation_params json not null,
  actor text not null,
  occurred_at timestamptz not null,
  primary key (customer_id, movement_id),
  check (kopilka_sum(amounts) = 0),
  check (cardinality(accounts) = cardinality(amounts) and cardinality(accounts) >= 2),
  check (cardinality(lot_ids) = cardinality(lot_deltas))
);

insert into movements (customer_id, movement_id, kind, type, accounts, amounts, lot_ids, lot_deltas,
                       reference, explanation_code, explanation_params, actor, occurred_at)
select customer_id, movement_id, kind, type, accounts, amounts, lot_ids, lot_deltas,
       reference, 0, to_json(array[explanation_ru, explanation_en]), actor, occurred_at
from movements_before_4
order by customer_id, movement_id;

drop table movements_before_4;

-- The ledger is append-only: a correction is a new movement, never an edit.
create trigger movements_append_only before update or delete on movements
  for each row execute function kopilka_forbid_change();
