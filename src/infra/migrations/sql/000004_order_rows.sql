-- Orders as rows: what was fixed when an order was placed is stored once, and an event rewrites
-- only the small part that events change (src/infra/order-rows.ts describes both shapes).

-- The lines as placed (the cart line, its share of the spend, what it earns): written once.
create table order_lines (
  customer_id text not null references customers,
  order_id text not null,
  lines jsonb not null,
  primary key (customer_id, order_id)
);

alter table orders
  add column payment_method text,
  add column spend bigint[],
  -- lastSequence, accrualPoints, shortfall and per line the tuple of what shipments and returns changed.
  add column progress jsonb;

insert into order_lines (customer_id, order_id, lines)
select o.customer_id, o.order_id,
       coalesce((select jsonb_agg(line - array['shippedQuantity', 'returnedQuantity', 'earnedKop', 'removedKop',
                                               'sellerPointsEarned', 'sellerPointsRemoved', 'refunded',
                                               'accrualLotIds', 'sellerLotIds']
                                  order by n)
                 from jsonb_array_elements(o.document -> 'lines') with ordinality as l (line, n)), '[]')
from orders as o;

update orders set
  payment_method = document ->> 'paymentMethod',
  spend = array[(document #>> '{spend,bonus}')::bigint, (document #>> '{spend,savings}')::bigint,
                (document #>> '{spend,referral}')::bigint],
  progress = jsonb_build_object(
    'lastSequence', (document ->> 'lastSequence')::integer,
    'accrualPoints', (document ->> 'accrualPoints')::bigint,
    'shortfall', (document ->> 'shortfall')::bigint,
    'lines', coalesce((select jsonb_agg(jsonb_build_array(
                 line -> 'shippedQuantity', line -> 'returnedQuantity', line -> 'earnedKop', line -> 'removedKop',
                 line -> 'sellerPointsEarned', line -> 'sellerPointsRemoved',
                 jsonb_build_array(line #> '{refunded,bonus}', line #> '{refunded,savings}', line #> '{refunded,referral}'),
                 line -> 'accrualLotIds', line -> 'sellerLotIds') order by n)
               from jsonb_array_elements(document -> 'lines') with ordinality as l (line, n)), '[]'));

alter table orders
  alter column payment_method set not null,
  alter column spend set not null,
  alter column progress set not null,
  add check (cardinality(spend) = 3),
  drop column document;

-- The row events rewrite is small and its key never changes: room in each page keeps the updates
-- HOT (no new index entries) and lets the page reclaim the versions they leave behind.
alter table orders set (fillfactor = 70);

-- An event is kept whole only while it waits (parked); a replay needs just its fingerprint and answer.
alter table order_events alter column event drop not null;
update order_events set event = null where status <> 'parked';
