-- Compact movements: about 600 bytes a row before, half of it two rendered texts and a sixth account
-- names and lot ids spelled out in text arrays.
--
-- R33, explanations: a movement keeps its explanation as a template code and the template's params,
-- and the service renders the Russian and English text when the movement is read.
--   explanation_code   which template; the numbers are listed in src/infra/movement-rows.ts, 0 is
--                      `text`: rows written before this migration, whose params are their [ru, en];
--   explanation_params the template's params, a JSON array, kept as the service wrote it.
--
-- R32, accounts: postings stay parallel to amounts, which must net to zero; each account is one byte
-- of `accounts` instead of its name:
--      1 wallet:available   2 wallet:pending   3 wallet:held   4 wallet:debt      (the customer's own)
--      5 sink:redeemed      6 sink:expired     7 sink:clawed_back
--      8 funder:marketplace 9 funder:savings_interest 10 funder:manager_programme
--   127 + n  funder:<funders[n]>: any other funder (seller:<id>, campaign:<id>), named once per
--            movement in `funders`, which is null when there is none.
-- A row from before that posts to any other account cannot be converted: the migration fails on
-- the accounts CHECK rather than guess.
--
-- Lots: a lot id is 'lot_' and 26 Crockford base-32 digits (the service's ids); `lot_refs` holds
-- each lot a movement touched as those 26 digits (ASCII bytes, without the prefix), one after
-- another, parallel to lot_deltas. Packing the digits' 130 bits into 17 bytes would save 9 bytes a
-- lot, but cost 15-20 µs a lot in SQL, which the set-based settlement of a million lots cannot pay.
-- Lots, holds and redemptions keep their lot ids as text.
--
-- kopilka_accounts, kopilka_lot_ids and the view movements_readable spell the codes out again for
-- people and reports; kopilka_account_code and kopilka_lot_ref encode, for queries.
--
-- The table is rebuilt rather than updated: movements are append-only (the trigger refuses
-- updates), and a rewrite leaves no dead row versions behind.

create function kopilka_account_code(account text, funders text[]) returns int
  language sql immutable parallel safe
  as $$ select case account
    when 'wallet:available' then 1 when 'wallet:pending' then 2 when 'wallet:held' then 3
    when 'wallet:debt' then 4 when 'sink:redeemed' then 5 when 'sink:expired' then 6
    when 'sink:clawed_back' then 7 when 'funder:marketplace' then 8
    when 'funder:savings_interest' then 9 when 'funder:manager_programme' then 10
    else 127 + array_position(funders, substr(account, 8)) end $$;

create function kopilka_account(code int, funders text[]) returns text
  language sql immutable parallel safe
  as $$ select case code
    when 1 then 'wallet:available' when 2 then 'wallet:pending' when 3 then 'wallet:held'
    when 4 then 'wallet:debt' when 5 then 'sink:redeemed' when 6 then 'sink:expired'
    when 7 then 'sink:clawed_back' when 8 then 'funder:marketplace'
    when 9 then 'funder:savings_interest' when 10 then 'funder:manager_programme'
    else 'funder:' || funders[code - 127] end $$;

create function kopilka_accounts(codes bytea, funders text[]) returns text[]
  language plpgsql immutable parallel safe
  as $$
declare
  names text[] := '{}';
begin
  for i in 0 .. length(codes) - 1 loop
    names := names || kopilka_account(get_byte(codes, i), funders);
  end loop;
  return names;
end
$$;

create function kopilka_refuse_lot_id(lot_id text) returns bytea
  language plpgsql immutable parallel safe
  as $$
begin
  raise exception 'lot id % is not lot_ and 26 Crockford base-32 digits', lot_id;
end
$$;

-- A lot id as movements reference it, and back. One SQL expression each, which the planner inlines.
create function kopilka_lot_ref(lot_id text) returns bytea
  language sql immutable parallel safe
  as $$ select case when lot_id is null then null
                    when lot_id ~ '^lot_[0-9A-HJKMNP-TV-Z]{26}$' then convert_to(substr(lot_id, 5), 'SQL_ASCII')
                    else kopilka_refuse_lot_id(lot_id) end $$;

create function kopilka_lot_ids(refs bytea) returns text[]
  language sql immutable parallel safe
  as $$ select coalesce(array_agg('lot_' || convert_from(substring(refs from 26 * n + 1 for 26), 'SQL_ASCII')
                                  order by n), '{}')
        from generate_series(0, length(refs) / 26 - 1) as n $$;

alter table movements rename to movements_before_4;
alter index movements_pkey rename to movements_before_4_pkey;

-- The fixed-width columns come first, where they need no alignment padding.
create table movements (
  occurred_at timestamptz not null,
  explanation_code smallint not null,
  customer_id text not null references customers,
  movement_id text not null,
  kind text not null check (kind in ('bonus', 'savings', 'referral')),
  type text not null,
  reference text,
  actor text not null,
  explanation_params json not null,
  -- R32: the postings, account by account, must net to zero.
  accounts bytea not null,
  funders text[],
  amounts bigint[] not null,
  -- The lots the movement touched, and by how much.
  lot_refs bytea not null,
  lot_deltas bigint[] not null,
  primary key (customer_id, movement_id),
  check (kopilka_sum(amounts) = 0),
  check (length(accounts) = cardinality(amounts) and length(accounts) >= 2),
  check (funders is null or cardinality(funders) between 1 and 128),
  check (length(lot_refs) = 26 * cardinality(lot_deltas))
);

insert into movements (customer_id, movement_id, occurred_at, kind, type, reference, actor,
                       explanation_code, explanation_params, accounts, funders, amounts, lot_refs, lot_deltas)
select o.customer_id, o.movement_id, o.occurred_at, o.kind, o.type, o.reference, o.actor,
       0, to_json(array[o.explanation_ru, o.explanation_en]),
       (select decode(string_agg(lpad(to_hex(kopilka_account_code(a, f.funders)), 2, '0'), '' order by i), 'hex')
        from unnest(o.accounts) with ordinality as u(a, i)),
       f.funders, o.amounts,
       coalesce((select string_agg(kopilka_lot_ref(l), ''::bytea order by i)
                 from unnest(o.lot_ids) with ordinality as u(l, i)), ''::bytea),
       o.lot_deltas
from movements_before_4 as o
  cross join lateral (
    select array_agg(substr(a, 8) order by first) as funders
    from (select a, min(i) as first from unnest(o.accounts) with ordinality as u(a, i)
          where a like 'funder:%' and kopilka_account_code(a, null) is null
          group by a) as named) as f
order by o.customer_id, o.movement_id;

drop table movements_before_4;

-- The ledger is append-only: a correction is a new movement, never an edit.
create trigger movements_append_only before update or delete on movements
  for each row execute function kopilka_forbid_change();

-- The movements with account names and lot ids spelled out, as they were stored before.
create view movements_readable as
  select customer_id, movement_id, occurred_at, kind, type, reference, actor, explanation_code,
         explanation_params, kopilka_accounts(accounts, funders) as accounts, amounts,
         kopilka_lot_ids(lot_refs) as lot_ids, lot_deltas
  from movements;
