import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../src/config.js";
import { incomingEventOf } from "../src/http/order-event-body.js";
import { createKopilka, type Kopilka } from "../src/main.js";
import type { OrderedFeed } from "./phases.js";
import { backendPids, explainReplay, withClient } from "./postgres.js";
import { hash32, Rng } from "./random.js";
import { cpuSecondsOf, postgresCpuSeconds } from "./service.js";
import { type SqlTimings, type StatementTiming, sessionOptionsOf, timedDatabase } from "./sql-timing.js";
import type { Workload } from "./workload.js";

/**
 * Phases that run Kopilka inside this process (createKopilka with a statement-timing database handle):
 * the expiry job, which has no HTTP edge, and a profile of the batch event path that splits its time
 * into PostgreSQL statements and JavaScript.
 */

/** The in-process Kopilka's session options (the service's, e.g. `-c jit=off`): EXPLAIN runs with them. */
let sessionOptions: string | undefined;

export async function openInProcess(url: string, poolSize: number, timings: SqlTimings): Promise<Kopilka> {
  const config = loadConfig({
    ...process.env,
    KOPILKA_DATABASE_URL: url,
    KOPILKA_LOG_LEVEL: "warn",
    KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
    KOPILKA_DB_POOL_SIZE: String(poolSize),
    KOPILKA_JWT_SECRET: randomBytes(24).toString("hex"),
  });
  const database = await timedDatabase(url, poolSize, timings);
  sessionOptions = sessionOptionsOf(database);
  return createKopilka(config, { database });
}

/** Where a phase's time went: wall, SQL statements (their summed latencies) and CPU on each side. */
export interface Breakdown {
  wallSeconds: number;
  statements: number;
  /** Sum of statement latencies; above the wall time when statements overlap (pool > 1). */
  sqlSeconds: number;
  /** CPU of this Node process (Kopilka's JavaScript, Kysely, the pg driver). */
  nodeCpuSeconds: number;
  /** CPU of the backends connected to the benchmark database (alive at the end). */
  postgresBackendCpuSeconds: number;
  /** CPU of all PostgreSQL processes on the machine (other databases' work included). */
  postgresCpuSeconds: number;
  topStatements: StatementTiming[];
  /** EXPLAIN ANALYZE of the slowest run of the statements that took the most time (replayed, rolled back). */
  plans: { statement: string; tookMs: number; plan: string[]; withoutJit?: string[] }[];
}

async function measured<T>(
  timings: SqlTimings,
  work: () => Promise<T>,
  explainUrl?: string,
): Promise<{ value: T; breakdown: Breakdown }> {
  timings.reset();
  const b0 = cpuSecondsOf(await backendPids(explainUrl));
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  const value = await work();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pgCpu = postgresCpuSeconds() - pg0;
  let backendCpu = 0;
  for (const [pid, cpu] of cpuSecondsOf(await backendPids(explainUrl)))
    backendCpu += cpu - (b0.get(pid) ?? 0);
  const plans: Breakdown["plans"] = [];
  if (explainUrl) {
    for (const run of timings.slowestReads(2)) {
      try {
        const replay = await explainReplay(explainUrl, run.text, run.values, sessionOptions);
        if (replay.plan.length > 0) {
          plans.push({ statement: run.statement, tookMs: Math.round(run.ms * 10) / 10, ...replay });
        }
      } catch (error) {
        plans.push({
          statement: run.statement,
          tookMs: run.ms,
          plan: [`EXPLAIN failed: ${(error as Error).message}`],
        });
      }
    }
  }
  return {
    value,
    breakdown: {
      wallSeconds: wall,
      statements: timings.statements,
      sqlSeconds: timings.totalMs / 1000,
      nodeCpuSeconds: (cpu.user + cpu.system) / 1e6,
      postgresBackendCpuSeconds: backendCpu,
      postgresCpuSeconds: pgCpu,
      topStatements: timings.report().slice(0, 12),
      plans,
    },
  };
}

export interface ExpiryCheck {
  /** Lots of the seeded customers that are still open after the run (should be 0). */
  openExpiredLots: number;
  /** balances.available of the seeded customers (should be 0). */
  availableLeft: number;
  expireMovements: number;
  /** Customers whose wallet:available postings do not equal balances.available (should be 0). */
  postingMismatches: number;
}

export async function checkExpiry(url: string): Promise<ExpiryCheck> {
  return withClient(url, async (c) => {
    const q = async (text: string) => Number((await c.query<{ n: string }>(text)).rows[0]?.n ?? 0);
    const prefix = "customer_id >= 'ex-' and customer_id < 'ex-z'";
    return {
      openExpiredLots: await q(`select count(*) as n from lots where ${prefix} and remaining > 0`),
      availableLeft: await q(`select coalesce(sum(available), 0) as n from balances where ${prefix}`),
      expireMovements: await q(`select count(*) as n from movements where ${prefix} and type = 'expire'`),
      postingMismatches: await q(
        `with posted as (
           select customer_id, sum(a.amount) as total
           from movements_readable, unnest(accounts, amounts) as a(account, amount)
           where ${prefix} and a.account = 'wallet:available' group by customer_id)
         select count(*) as n from posted join balances b using (customer_id)
         where b.kind = 'bonus' and b.available <> posted.total`,
      ),
    };
  });
}

class ExpiryBudgetSpent extends Error {}

/**
 * The service's own expiry path: ScheduledWork.run, which pages the customers with due work and settles
 * them. Progress (and the time budget) hook into the LedgerService methods the job settles through —
 * `settle(customerId)` or `settleCustomers(customerIds)`, whichever this build has; past `budgetSeconds`
 * the next call throws, which ends the run early (what was settled stays settled).
 */
export async function runExpiry(
  kopilka: Kopilka,
  timings: SqlTimings,
  budgetSeconds: number,
  onProgress: (settled: number) => void,
  explainUrl?: string,
): Promise<{ customersSettled: number; finished: boolean; breakdown: Breakdown }> {
  const ledger = kopilka.ledger as unknown as Record<string, unknown>;
  const deadline = performance.now() + budgetSeconds * 1000;
  let settled = 0;
  let depth = 0;
  const hooked: string[] = [];
  for (const name of ["settle", "settleCustomers"]) {
    const original = ledger[name];
    if (typeof original !== "function") continue;
    hooked.push(name);
    ledger[name] = async (...args: unknown[]) => {
      if (depth === 0 && performance.now() > deadline) throw new ExpiryBudgetSpent();
      depth += 1;
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(kopilka.ledger, args);
      } finally {
        depth -= 1;
        if (depth === 0) {
          settled += Array.isArray(args[0]) ? args[0].length : 1;
          onProgress(settled);
        }
      }
    };
  }
  try {
    const slot = Math.floor(Date.now() / 1000);
    const { value, breakdown } = await measured(
      timings,
      async () => {
        try {
          const run = await kopilka.scheduledWork.run(slot, "bench");
          if (!run.claimed) throw new Error(`the scheduled run for slot ${slot} was already claimed`);
          return { finished: true, customersSettled: run.customersSettled };
        } catch (error) {
          if (error instanceof ExpiryBudgetSpent) return { finished: false, customersSettled: settled };
          throw error;
        }
      },
      explainUrl,
    );
    onProgress(value.customersSettled);
    return { ...value, breakdown };
  } finally {
    // The wrappers are own properties over the prototype's methods: deleting them restores those.
    for (const name of hooked) delete ledger[name];
  }
}

export interface SavingsMonthCheck {
  /** savings_interest rows of the seeded accounts for the month (should be every account). */
  monthsPaid: number;
  /** Their points, and the savings wallets' available points (both 500 an account). */
  points: number;
  savingsAvailable: number;
  creditMovements: number;
}

export async function checkSavingsMonth(url: string, month: string): Promise<SavingsMonthCheck> {
  return withClient(url, async (c) => {
    const q = async (text: string, params: unknown[] = []) =>
      Number((await c.query<{ n: string }>(text, params)).rows[0]?.n ?? 0);
    const prefix = "customer_id >= 'sa-' and customer_id < 'sa-z'";
    return {
      monthsPaid: await q(`select count(*) as n from savings_interest where ${prefix} and month = $1`, [
        month,
      ]),
      points: await q(
        `select coalesce(sum(points), 0) as n from savings_interest where ${prefix} and month = $1`,
        [month],
      ),
      savingsAvailable: await q(
        `select coalesce(sum(available), 0) as n from balances where ${prefix} and kind = 'savings'`,
      ),
      creditMovements: await q(
        `select count(*) as n from movements where ${prefix} and kind = 'savings' and type = 'credit'`,
      ),
    };
  });
}

class SavingsBudgetSpent extends Error {}

/**
 * R25's monthly run as the scheduler runs it: SavingsService.payDueMonth (the month before now, claimed
 * once), page by page through the group committer. Progress and the time budget hook into the store's
 * `accountsAfter`, which the run calls once a page: past `budgetSeconds` the next page throws, which
 * ends the run early (what was paid stays paid).
 */
export async function runSavingsMonth(
  kopilka: Kopilka,
  timings: SqlTimings,
  budgetSeconds: number,
  onProgress: (accounts: number) => void,
  explainUrl?: string,
): Promise<{ accountsRead: number; finished: boolean; breakdown: Breakdown }> {
  const store = (kopilka.savings as unknown as { store: Record<string, unknown> }).store;
  const deadline = performance.now() + budgetSeconds * 1000;
  let read = 0;
  const original = store.accountsAfter as (after: string | null, limit: number) => Promise<string[]>;
  store.accountsAfter = async (after: string | null, limit: number) => {
    onProgress(read);
    if (performance.now() > deadline) throw new SavingsBudgetSpent();
    const page = await original.call(store, after, limit);
    read += page.length;
    return page;
  };
  try {
    const { value, breakdown } = await measured(
      timings,
      async () => {
        try {
          const run = await kopilka.savings.payDueMonth("bench");
          if (!run.claimed) throw new Error("the month's savings run was already claimed");
          return { finished: true, accountsRead: read };
        } catch (error) {
          if (error instanceof SavingsBudgetSpent) return { finished: false, accountsRead: read };
          throw error;
        }
      },
      explainUrl,
    );
    onProgress(value.accountsRead);
    return { ...value, breakdown };
  } finally {
    delete store.accountsAfter;
  }
}

/**
 * The batch path without HTTP: OrderService.handleEvents on the next batches of the same stream, one
 * batch at a time, to show what a batch costs in statements, PostgreSQL time and JavaScript time.
 */
export async function profileBatches(
  kopilka: Kopilka,
  timings: SqlTimings,
  feed: OrderedFeed,
  batches: number,
  batchSize: number,
  onProgress: (done: number) => void,
  explainUrl?: string,
): Promise<{ events: number; applied: number; breakdown: Breakdown }> {
  let applied = 0;
  let sent = 0;
  const { breakdown } = await measured(
    timings,
    async () => {
      for (let b = 0; b < batches; b++) {
        const events = feed.take(batchSize);
        const outcomes = await kopilka.orders.handleEvents(events.map(incomingEventOf), "bench-profile");
        feed.done(events);
        sent += events.length;
        applied += outcomes.filter((o) => o.outcome.status === "applied").length;
        onProgress(b + 1);
      }
    },
    explainUrl,
  );
  return { events: sent, applied, breakdown };
}

/**
 * The read paths without HTTP: `count` balance reads (LedgerService.balance) and `count` checkout quotes
 * (OrderService.quote), one at a time, each with its statements timed — what one read costs.
 */
export async function profileReads(
  kopilka: Kopilka,
  timings: SqlTimings,
  workload: Workload,
  count: number,
  onProgress: (done: number, total: number) => void,
  explainUrl?: string,
): Promise<{ count: number; balance: Breakdown; quote: Breakdown }> {
  const rng = new Rng(hash32(workload.options.seed, 0x9ead));
  const customers = Array.from({ length: count }, () => workload.activeCustomer(rng).customerId);
  const balance = await measured(
    timings,
    async () => {
      for (const [i, customerId] of customers.entries()) {
        await kopilka.ledger.balance(customerId);
        onProgress(i + 1, 2 * count);
      }
    },
    explainUrl,
  );
  const carts = Array.from({ length: count }, (_, i) => workload.quoteRequest(1_000_000 + i));
  const quote = await measured(
    timings,
    async () => {
      for (const [i, cart] of carts.entries()) {
        await kopilka.orders.quote(cart);
        onProgress(count + i + 1, 2 * count);
      }
    },
    explainUrl,
  );
  return { count, balance: balance.breakdown, quote: quote.breakdown };
}
