import { performance } from "node:perf_hooks";
import { withClient } from "./postgres.js";

/**
 * Set-based seeding straight into PostgreSQL, in the shapes the service itself writes (a lot, its credit
 * movement — funder → wallet:available with the lot's delta — and the balances cache), so the ledger
 * invariants hold and the service reads these customers like any other.
 */

/**
 * Welcome points for many customers at once: one lot and one credit movement each, expiring in a year.
 * The HTTP path credits the first customers (and measures it); this writes the rest in one statement set.
 */
export async function seedCredits(
  url: string,
  credits: { customerId: string; amount: number }[],
): Promise<number> {
  if (credits.length === 0) return 0;
  const t0 = performance.now();
  await withClient(url, async (c) => {
    await c.query("begin");
    const rows = `
      select ordinality as i, customer_id, amount,
             date_trunc('second', now()) as available_from,
             date_trunc('second', now()) + interval '365 days' as expires_at
      from unnest($1::text[], $2::bigint[]) with ordinality as t(customer_id, amount, ordinality)`;
    const params = [credits.map((c) => c.customerId), credits.map((c) => c.amount)];
    await c.query(
      `insert into customers (customer_id, created_at) select customer_id, available_from from (${rows}) as s`,
      params,
    );
    await c.query(
      `insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state,
                         created_at, available_from, expires_at, reference)
       select customer_id, 'lot_SD' || lpad(i::text, 24, '0'), 'bonus', amount, amount, 'campaign',
              'campaign:welcome', 'available', available_from, available_from, expires_at, 'bench welcome points'
       from (${rows}) as s`,
      params,
    );
    // Migration 4's encoding: account 128 is the first of `funders`, 1 is wallet:available; explanation
    // code 1 is the credit template (amount, source, pending until, expires at, reference).
    await c.query(
      `insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                              lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
       select customer_id, 'mov_SD' || lpad(i::text, 24, '0'), 'bonus', 'credit', 1,
              '\\x8001'::bytea, array['campaign:welcome'], array[-amount, amount]::bigint[],
              kopilka_lot_ref('lot_SD' || lpad(i::text, 24, '0')), array[amount]::bigint[], 'bench welcome points',
              json_build_array(amount, 'campaign', null,
                to_char(expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'bench welcome points'),
              'bench', available_from
       from (${rows}) as s`,
      params,
    );
    await c.query(
      `insert into balances (customer_id, kind, available, pending, held, debt)
       select s.customer_id, k.kind, case when k.kind = 'bonus' then s.amount else 0 end, 0, 0, 0
       from (${rows}) as s cross join (values ('bonus'), ('savings'), ('referral')) as k(kind)`,
      params,
    );
    await c.query("commit");
    await c.query("analyze customers, lots, movements, balances");
  });
  return (performance.now() - t0) / 1000;
}

/**
 * R5 at scale: `lots` lots that expired 1-60 days ago, `perCustomer` to a customer, inserted set-based
 * with what the service would have written when it credited them — a credit movement per lot (funder →
 * wallet:available, the lot's delta), and balances rows whose available is the lots' sum — so the
 * ledger invariants hold before and after the expiry run. Customers are `ex-0000000`…
 */
export async function seedExpiredLots(
  url: string,
  lots: number,
  perCustomer: number,
): Promise<{ seconds: number; steps: Record<string, number> }> {
  const customers = Math.ceil(lots / perCustomer);
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  const timed = async (name: string, statement: string, params: unknown[]) =>
    withClient(url, async (c) => {
      const start = performance.now();
      await c.query("set synchronous_commit = off");
      await c.query(statement, params);
      steps[name] = Math.round(performance.now() - start) / 1000;
    });
  await timed(
    "customers",
    `insert into customers (customer_id, created_at)
     select 'ex-' || lpad(n::text, 7, '0'), now() - interval '430 days' from generate_series(0, $1::int - 1) as n`,
    [customers],
  );
  // One row per lot: amount 1-999 points, expired 1-60 days ago after a year of validity (R3).
  const series = `
    select i,
           'ex-' || lpad((i / $2::int)::text, 7, '0') as customer_id,
           1 + (i::bigint * 7919) % 999 as amount,
           date_trunc('second', now()) - (1 + i % 60) * interval '1 day' as expires_at
    from generate_series(0, $1::int - 1) as i`;
  // Lots and their movements are independent tables: written side by side, one connection each.
  await Promise.all([
    timed(
      "lots",
      `insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state,
                         created_at, available_from, expires_at, reference)
       select customer_id, 'lot_EX' || lpad(i::text, 24, '0'), 'bonus', amount, amount, 'campaign',
              'campaign:bench-expiry', 'available', expires_at - interval '365 days',
              expires_at - interval '365 days', expires_at, null
       from (${series}) as s`,
      [lots, perCustomer],
    ),
    timed(
      "movements",
      `insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                              lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
       select customer_id, 'mov_EX' || lpad(i::text, 24, '0'), 'bonus', 'credit', 1,
              '\\x8001'::bytea, array['campaign:bench-expiry'], array[-amount, amount]::bigint[],
              kopilka_lot_ref('lot_EX' || lpad(i::text, 24, '0')), array[amount]::bigint[], null,
              json_build_array(amount, 'campaign', null,
                to_char(expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), null),
              'bench', expires_at - interval '365 days'
       from (${series}) as s`,
      [lots, perCustomer],
    ),
    timed(
      "balances",
      `insert into balances (customer_id, kind, available, pending, held, debt)
       select s.customer_id, k.kind, case when k.kind = 'bonus' then s.total else 0 end, 0, 0, 0
       from (select customer_id, sum(amount) as total from (${series}) as x group by customer_id) as s
       cross join (values ('bonus'), ('savings'), ('referral')) as k(kind)`,
      [lots, perCustomer],
    ),
  ]);
  // Fresh statistics, as autovacuum would have gathered for data that did not arrive in one go.
  const start = performance.now();
  await withClient(url, (c) => c.query("analyze customers, lots, movements, balances"));
  steps.analyze = Math.round(performance.now() - start) / 1000;
  return { seconds: (performance.now() - t0) / 1000, steps };
}

/**
 * R25 at scale: `accounts` savings accounts (customers `sa-0000000`…), each with one deposit of
 * 50,000 RUB made 70 days ago — before the month just over, so that month's opening balance is the
 * deposit and each account earns 500 points at the default 12% (W9). Written set-based in the shapes
 * the service writes (a savings_accounts row caching the balance, the entry with its balance after).
 */
export async function seedSavingsAccounts(
  url: string,
  accounts: number,
): Promise<{ seconds: number; steps: Record<string, number> }> {
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  const timed = async (name: string, statement: string) =>
    withClient(url, async (c) => {
      const start = performance.now();
      await c.query("set synchronous_commit = off");
      await c.query(statement, [accounts]);
      steps[name] = Math.round(performance.now() - start) / 1000;
    });
  const series = `select 'sa-' || lpad(n::text, 7, '0') as customer_id from generate_series(0, $1::int - 1) as n`;
  await timed(
    "customers",
    `insert into customers (customer_id, created_at) select customer_id, now() - interval '70 days' from (${series}) as s`,
  );
  await Promise.all([
    timed(
      "savings_accounts",
      `insert into savings_accounts (customer_id, balance, rate_bp) select customer_id, 5000000, null from (${series}) as s`,
    ),
    timed(
      "savings_entries",
      `insert into savings_entries (customer_id, entry_id, type, amount, occurred_at, balance_after, recorded_at, actor)
       select customer_id, 'bench-deposit', 'deposit', 5000000, date_trunc('second', now()) - interval '70 days',
              5000000, date_trunc('second', now()) - interval '70 days', 'bench'
       from (${series}) as s`,
    ),
  ]);
  const start = performance.now();
  await withClient(url, (c) => c.query("analyze customers, savings_accounts, savings_entries"));
  steps.analyze = Math.round(performance.now() - start) / 1000;
  return { seconds: (performance.now() - t0) / 1000, steps };
}
