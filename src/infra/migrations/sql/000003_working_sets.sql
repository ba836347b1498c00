-- Indexes for loading only what an operation can touch (the working set) instead of every open lot.

-- R4 order per customer and kind: the spending prefix a spend or hold walks (recursive, one index
-- probe a lot), the lots that have expired by now, and the R6 expiring-soon sum are ranges of it.
create index lots_spendable on lots (customer_id, kind, expires_at, created_at, lot_id)
  where state = 'available' and remaining > 0;
-- R13: a customer's pending lots in the order they fall due.
create index lots_pending on lots (customer_id, available_from) where state = 'pending';
drop index lots_open;

-- R20: a customer's active holds in the order they time out.
create index holds_active_due on holds (customer_id, expires_at) where state = 'active';
drop index holds_active;

-- The scheduler's global due indexes, ordered by the instant alone, must never serve a query about
-- one customer: the planner picked them for "this customer's earliest pending lot" (hoping to meet
-- the customer early) and read every customer's pending lots, 40 ms a balance read. Each carries a
-- predicate term that is always true (the CHECKs say so) but that only the scheduler's query
-- states, so no per-customer query can use them.
drop index lots_due_pending;
create index lots_due_pending on lots (available_from) where state = 'pending' and amount > 0;
drop index lots_due_expiry;
create index lots_due_expiry on lots (expires_at) where state = 'available' and remaining > 0 and amount > 0;
drop index holds_due;
create index holds_due on holds (expires_at) where state = 'active' and amount > 0;
