/**
 * R24's month-end run at scale: `npx tsx bench/manager-month.ts [--managers 100000] [--referrals 2]`
 * (`npm run bench:managers`).
 *
 * On a fresh database of the PostgreSQL server at KOPILKA_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test) it seeds, set-based and in the shapes the service writes,
 * `--managers` managers with a month's row (own purchases; every other manager below the 2,500 RUB
 * threshold) and `--referrals` pending referral lots each (with their credit movements and balances),
 * then times `ManagerService.settleMonth` — the scheduler's month-end run, in this process — and,
 * for reference on the same server, pgbench's TPC-B. Prints a table and writes
 * bench/results/manager-month-<timestamp>.json. Only a broken run exits non-zero, never a slow one.
 */

import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import { loadConfig } from "../src/config.js";
import { createKopilka } from "../src/main.js";
import { createDatabase, dropDatabase, pgbenchBeside, serverFacts, withClient } from "./postgres.js";
import { formatNumber, markdownTable, writeResults } from "./report.js";
import { postgresCpuSeconds } from "./service.js";

const MONTH = "2026-03";
/** Just after March ends in Moscow (00:00 MSK on 1 April is 21:00 UTC on 31 March). */
const AFTER_MONTH = new Date("2026-03-31T21:05:00.000Z");

const program = new Command()
  .option("--managers <n>", "managers with a month to settle", "100000")
  .option("--referrals <n>", "pending referral lots per manager", "2")
  .option(
    "--url <url>",
    "PostgreSQL server",
    process.env.KOPILKA_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  )
  .option("--pgbench-seconds <n>", "seconds of pgbench TPC-B for reference", "20")
  .option("--keep-db", "keep the scratch database");
program.parse();
const opts = program.opts<{
  managers: string;
  referrals: string;
  url: string;
  pgbenchSeconds: string;
  keepDb?: boolean;
}>();
const managers = Number(opts.managers);
const referrals = Number(opts.referrals);

/**
 * The month's state as the service leaves it before month end: per manager a managers row, its code,
 * a manager_months row, `referrals` referred orders (manager_referrals) each with a pending
 * `referral` lot (until decided), its credit movement (funder:manager_programme → wallet:pending,
 * account codes 10 and 2 of src/infra/movement-rows.ts; explanation 19, referral_credited) and the
 * balances cache.
 */
async function seed(url: string): Promise<number> {
  const t0 = performance.now();
  const steps = [
    `insert into customers (customer_id, created_at)
     select 'mg-' || lpad(m::text, 7, '0'), '2026-03-01' from generate_series(0, $1::int - 1) as m`,
    `insert into managers (customer_id, promo_code, status, granted_by, granted_at)
     select 'mg-' || lpad(m::text, 7, '0'), 'MG' || m, 'active', 'bench', '2026-03-01'
     from generate_series(0, $1::int - 1) as m`,
    `insert into manager_codes (code, customer_id, created_at)
     select 'MG' || m, 'mg-' || lpad(m::text, 7, '0'), '2026-03-01' from generate_series(0, $1::int - 1) as m`,
    `insert into manager_months (customer_id, month, purchases_kop, referral_points)
     select 'mg-' || lpad(m::text, 7, '0'), '${MONTH}', case when m % 2 = 0 then 300000 else 240000 end, $2::int * 100
     from generate_series(0, $1::int - 1) as m`,
    `insert into manager_referrals (customer_id, buyer_id, order_id, month, lot_ids, points, applied_seq)
     select 'mg-' || lpad(m::text, 7, '0'), 'buyer-' || m || '-' || r, 'o-' || r, '${MONTH}',
            array['lot_MG' || lpad((m * $2::int + r)::text, 24, '0')], 100, 1
     from generate_series(0, $1::int - 1) as m cross join generate_series(0, $2::int - 1) as r`,
    `insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state,
                       created_at, available_from, expires_at, reference)
     select 'mg-' || lpad(m::text, 7, '0'), 'lot_MG' || lpad((m * $2::int + r)::text, 24, '0'), 'referral', 100, 100,
            'manager_programme', 'manager_programme', 'pending', '2026-03-10', '9000-01-01', '9001-01-01', 'o-' || r
     from generate_series(0, $1::int - 1) as m cross join generate_series(0, $2::int - 1) as r`,
    `insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                            lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
     select 'mg-' || lpad(m::text, 7, '0'), 'mov_MG' || lpad((m * $2::int + r)::text, 24, '0'), 'referral', 'credit', 19,
            '\\x0a02'::bytea, null, array[-100, 100]::bigint[],
            kopilka_lot_ref('lot_MG' || lpad((m * $2::int + r)::text, 24, '0')), array[100]::bigint[], 'o-' || r,
            json_build_array(100, 'o-' || r, '${MONTH}', 250000), 'system', '2026-03-10'
     from generate_series(0, $1::int - 1) as m cross join generate_series(0, $2::int - 1) as r`,
    `insert into balances (customer_id, kind, available, pending, held, debt)
     select 'mg-' || lpad(m::text, 7, '0'), k.kind, 0, case when k.kind = 'referral' then $2::int * 100 else 0 end, 0, 0
     from generate_series(0, $1::int - 1) as m cross join (values ('bonus'), ('savings'), ('referral')) as k(kind)`,
  ];
  await withClient(url, async (c) => {
    await c.query("set synchronous_commit = off");
    for (const statement of steps) {
      const params = statement.includes("$2") ? [managers, referrals] : [managers];
      await c.query(statement, params);
    }
    await c.query("analyze");
  });
  return (performance.now() - t0) / 1000;
}

async function main() {
  const name = `kopilka_bench_${randomBytes(4).toString("hex")}`;
  const url = await createDatabase(opts.url, name);
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    managers,
    referralsPerManager: referrals,
    cpus: cpus().length,
    server: await serverFacts(url),
  };
  try {
    const config = loadConfig({
      ...process.env,
      KOPILKA_DATABASE_URL: url,
      KOPILKA_LOG_LEVEL: "warn",
      KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
      KOPILKA_JWT_SECRET: randomBytes(24).toString("hex"),
    });
    let now = new Date("2026-03-10T09:00:00.000Z");
    const kopilka = await createKopilka(config, { clock: { now: () => now } });
    const seedSeconds = await seed(url);
    console.log(`seeded ${formatNumber(managers)} managers in ${seedSeconds.toFixed(1)} s`);
    now = AFTER_MONTH;
    const [cpu0, pg0, t0] = [process.cpuUsage(), postgresCpuSeconds(), performance.now()];
    const run = await kopilka.managers.settleMonth(MONTH, "bench");
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // Where the time went: this process's JavaScript, and every PostgreSQL process of the machine.
    const cpuSeconds = { node: (cpu.user + cpu.system) / 1e6, postgres: postgresCpuSeconds() - pg0 };
    const check = await withClient(url, async (c) => {
      const unsettled = await c.query<{ n: string }>(
        `select count(*) as n from manager_months where month = '${MONTH}' and settled_at is null`,
      );
      const pending = await c.query<{ n: string }>(
        "select coalesce(sum(pending), 0) as n from balances where kind = 'referral'",
      );
      return { unsettled: Number(unsettled.rows[0]?.n), pendingLeft: Number(pending.rows[0]?.n) };
    });
    await kopilka.close();
    if (!run.claimed || check.unsettled !== 0 || check.pendingLeft !== 0)
      throw new Error(`the run left work undone: ${JSON.stringify({ run, check })}`);
    results.monthEnd = { seconds, managersPerSecond: managers / seconds, run, seedSeconds, cpuSeconds };

    results.pgbench = await pgbenchBeside(opts.url, Number(opts.pgbenchSeconds));
  } finally {
    if (!opts.keepDb) await dropDatabase(opts.url, name);
  }
  const month = results.monthEnd as {
    seconds: number;
    managersPerSecond: number;
    cpuSeconds: { node: number; postgres: number };
  };
  const pgbench = results.pgbench as { tpcb?: { tps: number } };
  const target = (managers / 100_000) * 30;
  console.log(
    markdownTable([
      {
        metric: `R24 month-end run, ${formatNumber(managers)} managers × ${referrals} referral lots`,
        value: month.seconds,
        unit: "s",
        target: `≤ ${formatNumber(target)} (30 s per 100,000)`,
        met: month.seconds <= target,
      },
      { metric: "managers settled", value: month.managersPerSecond, unit: "/s" },
      {
        metric: "CPU during the run: Node / PostgreSQL",
        value: `${month.cpuSeconds.node.toFixed(1)} / ${month.cpuSeconds.postgres.toFixed(1)}`,
        unit: "s",
      },
      {
        metric: "pgbench TPC-B on the same server (reference)",
        value: pgbench.tpcb ? pgbench.tpcb.tps : "skipped",
        unit: "tps",
      },
    ]),
  );
  const file = writeResults("manager-month", results);
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
