/**
 * Finance at scale: `npx tsx bench/finance.ts [--movements 10000000]` (`npm run bench:finance`).
 *
 * On a fresh database of the PostgreSQL server at KOPILKA_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test) it seeds, set-based and in the shapes the service writes
 * (see `seed` below), a ledger of `--movements` movements over two years — lots of the marketplace,
 * 1,000 sellers, 50 campaigns and savings interest; spends, refunds, holds, clawbacks of pending and
 * of available points, expiries — with its lots, holds, redemptions and balance cache, consistent (the
 * reconciliation must find nothing). Then it serves Kopilka on it (in this process, on a loopback
 * port) and times each finance export, CSV and JSON, read over HTTP and written to /dev/null, and
 * `GET /v1/finance/verify`; and, for reference on the same server, pgbench's TPC-B. Prints a table
 * and writes bench/results/finance-<timestamp>.json. Only a broken run exits non-zero (a failed
 * request, an inconsistent seed), never a slow one.
 */

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Command } from "commander";
import { loadConfig } from "../src/config.js";
import { monthContaining } from "../src/domain/savings/index.js";
import { createKopilka } from "../src/main.js";
import {
  createDatabase,
  dropDatabase,
  ledgerSizes,
  pgbenchBeside,
  serverFacts,
  withClient,
} from "./postgres.js";
import { formatNumber, markdownTable, writeResults } from "./report.js";
import { postgresCpuSeconds, procStatusKb } from "./service.js";

const program = new Command()
  .option("--movements <n>", "movements to seed (about; a multiple of 20 exactly)", "10000000")
  .option(
    "--url <url>",
    "PostgreSQL server",
    process.env.KOPILKA_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  )
  .option("--pgbench-seconds <n>", "seconds of pgbench TPC-B for reference", "20")
  .option("--keep-db", "keep the scratch database");
program.parse();
const opts = program.opts<{ movements: string; url: string; pgbenchSeconds: string; keepDb?: boolean }>();
/** Ten lot patterns make twenty movements: a unit is one lot and its movements. */
const units = Math.max(10, Math.round(Number(opts.movements) / 20) * 10);
const customers = Math.max(1, units / 10);
/** The bound for each export at ten million movements. */
const TARGET_SECONDS = 60;
const TIME_ZONE = "Europe/Moscow";

/**
 * Unit u is lot `lot_FB<u>` of customer `fb-<u mod customers>`, made at an instant spread over the
 * 700 days that end 60 days ago (so that what expires 30 days after it has expired), its pattern
 * u mod 10 saying what happened to it (and so which movements it has, j = 0, 1, 2):
 *   0 marketplace purchase points, expired whole            credit, expire
 *   1 a seller's, spent whole                                credit, spend
 *   2 a seller's, half spent, the rest expired               credit, spend, expire
 *   3 a seller's, still available                            credit
 *   4 a seller's, pending for 10 more days, a quarter cancelled (R13: back to the seller)   credit, clawback
 *   5 a campaign's, half of it held by an active hold (R20)  credit, hold
 *   6 marketplace points, a third clawed back (R14)          credit, clawback
 *   7 savings interest, available                            credit
 *   8 a campaign's, pending a day, then available            credit, make_available
 *   9 a seller's, half spent, half of that refunded (R15)    credit, spend, refund
 * Accounts are migration 5's one-byte codes: 1 wallet:available, 2 wallet:pending, 3 wallet:held,
 * 5 sink:redeemed, 6 sink:expired, 7 sink:clawed_back, 8 funder:marketplace, 9 funder:savings_interest,
 * 128 the first of `funders`. Explanation codes as src/infra/movement-rows.ts numbers them.
 */
const UNITS = `
  select u, (u + u / $2::int) % 10 as p, 40 + (u::bigint * 7919) % 960 as a,
    'fb-' || lpad((u % $2::int)::text, 8, '0') as customer_id,
    'lot_FB' || lpad(u::text, 24, '0') as lot_id,
    'mov_FB' || lpad(u::text, 23, '0') as mov,
    'fb-' || u as ref,
    u % 50 as campaign, u % 1000 as seller,
    date_trunc('milliseconds', $3::timestamptz - interval '760 days' + (u::float8 / $1::int) * interval '700 days')
      as created,
    $3::timestamptz as now
  from generate_series(0, $1::int - 1) as u`;

/** Who funds the unit's lot, from where, of which kind. */
const FUNDED = `
  select x.*,
    case when p in (0, 6) then 'marketplace' when p = 7 then 'savings_interest'
      when p in (5, 8) then 'campaign:bench-' || campaign else 'seller:bench-' || seller end as funder,
    case when p in (0, 6) then 'purchase' when p = 7 then 'savings_interest'
      when p in (5, 8) then 'campaign' else 'seller' end as source,
    case when p = 7 then 'savings' else 'bonus' end as kind
  from (${UNITS}) as x`;

/** The lot's dates and what is left of it, by pattern. */
const LOTS = `
  select x.*,
    case p when 4 then now + interval '10 days' when 8 then created + interval '1 day' else created end as available_from,
    case when p in (0, 2) then created + interval '30 days'
         when p = 4 then now + interval '375 days'
         else now + (1 + u % 360) * interval '1 day' end as expires_at,
    case p when 0 then 0 when 1 then 0 when 2 then 0 when 4 then a - a / 4 when 5 then a - a / 2 when 6 then a - a / 3
           when 9 then a - a / 2 + a / 2 / 2 else a end as remaining,
    case funder when 'marketplace' then '08' when 'savings_interest' then '09' else '80' end as funder_code,
    case when funder in ('marketplace', 'savings_interest') then null else array[funder] end as funders
  from (${FUNDED}) as x`;

const iso = (column: string) => `to_char((${column}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** One movement per selected unit: the columns after customer_id, as `insert into movements` lists them. */
function movements(
  j: number,
  where: string,
  m: {
    type: string;
    code: number;
    /** Hex of the account codes; `named`: they name the lot's funder (128). */
    accounts: string;
    named?: boolean;
    amounts: string;
    deltas: string;
    at: string;
    params: string;
  },
): string {
  const lotRefs = m.deltas === "" ? "''::bytea" : "kopilka_lot_ref(lot_id)";
  return `
    insert into movements (customer_id, movement_id, kind, type, explanation_code, accounts, funders, amounts,
                           lot_refs, lot_deltas, reference, explanation_params, actor, occurred_at)
    select customer_id, mov || '${j}', kind, '${m.type}', ${m.code}, decode(${m.accounts}, 'hex'),
           ${m.named ? "funders" : "null"}, array[${m.amounts}]::bigint[],
           ${lotRefs}, array[${m.deltas}]::bigint[], ref, json_build_array(${m.params}), 'bench', ${m.at}
    from (${LOTS}) as l where ${where}`;
}

/** What a statement's $1, $2 … are: units, customers and now (UNITS); customers and now; nothing. */
type Params = "units" | "customers" | "none";

const SEED_STEPS: [name: string, statement: string, params?: Params][] = [
  [
    "customers",
    `insert into customers (customer_id, created_at)
     select 'fb-' || lpad(c::text, 8, '0'), $2::timestamptz - interval '800 days'
     from generate_series(0, $1::int - 1) as c`,
    "customers",
  ],
  [
    "lots",
    `insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state, created_at,
                       available_from, expires_at, reference)
     select customer_id, lot_id, kind, a, remaining, source, funder, case p when 4 then 'pending' else 'available' end,
            created, available_from, expires_at, ref
     from (${LOTS}) as l`,
  ],
  [
    "credits",
    movements(0, "true", {
      type: "credit",
      code: 1,
      accounts: "funder_code || case when p in (4, 8) then '02' else '01' end",
      named: true,
      amounts: "-a, a",
      deltas: "a",
      at: "created",
      params: `a, source, case when p in (4, 8) then ${iso("available_from")} end, ${iso("expires_at")}, ref`,
    }),
  ],
  [
    "expiries",
    movements(1, "p = 0", {
      type: "expire",
      code: 7,
      accounts: "'0106'",
      amounts: "-a, a",
      deltas: "-a",
      at: "expires_at",
      params: `a, ${iso("expires_at")}`,
    }),
  ],
  [
    "expiries after a spend",
    movements(2, "p = 2", {
      type: "expire",
      code: 7,
      accounts: "'0106'",
      amounts: "-(a - a / 2), a - a / 2",
      deltas: "-(a - a / 2)",
      at: "expires_at",
      params: `a - a / 2, ${iso("expires_at")}`,
    }),
  ],
  [
    "spends",
    movements(1, "p in (1, 2, 9)", {
      type: "spend",
      code: 5,
      accounts: "'0105'",
      amounts: "-(case p when 1 then a else a / 2 end), case p when 1 then a else a / 2 end",
      deltas: "-(case p when 1 then a else a / 2 end)",
      at: "created + interval '1 day'",
      params: "case p when 1 then a else a / 2 end, ref",
    }),
  ],
  [
    "refunds",
    movements(2, "p = 9", {
      type: "refund",
      code: 9,
      accounts: "'0501'",
      amounts: "-(a / 2 / 2), a / 2 / 2",
      deltas: "a / 2 / 2",
      at: "created + interval '2 days'",
      params: "a / 2 / 2, ref, null, json_build_array()",
    }),
  ],
  [
    "pending cancellations",
    movements(1, "p = 4", {
      type: "clawback",
      code: 8,
      accounts: "'0280'",
      named: true,
      amounts: "-(a / 4), a / 4",
      deltas: "-(a / 4)",
      at: "created + interval '1 hour'",
      params: "a / 4, 0, 0, ref, json_build_array()",
    }),
  ],
  [
    "clawbacks",
    movements(1, "p = 6", {
      type: "clawback",
      code: 8,
      accounts: "'0107'",
      amounts: "-(a / 3), a / 3",
      deltas: "-(a / 3)",
      at: "created + interval '2 days'",
      params: "0, a / 3, 0, ref, json_build_array()",
    }),
  ],
  [
    "holds' movements",
    movements(1, "p = 5", {
      type: "hold",
      code: 4,
      accounts: "'0103'",
      amounts: "-(a / 2), a / 2",
      deltas: "-(a / 2)",
      at: "now - interval '5 minutes'",
      params: `a / 2, kind, ref, ${iso("now + interval '25 minutes'")}`,
    }),
  ],
  [
    "made available",
    movements(1, "p = 8", {
      type: "make_available",
      code: 2,
      accounts: "'0201'",
      amounts: "-a, a",
      deltas: "",
      at: "available_from",
      params: `a, ${iso("expires_at")}, ref`,
    }),
  ],
  [
    "redemptions",
    `insert into redemptions (customer_id, redemption_id, kind, amount, refunded, created_at, take_lot_ids,
                             take_amounts, take_returned)
     select customer_id, ref, kind, s, r, created + interval '1 day', array[lot_id], array[s], array[r]
     from (select *, case p when 1 then a else a / 2 end as s, case p when 9 then a / 2 / 2 else 0 end as r
           from (${FUNDED}) as x where p in (1, 2, 9)) as l`,
  ],
  [
    "holds",
    `insert into holds (customer_id, hold_id, kind, amount, state, release_reason, created_at, expires_at,
                       take_lot_ids, take_amounts, take_returned)
     select customer_id, ref, kind, a / 2, 'active', null, now - interval '5 minutes', now + interval '25 minutes',
            array[lot_id], array[a / 2], array[0::bigint]
     from (${FUNDED}) as x where p = 5`,
  ],
  [
    "balances",
    `insert into balances (customer_id, kind, available, pending, held, debt)
     select customer_id, kind, coalesce(l.available, 0), coalesce(l.pending, 0), coalesce(h.held, 0), 0
     from customers cross join (values ('bonus'), ('savings'), ('referral')) as k(kind)
       left join (select customer_id, kind, sum(remaining) filter (where state = 'available') as available,
                         sum(remaining) filter (where state = 'pending') as pending
                  from lots group by customer_id, kind) as l using (customer_id, kind)
       left join (select customer_id, kind, sum(amount) as held from holds where state = 'active'
                  group by customer_id, kind) as h using (customer_id, kind)`,
    "none",
  ],
];

async function seed(url: string, now: Date): Promise<{ seconds: number; steps: Record<string, number> }> {
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  await withClient(url, async (c) => {
    await c.query("set synchronous_commit = off");
    const values: Record<Params, unknown[]> = {
      units: [units, customers, now],
      customers: [customers, now],
      none: [],
    };
    for (const [name, statement, params = "units"] of SEED_STEPS) {
      const start = performance.now();
      await c.query(statement, values[params]);
      steps[name] = Math.round(performance.now() - start) / 1000;
      console.log(`  seeded ${name} in ${steps[name]} s`);
    }
    const start = performance.now();
    await c.query("analyze");
    steps.analyze = Math.round(performance.now() - start) / 1000;
  });
  return { seconds: (performance.now() - t0) / 1000, steps };
}

interface Timed {
  seconds: number;
  bytes: number;
  lines: number;
  cpuSeconds: { node: number; postgres: number };
}

/** One request, its answer read and written to /dev/null as it arrives. */
async function timed(base: string, key: string, path: string, accept: string): Promise<Timed> {
  const [cpu0, pg0, t0] = [process.cpuUsage(), postgresCpuSeconds(), performance.now()];
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, accept } });
  if (res.status !== 200 || !res.body) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  const counted = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  counted.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
  });
  await pipeline(counted, createWriteStream("/dev/null"));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds,
    bytes,
    lines,
    cpuSeconds: { node: (cpu.user + cpu.system) / 1e6, postgres: postgresCpuSeconds() - pg0 },
  };
}

async function main() {
  const name = `kopilka_bench_${randomBytes(4).toString("hex")}`;
  const url = await createDatabase(opts.url, name);
  const now = new Date();
  const results: Record<string, unknown> = {
    startedAt: now.toISOString(),
    units,
    customers,
    cpus: cpus().length,
    server: await serverFacts(url),
  };
  const exports: Record<string, Timed> = {};
  let verify: (Timed & { ok: boolean; movements: number }) | undefined;
  try {
    const config = loadConfig({
      ...process.env,
      KOPILKA_DATABASE_URL: url,
      KOPILKA_LOG_LEVEL: "warn",
      KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
      KOPILKA_NOTIFICATION_RELAY_INTERVAL_MS: "0",
      KOPILKA_JWT_SECRET: randomBytes(24).toString("hex"),
      KOPILKA_TIME_ZONE: TIME_ZONE,
    });
    const kopilka = await createKopilka(config);
    try {
      console.log(`seeding ${formatNumber(units * 2)} movements for ${formatNumber(customers)} customers`);
      results.seed = await seed(url, now);
      const counted = await withClient(url, (c) =>
        c.query<{ n: string }>("select count(*) as n from movements"),
      );
      results.movements = Number(counted.rows[0]?.n);
      results.sizes = await ledgerSizes(url);
      const { secret } = await kopilka.access.createKey({ name: "bench", role: "readonly", sellerId: null });
      const server = await kopilka.buildServer();
      const base = await server.listen({ port: 0, host: "127.0.0.1" });
      try {
        const from = monthContaining(new Date(now.getTime() - 760 * 86_400_000), TIME_ZONE).month;
        const to = monthContaining(now, TIME_ZONE).month;
        const range = `from=${from}&to=${to}`;
        const reports: [string, string][] = [
          ["liability", "/v1/finance/liability"],
          ["breakage", `/v1/finance/breakage?${range}`],
          ["expiry forecast", "/v1/finance/expiry-forecast"],
          ["statement of seller:bench-7", `/v1/finance/funders/seller:bench-7/statement?${range}`],
          ["statement of the marketplace", `/v1/finance/funders/marketplace/statement?${range}`],
        ];
        for (const [report, path] of reports) {
          for (const [format, accept] of [
            ["CSV", "text/csv"],
            ["JSON", "application/json"],
          ] as const) {
            const t = await timed(base, secret, path, accept);
            exports[`${report} (${format})`] = t;
            console.log(`  ${report} (${format}): ${t.seconds.toFixed(2)} s, ${formatNumber(t.bytes)} bytes`);
          }
        }
        const [cpu0, pg0, t0] = [process.cpuUsage(), postgresCpuSeconds(), performance.now()];
        const res = await fetch(`${base}/v1/finance/verify`, {
          headers: { authorization: `Bearer ${secret}` },
        });
        const text = await res.text();
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const body = JSON.parse(text) as { ok: boolean; movements: number; violations: unknown[] };
        if (res.status !== 200 || !body.ok)
          throw new Error(`the seeded ledger does not reconcile: ${text.slice(0, 2000)}`);
        verify = {
          seconds,
          bytes: text.length,
          lines: 0,
          cpuSeconds: { node: (cpu.user + cpu.system) / 1e6, postgres: postgresCpuSeconds() - pg0 },
          ok: body.ok,
          movements: body.movements,
        };
        console.log(`  verify: ${seconds.toFixed(2)} s over ${formatNumber(body.movements)} movements`);
      } finally {
        await server.close();
      }
    } finally {
      await kopilka.close();
    }
    results.exports = exports;
    results.verify = verify;
    // This process served and read every answer: its peak resident set bounds what streaming kept in memory.
    results.peakRssMb = procStatusKb(process.pid, "VmHWM") / 1024;

    results.pgbench = await pgbenchBeside(opts.url, Number(opts.pgbenchSeconds));
  } finally {
    if (!opts.keepDb) await dropDatabase(opts.url, name);
  }

  const movementCount = results.movements as number;
  const atScale = `≤ ${TARGET_SECONDS} (at 10,000,000 movements)`;
  const pgbench = results.pgbench as { tpcb?: { tps: number } };
  console.log(
    markdownTable([
      { metric: "movements seeded", value: movementCount, unit: "" },
      ...Object.entries(exports).map(([report, t]) => ({
        metric: `${report}, streamed to /dev/null`,
        value: t.seconds,
        unit: "s",
        target: atScale,
        met: t.seconds <= TARGET_SECONDS,
        reference: `${formatNumber(t.bytes / 1e6, 1)} MB; CPU node ${t.cpuSeconds.node.toFixed(1)} s, PostgreSQL ${t.cpuSeconds.postgres.toFixed(1)} s`,
      })),
      {
        metric: "verify (the reconciliation)",
        value: verify?.seconds ?? Number.NaN,
        unit: "s",
        reference: `CPU node ${verify?.cpuSeconds.node.toFixed(1)} s, PostgreSQL ${verify?.cpuSeconds.postgres.toFixed(1)} s`,
      },
      {
        metric: "peak RSS of this process (service and reader)",
        value: results.peakRssMb as number,
        unit: "MiB",
      },
      {
        metric: "pgbench TPC-B on the same server (reference)",
        value: pgbench.tpcb ? pgbench.tpcb.tps : "skipped",
        unit: "tps",
      },
    ]),
  );
  const file = writeResults("finance", results);
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
