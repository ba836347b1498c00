import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { round } from "./stats.js";

/** The PostgreSQL side: scratch databases, server facts, on-disk sizes, EXPLAIN and pgbench. */

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1)) || "postgres";
}

/** One connection for `work`; `sessionOptions` are libpq options such as the service's `-c jit=off`. */
export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  sessionOptions?: string,
): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    ...(sessionOptions ? { options: sessionOptions } : {}),
  });
  // A connection the server ends (a restart) fails the query; it must not also crash the process.
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Process ids of the backends connected to this URL's database (other than the one asking). */
export async function backendPids(url: string | undefined): Promise<number[]> {
  if (!url) return [];
  try {
    return await withClient(url, async (c) => {
      const r = await c.query<{ pid: number }>(
        "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      );
      return r.rows.map((row) => row.pid);
    });
  } catch {
    return [];
  }
}

/**
 * Samples pg_stat_activity of this URL's database every `everyMs` until stopped: the average number of
 * the service's sessions in each state — running ("active: on CPU or I/O"), waiting on a lock
 * ("active: Lock/transactionid"…), or idle inside a transaction while the service computes
 * ("idle in transaction"). Idle sessions are left out.
 */
export async function sampleSessions(
  url: string,
  everyMs = 100,
): Promise<() => Promise<Record<string, number>>> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  const counts: Record<string, number> = {};
  let samples = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const r = await client.query<{ state: string; wait: string | null }>(
        `select state, wait_event_type || '/' || wait_event as wait from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
           and state <> 'idle'`,
      );
      samples += 1;
      for (const row of r.rows) {
        const key =
          row.state === "active"
            ? row.wait && !row.wait.startsWith("Client/")
              ? `active: waiting ${row.wait}`
              : "active: on CPU or I/O"
            : row.state;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    } catch {
      // A failed sample (a restart) is skipped.
    } finally {
      busy = false;
    }
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await client.end().catch(() => {});
    return Object.fromEntries(
      Object.entries(counts)
        .map(([k, n]): [string, number] => [k, Math.round((n / Math.max(1, samples)) * 100) / 100])
        .sort((a, b) => b[1] - a[1]),
    );
  };
}

const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name ${name}`);
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  return withDatabase(adminUrl, name);
}

/** Drops a scratch database, retrying for a while if the server is restarting. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name ${name}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

export interface ServerFacts {
  version: string;
  serverVersion: string;
  settings: Record<string, string>;
}

export async function serverFacts(url: string): Promise<ServerFacts> {
  return withClient(url, async (c) => {
    const version = (await c.query<{ v: string }>("select version() as v")).rows[0]?.v ?? "";
    const names = [
      "server_version",
      "shared_buffers",
      "work_mem",
      "synchronous_commit",
      "fsync",
      "wal_sync_method",
      "max_connections",
      "max_wal_size",
    ];
    const rows = await c.query<{ name: string; setting: string; unit: string | null }>(
      "select name, setting, unit from pg_settings where name = any($1)",
      [names],
    );
    const settings = Object.fromEntries(
      rows.rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]),
    );
    return { version, serverVersion: settings.server_version ?? "", settings };
  });
}

export interface TableSize {
  table: string;
  rows: number;
  /** Heap + TOAST + free-space/visibility maps + indexes, bytes. */
  totalBytes: number;
  indexBytes: number;
}

/** A table name as an SQL identifier, quoted. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Exact row counts and on-disk sizes of these tables (of the schema in use): pg_total_relation_size
 * (heap, TOAST, maps and indexes) and pg_indexes_size, summed over the partitions of a partitioned one.
 */
export async function tableSizes(url: string, tables: readonly string[]): Promise<Record<string, TableSize>> {
  return withClient(url, async (c) => {
    const out: Record<string, TableSize> = {};
    for (const table of tables) {
      const name = quoteIdentifier(table);
      const row = (
        await c.query<{ n: string; total: string; idx: string }>(
          // pg_partition_tree lists no rows for a table that is not partitioned.
          `select (select count(*) from ${name}) as n,
                  coalesce((select sum(pg_total_relation_size(relid)) from pg_partition_tree($1::regclass)),
                           pg_total_relation_size($1::regclass)) as total,
                  coalesce((select sum(pg_indexes_size(relid)) from pg_partition_tree($1::regclass)),
                           pg_indexes_size($1::regclass)) as idx`,
          [name],
        )
      ).rows[0];
      out[table] = {
        table,
        rows: Number(row?.n ?? 0),
        totalBytes: Number(row?.total ?? 0),
        indexBytes: Number(row?.idx ?? 0),
      };
    }
    return out;
  });
}

/** Exact row counts and pg_total_relation_size of the ledger tables. */
export function ledgerSizes(url: string): Promise<Record<string, TableSize>> {
  return tableSizes(url, [
    "movements",
    "lots",
    "holds",
    "redemptions",
    "balances",
    "orders",
    "order_events",
    "idempotency",
  ]);
}

/** The tables an order's lifecycle writes to, besides any table whose name starts with `order_`. */
const LIFECYCLE_TABLES = ["orders", "order_events", "lots", "movements", "holds", "redemptions"];
/** The order states after which an order's lifecycle is over. */
const COMPLETED_ORDER_STATES = ["delivered", "returned", "cancelled"];

/**
 * Bytes per completed order lifecycle: the total size on disk (indexes and TOAST included) of the
 * order and ledger tables — those of LIFECYCLE_TABLES that exist and every `order_*` table, found in
 * pg_class of the schema in use — divided by the orders in a final state (delivered, returned,
 * cancelled). Every row of those tables counts, the seed's credits and the unfinished orders included.
 */
export async function orderLifecycleBytes(url: string) {
  const { tables, byState } = await withClient(url, async (c) => {
    const found = await c.query<{ name: string }>(
      `select c.relname as name from pg_class as c
       where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
         and not c.relispartition and (c.relname = any($1) or c.relname like 'order\\_%')
       order by c.relname`,
      [LIFECYCLE_TABLES],
    );
    const states = await c.query<{ state: string; n: string }>(
      "select state, count(*) as n from orders group by state order by state",
    );
    return {
      tables: found.rows.map((r) => r.name),
      byState: Object.fromEntries(states.rows.map((r) => [r.state, Number(r.n)])),
    };
  });
  const sizes = await tableSizes(url, tables);
  const completedOrders = COMPLETED_ORDER_STATES.reduce((n, state) => n + (byState[state] ?? 0), 0);
  const totalBytes = Object.values(sizes).reduce((n, t) => n + t.totalBytes, 0);
  const per = (bytes: number) => (completedOrders > 0 ? round(bytes / completedOrders, 1) : Number.NaN);
  return {
    bytes: per(totalBytes),
    totalBytes,
    completedOrders,
    orders: Object.values(byState).reduce((n, k) => n + k, 0),
    ordersByState: byState,
    tables: Object.fromEntries(
      Object.values(sizes).map((t) => [t.table, { ...t, bytesPerCompletedOrder: per(t.totalBytes) }]),
    ),
  };
}

/** Bytes per ledger movement: movements alone, and with the lots, holds and redemptions they touch. */
export function bytesPerMovement(sizes: Record<string, TableSize>) {
  const movements = sizes.movements;
  const n = movements?.rows ?? 0;
  const withLedger = ["movements", "lots", "holds", "redemptions"].reduce(
    (s, t) => s + (sizes[t]?.totalBytes ?? 0),
    0,
  );
  return {
    movements: n,
    movementsOnly: n > 0 ? (movements?.totalBytes ?? 0) / n : Number.NaN,
    withLotsHoldsRedemptions: n > 0 ? withLedger / n : Number.NaN,
  };
}

/**
 * Where a movement's bytes go: heap (with its row headers and page fill), TOAST, each index, and the
 * average stored size of each column (pg_column_size: after compression, before row overhead).
 */
export async function movementBytes(url: string) {
  return withClient(url, async (c) => {
    // Every column the table has now, so the breakdown follows the schema.
    const columns = (
      await c.query<{ column_name: string }>(
        `select column_name from information_schema.columns
         where table_schema = current_schema() and table_name = 'movements' order by ordinal_position`,
      )
    ).rows.map((r) => r.column_name);
    const avgs = columns
      .map((col) => `avg(coalesce(pg_column_size(${col}), 0))::float8 as ${col}`)
      .join(", ");
    const row = (
      await c.query<Record<string, number>>(
        `select count(*)::float8 as rows, avg(pg_column_size(m.*))::float8 as whole_row, ${avgs} from movements as m`,
      )
    ).rows[0];
    const rel = (
      await c.query<{ heap: string; toast: string }>(
        `select pg_relation_size('movements') as heap,
                coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0) as toast
         from pg_class where oid = 'movements'::regclass`,
      )
    ).rows[0];
    const indexes = await c.query<{ name: string; bytes: string }>(
      `select indexrelid::regclass::text as name, pg_relation_size(indexrelid) as bytes
       from pg_index where indrelid = 'movements'::regclass`,
    );
    const rows = row?.rows ?? 0;
    const per = (bytes: number) => (rows > 0 ? Math.round((bytes / rows) * 10) / 10 : Number.NaN);
    return {
      rows,
      heapBytesPerMovement: per(Number(rel?.heap ?? 0)),
      toastBytesPerMovement: per(Number(rel?.toast ?? 0)),
      indexBytesPerMovement: Object.fromEntries(indexes.rows.map((i) => [i.name, per(Number(i.bytes))])),
      averageRowBytes: Math.round((row?.whole_row ?? 0) * 10) / 10,
      averageColumnBytes: Object.fromEntries(
        columns.map((col) => [col, Math.round((row?.[col] ?? 0) * 10) / 10]),
      ),
    };
  });
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of a reading statement the service sent, with its parameters (inside a
 * transaction that is rolled back, to be safe). When the plan was JIT-compiled, the statement is
 * explained once more with `jit = off`, to show what the compilation cost.
 */
export async function explainReplay(
  url: string,
  text: string,
  values: unknown[],
  sessionOptions?: string,
): Promise<{ plan: string[]; withoutJit?: string[] }> {
  if (!/^\s*(select|with)\b/i.test(text)) return { plan: [] };
  return withClient(
    url,
    async (c) => {
      const explain = async () =>
        (await c.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${text}`, values)).rows.map(
          (r) => r["QUERY PLAN"],
        );
      await c.query("begin");
      try {
        const plan = await explain();
        if (!plan.some((l) => l.startsWith("JIT:"))) return { plan };
        await c.query("set local jit = off");
        return { plan, withoutJit: await explain() };
      } finally {
        await c.query("rollback");
      }
    },
    sessionOptions,
  );
}

/** "JIT: 125 functions, 91.1 ms (emission 68.2 ms)" from a plan, or undefined when it was not compiled. */
export function jitSummary(plan: string[]): string | undefined {
  const at = plan.findIndex((l) => l.startsWith("JIT:"));
  if (at < 0) return undefined;
  const tail = plan.slice(at, at + 5).join(" ");
  const functions = /Functions: (\d+)/.exec(tail)?.[1];
  const total = /Total ([\d.]+) ms/.exec(tail)?.[1];
  const emission = /Emission ([\d.]+) ms/.exec(tail)?.[1];
  const optimization = /Optimization ([\d.]+) ms/.exec(tail)?.[1];
  return `JIT compiled ${functions ?? "?"} functions in ${total ?? "?"} ms (optimization ${optimization ?? "?"} ms, emission ${emission ?? "?"} ms)`;
}

export interface PlanNode {
  node: string;
  selfMs: number;
  totalMs: number;
}

/**
 * The plan nodes that took the most time themselves (inclusive time × loops, minus their children's),
 * from EXPLAIN ANALYZE text: where a statement's time goes, without reading the whole plan.
 */
export function hottestNodes(plan: string[], n: number): PlanNode[] {
  const nodes: { level: number; node: string; total: number; children: number }[] = [];
  const stack: { level: number; index: number }[] = [];
  for (const line of plan) {
    const m = /actual time=[\d.]+\.\.([\d.]+) rows=\d+ loops=(\d+)/.exec(line);
    if (!m) continue;
    const arrow = line.indexOf("->");
    const level = arrow < 0 ? 0 : arrow + 1;
    const total = Number(m[1]) * Number(m[2]);
    while (stack.length > 0 && (stack[stack.length - 1]?.level ?? 0) >= level) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) {
      const p = nodes[parent.index];
      if (p) p.children += total;
    }
    const text = line.replace(/^\s*(->\s*)?/, "").replace(/\s*\(cost=[^)]*\)/, "");
    nodes.push({ level, node: text.length > 140 ? `${text.slice(0, 139)}…` : text, total, children: 0 });
    stack.push({ level, index: nodes.length - 1 });
  }
  return nodes
    .map((x) => ({
      node: x.node,
      selfMs: Math.max(0, Math.round((x.total - x.children) * 10) / 10),
      totalMs: x.total,
    }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, n);
}

/** pgbench from PATH, or from the PostgreSQL installation it usually comes with. */
export function findPgbench(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "pgbench"))) return join(dir, "pgbench");
  }
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort().reverse()) {
      const candidate = join(root, version, "bin", "pgbench");
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

function connectionArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const args = ["-h", u.hostname || "127.0.0.1", "-p", u.port || "5432"];
  if (u.username) args.push("-U", decodeURIComponent(u.username));
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return { args, env };
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

export interface PgbenchResult {
  tps: number;
  latencyMs: number | undefined;
  transactions: number | undefined;
  command: string;
}

function parsePgbench(output: string, command: string): PgbenchResult {
  const tps =
    /tps = ([\d.]+) \(without initial connection time\)/.exec(output) ?? /tps = ([\d.]+)/.exec(output);
  if (!tps?.[1]) throw new Error(`could not read the tps from pgbench:\n${output}`);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  const transactions = /number of transactions actually processed: (\d+)/.exec(output);
  return {
    tps: Number(tps[1]),
    latencyMs: latency?.[1] ? Number(latency[1]) : undefined,
    transactions: transactions?.[1] ? Number(transactions[1]) : undefined,
    command,
  };
}

/**
 * The reference numbers for this server: TPC-B-like (pgbench's default script, `-i -s scale`) and one
 * INSERT per commit into a scratch table, both `-c clients -j threads -T seconds`.
 */
export async function pgbenchReference(options: {
  bin: string;
  url: string;
  scale: number;
  clients: number;
  threads: number;
  seconds: number;
  scriptDir: string;
  onStep?: (step: string) => void;
}): Promise<{ tpcb: PgbenchResult; insert: PgbenchResult; initSeconds: number }> {
  const { args, env } = connectionArgs(options.url);
  const db = databaseOf(options.url);
  options.onStep?.(`pgbench -i -s ${options.scale}`);
  const initStart = Date.now();
  const init = await run(options.bin, ["-i", "-q", "-s", String(options.scale), ...args, db], env);
  if (init.code !== 0) throw new Error(`pgbench -i failed:\n${init.output}`);
  const initSeconds = (Date.now() - initStart) / 1000;
  const load = ["-c", String(options.clients), "-j", String(options.threads), "-T", String(options.seconds)];
  options.onStep?.(`pgbench TPC-B ${load.join(" ")}`);
  const tpcbArgs = [...load, ...args, db];
  const tpcb = await run(options.bin, tpcbArgs, env);
  if (tpcb.code !== 0) throw new Error(`pgbench failed:\n${tpcb.output}`);
  await withClient(options.url, (c) =>
    c.query(
      "create table if not exists bench_insert (id bigserial primary key, v double precision, at timestamptz default now())",
    ),
  );
  const script = join(options.scriptDir, "insert.sql");
  writeFileSync(script, "insert into bench_insert (v) values (random());\n");
  options.onStep?.(`pgbench single INSERT ${load.join(" ")}`);
  const insertArgs = [...load, "-n", "-f", script, ...args, db];
  const insert = await run(options.bin, insertArgs, env);
  if (insert.code !== 0) throw new Error(`pgbench -f failed:\n${insert.output}`);
  return {
    tpcb: parsePgbench(tpcb.output, `pgbench ${tpcbArgs.join(" ")}`),
    insert: parsePgbench(insert.output, `pgbench ${insertArgs.join(" ")}`),
    initSeconds,
  };
}

/**
 * The reference for the small benches (`bench:managers`, `bench:finance`): pgbenchReference at
 * scale 10, 8 clients, 2 threads, on a scratch database of its own, dropped afterwards.
 */
export async function pgbenchBeside(adminUrl: string, seconds: number) {
  const bin = findPgbench();
  if (!bin) return { skipped: "pgbench not found" };
  const scratch = `kopilka_pgbench_${randomBytes(4).toString("hex")}`;
  const scratchUrl = await createDatabase(adminUrl, scratch);
  try {
    return await pgbenchReference({
      bin,
      url: scratchUrl,
      scale: 10,
      clients: 8,
      threads: 2,
      seconds,
      scriptDir: mkdtempSync(join(tmpdir(), "kopilka-pgbench-")),
    });
  } finally {
    await dropDatabase(adminUrl, scratch);
  }
}
