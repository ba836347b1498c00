/**
 * Kopilka at marketplace scale: `npx tsx bench/run.ts [--quick] [--embedded] [--help]`.
 *
 * Against the PostgreSQL server of KOPILKA_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
 * it creates a fresh database, starts the service as its own process on it, drives its HTTP API with a
 * seeded marketplace workload, runs the expiry job in-process over 1,000,000 expired lots, measures the
 * ledger's size on disk and the service's peak memory, runs pgbench on the same server for reference,
 * then repeats a short run on the embedded PGlite database. It prints a markdown table and writes
 * everything to bench/results/<timestamp>.json. Only a broken run exits non-zero, never a slow one.
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Command, InvalidArgumentError } from "commander";
import { progressBar } from "../src/cli/progress.js";
import { monthContaining, previousMonth } from "../src/domain/savings/index.js";
import type { Kopilka } from "../src/main.js";
import { budgetsBurnt, publishBenchCampaigns } from "./campaigns.js";
import { ApiClient } from "./http.js";
import {
  checkExpiry,
  checkSavingsMonth,
  openInProcess,
  profileBatches,
  profileReads,
  runExpiry,
  runSavingsMonth,
} from "./in-process.js";
import { benchStream, deleteBenchStream, driveJetStream, natsAnswers } from "./jetstream.js";
import {
  type CpuShare,
  driveBalances,
  driveEvents,
  driveHolds,
  driveQuotes,
  type EventsResult,
  OrderedFeed,
  seed,
} from "./phases.js";
import {
  bytesPerMovement,
  createDatabase,
  dropDatabase,
  findPgbench,
  hottestNodes,
  jitSummary,
  ledgerSizes,
  movementBytes,
  orderLifecycleBytes,
  pgbenchReference,
  serverFacts,
  withClient,
} from "./postgres.js";
import { formatNumber, markdownTable, type Row } from "./report.js";
import { createOperatorKey, REPO_ROOT, type RunningService, startService } from "./service.js";
import { seedCredits, seedExpiredLots, seedSavingsAccounts } from "./sql-seed.js";
import { SqlTimings } from "./sql-timing.js";
import { round } from "./stats.js";
import { Workload } from "./workload.js";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";
const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Every knob, its full-run default and its --quick default. */
const KNOBS = {
  seed: { full: 42, quick: 42, help: "workload seed" },
  customers: { full: 20_000, quick: 2_000, help: "customers (each credited once before the run)" },
  zipf: { full: 0.9, quick: 0.9, help: "Zipf exponent of customer activity" },
  sellers: { full: 5_000, quick: 1_000, help: "sellers" },
  productsPerSeller: { full: 1_000, quick: 200, help: "products per seller" },
  seedConcurrency: { full: 16, quick: 16, help: "requests in flight while seeding credits" },
  seedHttp: {
    full: 1_000,
    quick: 300,
    help: "customers credited over HTTP (the rest set-based in SQL, PostgreSQL only)",
  },
  batchSize: { full: 500, quick: 500, help: "(a) events per batch request" },
  batchConcurrency: { full: 4, quick: 4, help: "(a) batch requests in flight" },
  batchSeconds: { full: 60, quick: 10, help: "(a) seconds" },
  natsEvents: {
    full: 200_000,
    quick: 30_000,
    help: "(a′) order events published to JetStream and applied by the service's consumer",
  },
  natsPartitions: { full: 8, quick: 8, help: "(a′) JetStream partitions" },
  singleConcurrency: { full: 64, quick: 64, help: "(b) single-event requests in flight" },
  singleSeconds: { full: 30, quick: 6, help: "(b) seconds" },
  quoteRate: { full: 2_000, quick: 2_000, help: "(c) offered quotes per second (open loop)" },
  quoteSeconds: { full: 20, quick: 5, help: "(c) seconds" },
  campaigns: {
    full: 50,
    quick: 50,
    help: "(a″, c″) R26 campaigns in force for the campaign phases (0 skips them)",
  },
  budgetedCampaigns: { full: 10, quick: 10, help: "(a″, c″) of those, campaigns with a budget" },
  campaignSeconds: { full: 30, quick: 6, help: "(a″) seconds of batch events with the campaigns" },
  holdRate: { full: 500, quick: 500, help: "(d) offered hold create+release pairs per second (open loop)" },
  holdSeconds: { full: 15, quick: 4, help: "(d) hold seconds" },
  balanceRate: { full: 5_000, quick: 5_000, help: "(d) offered balance reads per second (open loop)" },
  balanceSeconds: { full: 20, quick: 5, help: "(d) balance seconds" },
  maxInFlight: { full: 512, quick: 128, help: "open loop: most requests waiting at once" },
  poolSize: {
    full: 10,
    quick: 10,
    help: "KOPILKA_DB_POOL_SIZE of the service (and of the in-process phases)",
  },
  profileBatches: {
    full: 4,
    quick: 2,
    help: "in-process profile: batches through OrderService.handleEvents",
  },
  profileReads: {
    full: 300,
    quick: 100,
    help: "in-process profile: balance reads and quotes, one at a time, each",
  },
  expiryLots: { full: 1_000_000, quick: 100_000, help: "(e) expired lots to write off" },
  lotsPerCustomer: { full: 10, quick: 10, help: "(e) expired lots per customer" },
  expiryBudget: { full: 120, quick: 60, help: "(e) seconds the expiry run may take before it is cut short" },
  savingsAccounts: {
    full: 1_000_000,
    quick: 100_000,
    help: "(i) savings accounts whose month the R25 run pays",
  },
  savingsBudget: {
    full: 900,
    quick: 120,
    help: "(i) seconds the savings month run may take before it is cut short",
  },
  pgbenchScale: { full: 10, quick: 10, help: "(h) pgbench -i -s" },
  pgbenchSeconds: { full: 20, quick: 5, help: "(h) pgbench -T" },
  pgbenchClients: { full: 8, quick: 8, help: "(h) pgbench -c" },
  pgbenchThreads: { full: 2, quick: 2, help: "(h) pgbench -j" },
  embeddedCustomers: { full: 2_000, quick: 200, help: "PGlite run: customers" },
  embeddedSeconds: { full: 10, quick: 4, help: "PGlite run: seconds per phase" },
} as const;

type Knob = keyof typeof KNOBS;
type Settings = Record<Knob, number> & {
  quick: boolean;
  url: string;
  postgres: boolean;
  embedded: boolean;
  pgbench: boolean;
  expiry: boolean;
  savings: boolean;
  /** (a′): the NATS server, or undefined to skip the JetStream phase. */
  natsUrl: string | undefined;
  keepDb: boolean;
  resultsDir: string;
};

function parseSettings(argv: string[]): Settings {
  const program = new Command()
    .name("npm run bench --")
    .description("Kopilka benchmarks: the service over HTTP on PostgreSQL (and briefly on PGlite)")
    .option("--quick", "about 1-2 minutes: small sizes, short phases")
    .option("--url <url>", `PostgreSQL server (default: KOPILKA_DATABASE_URL or ${DEFAULT_URL})`)
    .option("--embedded", "run on the embedded PGlite database only (full-length phases)")
    .option("--no-embedded-phase", "skip the short PGlite run after the PostgreSQL one")
    .option("--no-pgbench", "skip the pgbench reference")
    .option("--no-expiry", "skip (e), the 1M-lot expiry")
    .option("--no-savings", "skip (i), the 1M-account savings month")
    .option(
      "--nats-url <url>",
      `(a′) NATS server with JetStream (default: KOPILKA_NATS_URL or ${DEFAULT_NATS_URL})`,
    )
    .option("--no-nats", "skip (a′), order events through JetStream")
    .option("--keep-db", "keep the benchmark database (its name is printed)")
    .option("--results-dir <dir>", "where the JSON goes", join(REPO_ROOT, "bench", "results"));
  for (const [name, knob] of Object.entries(KNOBS)) {
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    program.option(
      `--${flag} <n>`,
      `${knob.help} (default ${knob.full}, --quick ${knob.quick})`,
      (raw: string) => {
        const value = Number(raw);
        if (!Number.isFinite(value) || value < 0)
          throw new InvalidArgumentError(`--${flag} must be a number ≥ 0`);
        return value;
      },
    );
  }
  program.parse(argv);
  const o = program.opts<Record<string, unknown>>();
  const quick = o.quick === true;
  const knobs = Object.fromEntries(
    Object.entries(KNOBS).map(([name, knob]) => [
      name,
      (o[name] as number | undefined) ?? (quick ? knob.quick : knob.full),
    ]),
  ) as Record<Knob, number>;
  const embeddedOnly = o.embedded === true;
  return {
    ...knobs,
    quick,
    url: (o.url as string | undefined) ?? (process.env.KOPILKA_DATABASE_URL || DEFAULT_URL),
    postgres: !embeddedOnly,
    embedded: embeddedOnly || o.embeddedPhase !== false,
    pgbench: !embeddedOnly && o.pgbench !== false,
    expiry: !embeddedOnly && o.expiry !== false,
    savings: !embeddedOnly && o.savings !== false,
    natsUrl:
      !embeddedOnly && o.nats !== false
        ? ((o.natsUrl as string | undefined) ?? (process.env.KOPILKA_NATS_URL || DEFAULT_NATS_URL))
        : undefined,
    keepDb: o.keepDb === true,
    resultsDir: o.resultsDir as string,
  };
}

function machineFacts() {
  const cpu = cpus();
  return {
    nproc: cpu.length,
    cpuModel: cpu[0]?.model ?? "",
    memoryBytes: totalmem(),
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Which code was measured: the commit and whether src/ had uncommitted changes (read-only git). */
function sourceState() {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, {
        cwd: REPO_ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return "";
    }
  };
  const changed = git("status", "--porcelain", "--", "src").split("\n").filter(Boolean);
  return { commit: git("rev-parse", "HEAD"), uncommittedSrcFiles: changed.length, changed };
}

function serviceEnv(extra: NodeJS.ProcessEnv, poolSize: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KOPILKA_LOG_LEVEL: "warn",
    KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
    KOPILKA_DB_POOL_SIZE: String(poolSize),
    KOPILKA_JWT_SECRET: randomBytes(24).toString("hex"),
    ...extra,
  };
}

function log(line: string) {
  process.stderr.write(`${line}\n`);
}

/** The order_events rows by status: the count of applied events after parked ones were drained. */
async function eventStatuses(url: string): Promise<Record<string, number>> {
  return withClient(url, async (c) => {
    const rows = await c.query<{ status: string; n: string }>(
      "select status, count(*) as n from order_events group by status",
    );
    return Object.fromEntries(rows.rows.map((r) => [r.status, Number(r.n)]));
  });
}

/** Cleanups run last-in first-out, on success, failure or Ctrl-C. */
const cleanups: { name: string; run: () => Promise<void> }[] = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    const c = cleanups.pop();
    if (!c) break;
    try {
      await c.run();
    } catch (error) {
      log(`cleanup "${c.name}" failed: ${(error as Error).message}`);
    }
  }
}

function stopOnExit(service: RunningService): { stop: () => Promise<void> } {
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await service.stop();
  };
  cleanups.push({ name: "stop the service", run: stop });
  return { stop };
}

const MB = 1024;

/** What the run reports, filled in as each part finishes (a part that breaks does not lose the others). */
interface Report {
  results: Record<string, unknown>;
  rows: Row[];
  sections: string[];
  cpuRows: [string, CpuShare, number][];
  failures: string[];
}

/** Runs one part; if it breaks, says so, records it (the run will exit 1) and lets the next part run. */
async function part(report: Report, name: string, work: () => Promise<void>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    log(`\n${name} broke: ${message}`);
    report.failures.push(`${name}: ${message}`);
    return false;
  }
}

/** "; 181 answered 503" when requests did not get the answer the phase expects (a restart, overload…). */
function failed(counts: Record<string, number>, ok: (status: string) => boolean = () => false): string {
  const bad = Object.entries(counts).filter(([status]) => !ok(status));
  if (bad.length === 0) return "";
  return `; not OK: ${bad.map(([status, n]) => `${formatNumber(n)} × ${status}`).join(", ")}`;
}

/** Events not applied: parked (waiting for an earlier event that never came) or refused. */
function statusNote(r: { parked: number; refused: number; refusalCodes: Record<string, number> }): string {
  const parts = [];
  if (r.parked > 0) parts.push(`${formatNumber(r.parked)} parked`);
  if (r.refused > 0)
    parts.push(`${formatNumber(r.refused)} refused (${Object.keys(r.refusalCodes).join(", ")})`);
  return parts.join(", ");
}

/**
 * A latency p99 against its target, stated at an offered rate: met when the p99 is within it, the phase
 * offered at least that rate, and every request offered was sent and answered 2xx ("all served").
 */
function p99Row(
  metric: string,
  p: {
    latency: { p99: number };
    targetPerSecond: number;
    ok: number;
    offered: number;
    serviceLatency?: { p99: number };
  },
  target: { p99Ms: number; perSecond: number; unit?: string },
  from = "from the request's due time",
): Row {
  return {
    metric,
    value: p.latency.p99,
    unit: "ms",
    target: `≤ ${formatNumber(target.p99Ms, 0)} at ${formatNumber(target.perSecond, 0)}${target.unit ?? "/s"}, all served`,
    met: p.latency.p99 <= target.p99Ms && p.targetPerSecond >= target.perSecond && p.ok >= p.offered,
    reference:
      from +
      (p.serviceLatency ? `; from its sending: ${formatNumber(p.serviceLatency.p99)} ms` : "") +
      `; ${formatNumber(p.ok)} of ${formatNumber(p.offered)} served`,
  };
}

/** The service's peak resident set against its ceiling. */
function memoryNow(service: { rssKb(): number; peakRssKb(): number }) {
  return { rssMiB: round(service.rssKb() / MB, 1), peakMiB: round(service.peakRssKb() / MB, 1) };
}

function peakRssRow(metric: string, peakRssKb: number, ceilingMiB: number): Row {
  const mib = round(peakRssKb / MB, 1);
  return { metric, value: mib, unit: "MiB", target: `≤ ${ceilingMiB}`, met: mib <= ceilingMiB };
}

/** Appends to a row's reference. */
function addNote(row: Row, note: string) {
  row.reference = row.reference ? `${row.reference}; ${note}` : note;
}

function latencyPair(l: { p50: number; p99: number }) {
  return `${formatNumber(l.p50)} / ${formatNumber(l.p99)}`;
}

/** An event phase's applied rate against its target, which may ask for a multiple of pgbench's INSERT tps. */
interface EventTarget {
  /** The phase's results; `ratioToPgbenchInsert` is added once pgbench has run. */
  result: EventsResult & { ratioToPgbenchInsert?: number };
  row: Row;
  /** Applied events per second. */
  minimum: number;
  /** Applied events per second as a multiple of pgbench's one-INSERT-per-commit tps on the same server. */
  minimumRatio?: number;
}

/** Met, not met, or (when the target names pgbench and it has not run) not known. */
function eventTargetMet(t: EventTarget, insertTps: number | undefined): boolean | undefined {
  const applied = t.result.appliedPerSecond;
  if (!(applied >= t.minimum)) return false;
  if (t.minimumRatio === undefined) return true;
  if (insertTps === undefined || !(insertTps > 0)) return undefined;
  return applied / insertTps >= t.minimumRatio;
}

/**
 * The rows of an order-event phase: accepted (HTTP 200), applied against its target, and the latency of
 * one request (a batch in (a), one event in (b)).
 */
function eventRows(
  name: string,
  detail: string,
  r: EventsResult,
  perRequest: string,
  target: { minimum: number; minimumRatio?: number },
): { rows: Row[]; target: EventTarget } {
  const applied: Row = {
    metric: `${name}: applied`,
    value: r.appliedPerSecond,
    unit: "events/s",
    target:
      `≥ ${formatNumber(target.minimum, 0)}` +
      (target.minimumRatio === undefined ? "" : ` and ≥ ${target.minimumRatio}× pgbench single-INSERT tps`),
    reference: statusNote(r),
  };
  const t: EventTarget = { result: r, row: applied, ...target };
  applied.met = eventTargetMet(t, undefined);
  return {
    target: t,
    rows: [
      {
        metric: `${name}${detail} (${r.concurrency} in flight): accepted (HTTP 200)`,
        value: r.acceptedPerSecond,
        unit: "events/s",
        reference: `${formatNumber(r.requests, 0)} requests${failed(r.httpStatuses, (st) => st === "200")}`,
      },
      applied,
      {
        metric: `${name}: latency p50 / p99 per ${perRequest}`,
        value: latencyPair(r.latency),
        unit: "ms",
        reference: `from sending to the answer; mean ${formatNumber(r.latency.mean)} ms, max ${formatNumber(r.latency.max)} ms`,
      },
    ],
  };
}

/** Adds to each event target its ratio to pgbench's single-INSERT tps, in the results and the table. */
function compareToPgbench(
  targets: EventTarget[],
  pgbench: { insert: { tps: number }; tpcb: { tps: number } },
) {
  for (const t of targets) {
    const ratio = t.result.appliedPerSecond / pgbench.insert.tps;
    t.result.ratioToPgbenchInsert = round(ratio, 3);
    t.row.met = eventTargetMet(t, pgbench.insert.tps);
    addNote(
      t.row,
      `${formatNumber(ratio, 2)}× pgbench single-INSERT tps (pgbench on this server, same run: ${formatNumber(pgbench.insert.tps)} one-INSERT commits/s, ${formatNumber(pgbench.tpcb.tps)} TPC-B tps)`,
    );
  }
}

async function postgresRun(s: Settings, report: Report) {
  const { results, rows, sections, cpuRows } = report;
  const facts = await serverFacts(s.url);
  results.postgres = facts;
  const dbName = `kopilka_bench_${randomBytes(4).toString("hex")}`;
  const url = await createDatabase(s.url, dbName);
  log(`database ${dbName} on ${new URL(s.url).host} (PostgreSQL ${facts.serverVersion})`);
  cleanups.push({
    name: `drop ${dbName}`,
    run: async () => {
      if (s.keepDb) log(`kept database ${dbName}`);
      else await dropDatabase(s.url, dbName);
    },
  });
  // (a′): the service consumes a stream of this run's own, created at its start and deleted at the end.
  const natsUrl = s.natsUrl && (await natsAnswers(s.natsUrl)) ? s.natsUrl : undefined;
  if (s.natsUrl && !natsUrl) log(`no NATS server answers at ${s.natsUrl}: (a′) is skipped`);
  const natsStream = natsUrl ? benchStream(natsUrl, s.natsPartitions, s.batchSize) : undefined;
  if (natsUrl && natsStream) {
    cleanups.push({
      name: `delete the JetStream stream ${natsStream.stream}`,
      run: () => deleteBenchStream(natsUrl, natsStream),
    });
  }
  const env = serviceEnv({ KOPILKA_DATABASE_URL: url, ...natsStream?.env }, s.poolSize);
  const key = await createOperatorKey(env);
  const logPath = join(tmpdir(), `${dbName}.service.log`);
  const service = await startService(env, logPath);
  const { stop } = stopOnExit(service);
  log(`service pid ${service.pid} on ${service.base} (log: ${logPath})`);
  const api = new ApiClient(service.base, key);
  // About one window of requests in flight between an order's events, once the stream is steady.
  const lagOrders = Math.ceil((s.batchSize * s.batchConcurrency) / 4);
  const workload = new Workload({
    seed: s.seed,
    customers: s.customers,
    zipf: s.zipf,
    sellers: s.sellers,
    productsPerSeller: s.productsPerSeller,
    lagOrders,
    expectedOrders: Math.max(20_000, s.batchSeconds * 5_000),
    epoch: new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000),
  });
  const feed = new OrderedFeed(workload);
  /** The event phases, compared with pgbench once it has run. */
  const eventTargets: EventTarget[] = [];

  // Where the service's resident memory grows: its size now and its peak so far, after each phase.
  const memoryAfter: Record<string, { rssMiB: number; peakMiB: number }> = {
    started: memoryNow(service),
  };
  results.serviceMemoryByPhase = memoryAfter;
  await part(report, "the HTTP phases", async () => {
    const seeded = await seed({
      api,
      workload,
      concurrency: s.seedConcurrency,
      withSellerPoints: true,
      httpCustomers: s.seedHttp,
      sqlSeed: (credits) => seedCredits(url, credits),
    });
    service.assertAlive("seeding");
    results.seed = seeded;
    memoryAfter.seed = memoryNow(service);
    rows.push({
      metric: `Seed: credits, one per request (${formatNumber(seeded.httpCustomers)} customers, ${s.seedConcurrency} in flight)`,
      value: seeded.creditsPerSecond,
      unit: "credits/s",
      reference: `p50 / p99 ${latencyPair(seeded.latency)} ms`,
    });

    const batch = await driveEvents({
      api,
      feed,
      service,
      eventsPerRequest: s.batchSize,
      concurrency: s.batchConcurrency,
      seconds: s.batchSeconds,
      label: "(a) order events, batches",
    });
    cpuRows.push(["(a) batch events", batch.cpu, batch.seconds]);
    service.assertAlive("(a) batch events");
    results.batch = batch;
    memoryAfter.batch = memoryNow(service);
    const a = eventRows("(a) Order events, batches", ` of ${s.batchSize}`, batch, "batch request", {
      minimum: 30_000,
      minimumRatio: 2,
    });
    rows.push(...a.rows);
    eventTargets.push(a.target);

    if (natsUrl && natsStream) {
      const viaJetStream = await driveJetStream({
        natsUrl,
        stream: natsStream,
        feed,
        events: s.natsEvents,
        service,
        statuses: () => eventStatuses(url),
        label: "(a′) order events through JetStream",
      });
      cpuRows.push(["(a′) JetStream events", viaJetStream.cpu, viaJetStream.seconds]);
      service.assertAlive("(a′) JetStream events");
      results.jetstream = viaJetStream;
      memoryAfter.jetstream = memoryNow(service);
      const notApplied = statusNote({ ...viaJetStream, refusalCodes: {} });
      rows.push({
        metric: `(a′) Order events through JetStream (${viaJetStream.partitions} partitions, batches of ≤ ${s.batchSize}): applied`,
        value: viaJetStream.appliedPerSecond,
        unit: "events/s",
        reference:
          `${formatNumber(viaJetStream.events, 0)} events published at ${formatNumber(viaJetStream.publishedPerSecond, 0)}/s; ` +
          `from the first publish to the last ack, ${formatNumber(viaJetStream.seconds)} s` +
          (notApplied ? `; ${notApplied}` : ""),
      });
    }

    const single = await driveEvents({
      api,
      feed,
      service,
      eventsPerRequest: 1,
      concurrency: s.singleConcurrency,
      seconds: s.singleSeconds,
      label: "(b) order events, one a request",
    });
    cpuRows.push(["(b) single events", single.cpu, single.seconds]);
    service.assertAlive("(b) single events");
    results.single = single;
    memoryAfter.single = memoryNow(service);
    const b = eventRows("(b) Order events, one per request", "", single, "request", { minimum: 5_000 });
    rows.push(...b.rows);
    eventTargets.push(b.target);

    const open = { api, workload, service, maxInFlight: s.maxInFlight };
    const quotes = await driveQuotes({
      ...open,
      rate: s.quoteRate,
      seconds: s.quoteSeconds,
      label: `(c) quotes at ${s.quoteRate}/s`,
    });
    cpuRows.push(["(c) quotes", quotes.cpu, quotes.seconds]);
    service.assertAlive("(c) quotes");
    results.quotes = quotes;
    memoryAfter.quotes = memoryNow(service);
    rows.push(
      {
        metric: `(c) Quotes: achieved at ${formatNumber(s.quoteRate)}/s offered`,
        value: quotes.achievedPerSecond,
        unit: "quotes/s",
        reference:
          (quotes.notSent > 0 ? `${formatNumber(quotes.notSent)} not sent: the service fell behind` : "") +
          failed(quotes.failures),
      },
      { metric: "(c) Quote latency p50", value: quotes.latency.p50, unit: "ms" },
      p99Row("(c) Quote latency p99", quotes, { p99Ms: 5, perSecond: 2_000 }),
      { metric: "(c) Quote latency p999", value: quotes.latency.p999, unit: "ms" },
    );

    if (s.campaigns > 0) {
      // R26: the same streams with campaigns in force — their cost is the difference to (a) and (c).
      const campaignIds = await publishBenchCampaigns(api, s.campaigns, s.budgetedCampaigns);
      // Orders placed from now on: the campaigns apply to orders placed after they were published.
      workload.placeFrom(new Date(Date.now() + 1_000));
      const withCampaigns = `${formatNumber(s.campaigns)} campaigns in force, ${formatNumber(s.budgetedCampaigns)} with budgets`;
      const campaignBatch = await driveEvents({
        api,
        feed,
        service,
        eventsPerRequest: s.batchSize,
        concurrency: s.batchConcurrency,
        seconds: s.campaignSeconds,
        label: "(a″) order events, batches, with campaigns",
      });
      cpuRows.push(["(a″) batch events, campaigns", campaignBatch.cpu, campaignBatch.seconds]);
      service.assertAlive("(a″) batch events with campaigns");
      const burnt = await budgetsBurnt(api, campaignIds);
      results.campaigns = {
        count: s.campaigns,
        budgeted: s.budgetedCampaigns,
        batch: campaignBatch,
        budgets: burnt,
      };
      memoryAfter.campaignBatch = memoryNow(service);
      const ratio = batch.appliedPerSecond > 0 ? campaignBatch.appliedPerSecond / batch.appliedPerSecond : 0;
      const a2 = eventRows(
        `(a″) Order events, batches (${withCampaigns})`,
        ` of ${s.batchSize}`,
        campaignBatch,
        "batch request",
        {
          minimum: 30_000,
          minimumRatio: 2,
        },
      );
      rows.push(...a2.rows);
      eventTargets.push(a2.target);
      rows.push({
        metric: "(a″) Campaigns' cost on the event path: applied events/s with them ÷ without them (a)",
        value: round(ratio, 2),
        unit: "×",
        reference: `budgets: ${formatNumber(burnt.reserved)} points reserved, ${formatNumber(burnt.exhausted)} of ${formatNumber(s.budgetedCampaigns)} used up`,
      });
      const campaignQuotes = await driveQuotes({
        ...open,
        rate: s.quoteRate,
        seconds: s.quoteSeconds,
        label: `(c″) quotes at ${s.quoteRate}/s, with campaigns`,
      });
      cpuRows.push(["(c″) quotes, campaigns", campaignQuotes.cpu, campaignQuotes.seconds]);
      service.assertAlive("(c″) quotes with campaigns");
      results.campaignQuotes = campaignQuotes;
      rows.push(
        {
          metric: `(c″) Quotes (${withCampaigns}): achieved at ${formatNumber(s.quoteRate)}/s offered`,
          value: campaignQuotes.achievedPerSecond,
          unit: "quotes/s",
          reference:
            `${formatNumber(quotes.achievedPerSecond > 0 ? campaignQuotes.achievedPerSecond / quotes.achievedPerSecond : 0, 2)}× the rate without them (c)` +
            failed(campaignQuotes.failures),
        },
        p99Row(`(c″) Quote latency p99 (${withCampaigns})`, campaignQuotes, { p99Ms: 5, perSecond: 2_000 }),
      );
    }

    const holds = await driveHolds({
      ...open,
      rate: s.holdRate,
      seconds: s.holdSeconds,
      label: `(d) holds at ${s.holdRate}/s`,
    });
    cpuRows.push(["(d) holds", holds.cpu, holds.seconds]);
    service.assertAlive("(d) holds");
    results.holds = holds;
    memoryAfter.holds = memoryNow(service);
    rows.push(
      {
        metric: `(d) Hold create + release: achieved at ${formatNumber(s.holdRate)} pairs/s offered`,
        value: holds.achievedPairsPerSecond,
        unit: "pairs/s",
        reference: failed(holds.failures).replace(/^; /, ""),
      },
      { metric: "(d) Hold create latency p50 / p99", value: latencyPair(holds.create), unit: "ms" },
      { metric: "(d) Hold release latency p50 / p99", value: latencyPair(holds.release), unit: "ms" },
      p99Row(
        "(d) Hold create + release pair latency p99",
        {
          latency: holds.pair,
          targetPerSecond: holds.targetPairsPerSecond,
          ok: holds.pairs,
          offered: holds.offered,
        },
        { p99Ms: 10, perSecond: 500, unit: " pairs/s" },
        `from the create's due time to the release's answer; p50 ${formatNumber(holds.pair.p50)} ms`,
      ),
    );

    const balances = await driveBalances({
      ...open,
      rate: s.balanceRate,
      seconds: s.balanceSeconds,
      label: `(d) balance reads at ${s.balanceRate}/s`,
    });
    cpuRows.push(["(d) balance reads", balances.cpu, balances.seconds]);
    service.assertAlive("(d) balance reads");
    results.balances = balances;
    memoryAfter.balances = memoryNow(service);
    rows.push(
      {
        metric: `(d) Balance reads: achieved at ${formatNumber(s.balanceRate)}/s offered`,
        value: balances.achievedPerSecond,
        unit: "reads/s",
        reference:
          (balances.notSent > 0
            ? `${formatNumber(balances.notSent)} not sent: the service fell behind`
            : "") + failed(balances.failures),
      },
      { metric: "(d) Balance read latency p50", value: balances.latency.p50, unit: "ms" },
      p99Row("(d) Balance read latency p99", balances, { p99Ms: 2, perSecond: 5_000 }),
    );
    results.workload = workload.counts;
  });

  const peakRssKb = service.peakRssKb();
  await stop();
  results.serviceMemory = { peakRssKb, peakRssMiB: round(peakRssKb / MB, 1) };

  await part(report, "(f) ledger size", async () => {
    results.orderEventsInDatabase = await eventStatuses(url);
    const sizes = await ledgerSizes(url);
    const perMovement = bytesPerMovement(sizes);
    const m = await movementBytes(url);
    const lifecycle = await orderLifecycleBytes(url);
    results.ledgerSize = {
      tables: sizes,
      bytesPerMovement: perMovement,
      bytesPerOrderLifecycle: lifecycle,
      movement: m,
    };
    rows.push(
      {
        metric: "(f) Bytes per movement: movements + indexes",
        value: perMovement.movementsOnly,
        unit: "bytes",
        target: "≤ 400",
        met: perMovement.movementsOnly <= 400,
        reference: `${formatNumber(perMovement.movements)} movements written by the HTTP phases`,
      },
      {
        metric: "(f) Bytes per movement: + lots, holds, redemptions",
        value: perMovement.withLotsHoldsRedemptions,
        unit: "bytes",
      },
      {
        metric: "(f) Bytes per completed order lifecycle: order and ledger tables + indexes + TOAST",
        value: lifecycle.bytes,
        unit: "bytes",
        target: "≤ 2,000",
        met: lifecycle.bytes <= 2_000,
        reference:
          `${formatNumber(lifecycle.totalBytes / 2 ** 20, 1)} MiB in ${Object.keys(lifecycle.tables).join(", ")} / ` +
          `${formatNumber(lifecycle.completedOrders)} orders delivered, returned or cancelled ` +
          `(of ${formatNumber(lifecycle.orders)}; the seed's credits counted too)`,
      },
    );
    const byTable = Object.values(lifecycle.tables)
      .sort((x, y) => y.totalBytes - x.totalBytes)
      .map((t) => `${t.table} ${formatNumber(t.bytesPerCompletedOrder, 1)} (${formatNumber(t.rows)} rows)`)
      .join(", ");
    const columns = Object.entries(m.averageColumnBytes)
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => `${name} ${formatNumber(bytes, 1)}`)
      .join(", ");
    sections.push(
      `Bytes of one movement (${formatNumber(m.rows)} from the HTTP phases): heap ${formatNumber(m.heapBytesPerMovement, 1)}, ` +
        `TOAST ${formatNumber(m.toastBytesPerMovement, 1)}, indexes ${Object.entries(m.indexBytesPerMovement)
          .map(([name, bytes]) => `${name} ${formatNumber(bytes, 1)}`)
          .join(", ")}; the stored row averages ${formatNumber(m.averageRowBytes, 1)} bytes: ${columns}`,
      `Bytes per completed order lifecycle by table (${formatNumber(lifecycle.completedOrders)} completed orders): ${byTable}`,
    );
  });
  const rssRow = peakRssRow("(g) Service peak RSS (VmHWM)", peakRssKb, 300);
  addNote(
    rssRow,
    `RSS / peak after each phase, MiB: ${Object.entries(memoryAfter)
      .map(([phase, m]) => `${phase} ${formatNumber(m.rssMiB)} / ${formatNumber(m.peakMiB)}`)
      .join(", ")}`,
  );
  rows.push(rssRow);

  // In-process: the batch path split into SQL and JavaScript, then the expiry job.
  const timings = new SqlTimings();
  const kopilka: Kopilka = await openInProcess(url, s.poolSize, timings);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await kopilka.close();
  };
  cleanups.push({ name: "close the in-process Kopilka", run: close });

  if (s.profileBatches > 0) {
    await part(report, "the in-process batch profile", async () => {
      const bar = progressBar("in-process batch profile");
      const p = await profileBatches(
        kopilka,
        timings,
        feed,
        s.profileBatches,
        s.batchSize,
        (d) => bar(d, s.profileBatches),
        url,
      );
      results.batchProfile = p;
      const b = p.breakdown;
      sections.push(
        `In-process batch profile (OrderService.handleEvents, ${formatNumber(p.events)} events in ${s.profileBatches} batches, ${formatNumber(p.applied)} applied): ` +
          `${formatNumber(p.events / b.wallSeconds)} events/s one batch at a time; per event ${formatNumber((b.nodeCpuSeconds * 1000) / p.events, 3)} ms Node CPU, ` +
          `${formatNumber((b.postgresBackendCpuSeconds * 1000) / p.events, 3)} ms PostgreSQL CPU (this database's backends); ${formatNumber(b.statements / s.profileBatches, 1)} statements a batch, ` +
          `${formatNumber(b.sqlSeconds, 2)} s of the ${formatNumber(b.wallSeconds, 2)} s waiting on them`,
        statementsTable(
          "Statements of the batch path (in-process profile):",
          b,
          s.profileBatches,
          `batch of ${s.batchSize}`,
        ),
        plansText(b),
      );
    });
  }

  if (s.profileReads > 0) {
    await part(report, "the in-process read profile", async () => {
      const bar = progressBar("in-process read profile");
      const p = await profileReads(kopilka, timings, workload, s.profileReads, bar, url);
      results.readProfile = p;
      for (const [name, b] of [
        ["balance read (LedgerService.balance)", p.balance],
        ["quote (OrderService.quote)", p.quote],
      ] as const) {
        sections.push(
          `In-process ${name}, ${p.count} one at a time: ${formatNumber((b.wallSeconds * 1000) / p.count, 3)} ms each; ` +
            `${formatNumber((b.nodeCpuSeconds * 1000) / p.count, 3)} ms Node CPU, ${formatNumber((b.postgresBackendCpuSeconds * 1000) / p.count, 3)} ms PostgreSQL CPU ` +
            `(this database's backends), ${formatNumber(b.statements / p.count, 1)} statements and ${formatNumber((b.sqlSeconds * 1000) / p.count, 3)} ms waiting on them, each`,
          statementsTable(`Statements of the ${name}:`, b, p.count, "read"),
          plansText(b),
        );
      }
    });
  }

  if (s.expiry && s.expiryLots > 0) {
    await part(report, "(e) expiry", async () => {
      const customers = Math.ceil(s.expiryLots / s.lotsPerCustomer);
      log(
        `(e) writing ${s.expiryLots.toLocaleString("en-US")} expired lots for ${customers.toLocaleString("en-US")} customers…`,
      );
      const seeded = await seedExpiredLots(url, s.expiryLots, s.lotsPerCustomer);
      const bar = progressBar("(e) expiry: customers settled");
      const run = await runExpiry(
        kopilka,
        timings,
        s.expiryBudget,
        (n) => bar(Math.min(n, customers), customers),
        url,
      );
      if (!run.finished) log(`(e) cut short after ${s.expiryBudget} s (--expiry-budget)`);
      const check = await checkExpiry(url);
      const b = run.breakdown;
      const seconds = b.wallSeconds;
      const expiredLots = check.expireMovements;
      const projected = expiredLots > 0 ? (seconds * s.expiryLots) / expiredLots : Number.NaN;
      results.expiry = {
        lots: s.expiryLots,
        customers,
        seedSeconds: round(seeded.seconds, 1),
        seedSteps: seeded.steps,
        finished: run.finished,
        seconds: round(seconds, 2),
        customersSettled: run.customersSettled,
        customersPerSecond: round(run.customersSettled / seconds, 1),
        lotsExpired: expiredLots,
        lotsPerSecond: round(expiredLots / seconds, 1),
        /** When cut short: the time all the lots would take at the rate reached. */
        projectedSecondsForAllLots: round(projected, 1),
        check,
        breakdown: b,
      };
      results.ledgerSizeAfterExpiry = { bytesPerMovement: bytesPerMovement(await ledgerSizes(url)) };
      const value = run.finished ? seconds : projected;
      const per1M = (value * 1_000_000) / s.expiryLots;
      rows.push({
        metric: `(e) Expiry of ${formatNumber(s.expiryLots)} lots (${formatNumber(customers)} customers)${run.finished ? "" : ", projected"}`,
        value,
        unit: "s",
        target: s.expiryLots === 1_000_000 ? "≤ 10" : "≤ 10 for 1M",
        met: run.finished ? per1M <= 10 : false,
        reference:
          `${formatNumber(expiredLots / seconds)} lots/s, ${formatNumber(run.customersSettled / seconds)} customers/s` +
          (run.finished ? "" : `; cut at ${s.expiryBudget} s after ${formatNumber(expiredLots)} lots`) +
          (check.openExpiredLots + check.postingMismatches > 0 && run.finished
            ? `; CHECK FAILED: ${JSON.stringify(check)}`
            : ""),
      });
      const settled = Math.max(1, run.customersSettled);
      sections.push(
        `Expiry run: ${formatNumber(seconds, 1)} s wall, ${formatNumber(b.sqlSeconds, 1)} s waiting on ${formatNumber(b.statements)} statements ` +
          `(${formatNumber((b.statements / settled) * 1000, 1)} per 1,000 customers), ${formatNumber(b.nodeCpuSeconds, 1)} s Node CPU, ` +
          `${formatNumber(b.postgresBackendCpuSeconds, 1)} s PostgreSQL CPU (this database's backends); ${formatNumber((seconds * 1000) / settled, 3)} ms a customer`,
        statementsTable("Statements of the expiry run:", b, settled / 1000, "1,000 customers"),
        plansText(b),
      );
    });
  }
  if (s.savings && s.savingsAccounts > 0) {
    await part(report, "(i) savings month", async () => {
      const accounts = s.savingsAccounts;
      log(`(i) writing ${accounts.toLocaleString("en-US")} savings accounts…`);
      const seeded = await seedSavingsAccounts(url, accounts);
      const bar = progressBar("(i) savings month: accounts paid");
      const run = await runSavingsMonth(
        kopilka,
        timings,
        s.savingsBudget,
        (n) => bar(Math.min(n, accounts), accounts),
        url,
      );
      if (!run.finished) log(`(i) cut short after ${s.savingsBudget} s (--savings-budget)`);
      const month = previousMonth(monthContaining(new Date(), kopilka.config.timeZone).month);
      const check = await checkSavingsMonth(url, month);
      const b = run.breakdown;
      const seconds = b.wallSeconds;
      const paid = Math.max(1, check.monthsPaid);
      const projected = (seconds * accounts) / paid;
      results.savingsMonth = {
        accounts,
        month,
        seedSeconds: round(seeded.seconds, 1),
        seedSteps: seeded.steps,
        finished: run.finished,
        seconds: round(seconds, 2),
        accountsPerSecond: round(check.monthsPaid / seconds, 1),
        projectedSecondsForAllAccounts: round(projected, 1),
        check,
        breakdown: b,
      };
      const value = run.finished ? seconds : projected;
      const per1M = (value * 1_000_000) / accounts;
      const wrong =
        run.finished &&
        (check.monthsPaid !== accounts ||
          check.points !== accounts * 500 ||
          check.savingsAvailable !== check.points);
      rows.push({
        metric: `(i) Savings month of ${formatNumber(accounts)} accounts (R25)${run.finished ? "" : ", projected"}`,
        value,
        unit: "s",
        target: accounts === 1_000_000 ? "≤ 60" : "≤ 60 for 1M",
        met: run.finished ? per1M <= 60 && !wrong : false,
        reference:
          `${formatNumber(check.monthsPaid / seconds)} accounts/s` +
          (run.finished
            ? ""
            : `; cut at ${s.savingsBudget} s after ${formatNumber(check.monthsPaid)} accounts`) +
          (wrong ? `; CHECK FAILED: ${JSON.stringify(check)}` : ""),
      });
      sections.push(
        `Savings month run: ${formatNumber(seconds, 1)} s wall, ${formatNumber(b.sqlSeconds, 1)} s waiting on ${formatNumber(b.statements)} statements ` +
          `(${formatNumber((b.statements / paid) * 1000, 1)} per 1,000 accounts), ${formatNumber(b.nodeCpuSeconds, 1)} s Node CPU, ` +
          `${formatNumber(b.postgresBackendCpuSeconds, 1)} s PostgreSQL CPU (this database's backends); ${formatNumber((seconds * 1000) / paid, 3)} ms an account`,
        statementsTable("Statements of the savings month run:", b, paid / 1000, "1,000 accounts"),
        plansText(b),
      );
    });
  }
  await close();

  if (s.pgbench) {
    await part(report, "(h) pgbench", async () => {
      const bin = findPgbench();
      if (!bin) {
        log("pgbench not found: the reference is skipped");
        results.pgbench = { skipped: "pgbench not found" };
        return;
      }
      const scratch = `kopilka_pgbench_${randomBytes(4).toString("hex")}`;
      const scratchUrl = await createDatabase(s.url, scratch);
      cleanups.push({ name: `drop ${scratch}`, run: () => dropDatabase(s.url, scratch) });
      const scriptDir = mkdtempSync(join(tmpdir(), "kopilka-pgbench-"));
      const steps = 3;
      let step = 0;
      const bar = progressBar("(h) pgbench");
      bar(0, steps);
      const pgbench = await pgbenchReference({
        bin,
        url: scratchUrl,
        scale: s.pgbenchScale,
        clients: s.pgbenchClients,
        threads: s.pgbenchThreads,
        seconds: s.pgbenchSeconds,
        scriptDir,
        onStep: () => {
          if (step > 0) bar(step, steps);
          step += 1;
        },
      });
      bar(steps, steps);
      rmSync(scriptDir, { recursive: true, force: true });
      results.pgbench = pgbench;
      rows.push(
        {
          metric: `(h) pgbench TPC-B (-s ${s.pgbenchScale} -c ${s.pgbenchClients} -j ${s.pgbenchThreads} -T ${s.pgbenchSeconds})`,
          value: pgbench.tpcb.tps,
          unit: "tps",
          reference: `latency avg ${formatNumber(pgbench.tpcb.latencyMs ?? Number.NaN)} ms`,
        },
        {
          metric: `(h) pgbench one INSERT per commit (-c ${s.pgbenchClients} -j ${s.pgbenchThreads} -T ${s.pgbenchSeconds})`,
          value: pgbench.insert.tps,
          unit: "tps",
          reference: `latency avg ${formatNumber(pgbench.insert.latencyMs ?? Number.NaN)} ms`,
        },
      );
      compareToPgbench(eventTargets, pgbench);
    });
  }
  for (const t of eventTargets) {
    if (t.minimumRatio !== undefined && t.result.ratioToPgbenchInsert === undefined) {
      addNote(t.row, "no pgbench in this run: the ratio is not checked");
    }
  }
}

async function embeddedRun(s: Settings, report: Report) {
  const { results, rows, cpuRows } = report;
  const dataDir = mkdtempSync(join(tmpdir(), "kopilka-bench-pglite-"));
  cleanups.push({
    name: "remove the PGlite folder",
    run: async () => rmSync(dataDir, { recursive: true, force: true }),
  });
  const env = serviceEnv({ KOPILKA_DATABASE_URL: "", KOPILKA_DATA_DIR: dataDir }, s.poolSize);
  log(`PGlite run in ${dataDir}`);
  const key = await createOperatorKey(env);
  const service = await startService(env, join(dataDir, "service.log"));
  const { stop } = stopOnExit(service);
  const api = new ApiClient(service.base, key);
  const full = !s.postgres;
  const seconds = full ? s.batchSeconds : s.embeddedSeconds;
  // Every PGlite customer is credited over HTTP (no SQL from outside: the service holds the data folder).
  const workload = new Workload({
    seed: s.seed,
    customers: s.embeddedCustomers,
    zipf: s.zipf,
    sellers: s.sellers,
    productsPerSeller: s.productsPerSeller,
    lagOrders: Math.ceil(s.batchSize / 2),
    expectedOrders: Math.max(10_000, seconds * 2_000),
    epoch: new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000),
  });
  const embedded: Record<string, unknown> = {};
  results.embedded = embedded;
  await part(report, "the PGlite run", async () => {
    const seeded = await seed({
      api,
      workload,
      concurrency: 8,
      withSellerPoints: false,
      httpCustomers: s.embeddedCustomers,
    });
    service.assertAlive("seeding");
    embedded.seed = seeded;
    rows.push({
      metric: `PGlite: credits, one per request (8 in flight)`,
      value: seeded.creditsPerSecond,
      unit: "credits/s",
    });
    const batch = await driveEvents({
      api,
      feed: new OrderedFeed(workload),
      service,
      eventsPerRequest: s.batchSize,
      concurrency: 2,
      seconds,
      label: "PGlite: order events, batches",
    });
    cpuRows.push(["PGlite batch events", batch.cpu, batch.seconds]);
    service.assertAlive("PGlite batch events");
    embedded.batch = batch;
    rows.push({
      metric: `PGlite: order events, batches of ${s.batchSize} (2 in flight): applied`,
      value: batch.appliedPerSecond,
      unit: "events/s",
      reference: `accepted ${formatNumber(batch.acceptedPerSecond)}/s`,
    });
    const open = { api, workload, service, maxInFlight: s.maxInFlight };
    const quotes = await driveQuotes({
      ...open,
      rate: s.quoteRate,
      seconds: full ? s.quoteSeconds : s.embeddedSeconds,
      label: `PGlite: quotes at ${s.quoteRate}/s`,
    });
    cpuRows.push(["PGlite quotes", quotes.cpu, quotes.seconds]);
    service.assertAlive("PGlite quotes");
    embedded.quotes = quotes;
    rows.push({
      metric: `PGlite: quote latency p99 at ${formatNumber(s.quoteRate)}/s offered`,
      value: quotes.latency.p99,
      unit: "ms",
      reference: `achieved ${formatNumber(quotes.achievedPerSecond)}/s, p50 ${formatNumber(quotes.latency.p50)} ms`,
    });
    const balances = await driveBalances({
      ...open,
      rate: s.balanceRate,
      seconds: full ? s.balanceSeconds : s.embeddedSeconds,
      label: `PGlite: balance reads at ${s.balanceRate}/s`,
    });
    cpuRows.push(["PGlite balance reads", balances.cpu, balances.seconds]);
    service.assertAlive("PGlite balance reads");
    embedded.balances = balances;
    rows.push({
      metric: `PGlite: balance read latency p99 at ${formatNumber(s.balanceRate)}/s offered`,
      value: balances.latency.p99,
      unit: "ms",
      reference: `achieved ${formatNumber(balances.achievedPerSecond)}/s, p50 ${formatNumber(balances.latency.p50)} ms`,
    });
    embedded.workload = workload.counts;
  });
  const peakRssKb = service.peakRssKb();
  await stop();
  embedded.peakRssKb = peakRssKb;
  rows.push(peakRssRow("PGlite: service peak RSS (VmHWM)", peakRssKb, 450));
  embedded.firstStart = { seconds: round(service.readySeconds, 3) };

  await part(report, "PGlite: start with existing data", async () => {
    // The same data folder, now holding what the run wrote: spawn to /ready answering 200.
    const dataDirBytes = folderBytes(dataDir);
    const again = await startService(env, join(dataDir, "service.log"));
    const restarted = stopOnExit(again);
    const t0 = performance.now();
    const first = await new ApiClient(again.base, key).call(
      "GET",
      `/v1/customers/${workload.customerId(0)}/balance`,
    );
    const firstReadMs = performance.now() - t0;
    again.assertAlive("the start with existing data");
    await restarted.stop();
    embedded.startWithData = {
      seconds: round(again.readySeconds, 3),
      dataDirBytes,
      firstBalanceRead: { status: first.status, ms: round(firstReadMs, 1) },
    };
    rows.push({
      metric: "PGlite: start with existing data, to serving (spawn to /ready 200)",
      value: again.readySeconds,
      unit: "s",
      target: "≤ 3",
      met: again.readySeconds <= 3,
      reference:
        `${formatNumber(dataDirBytes / 2 ** 20, 1)} MiB data folder; then a balance read answered ${first.status} ` +
        `in ${formatNumber(firstReadMs)} ms; the first start, on the empty folder: ${formatNumber(service.readySeconds)} s`,
    });
  });
}

/** Bytes of the files below a folder. */
function folderBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

function cpuTable(cpuRows: [string, CpuShare, number][], cores: number): string {
  const lines = [
    `| phase | seconds | service | PostgreSQL: this database's backends | PostgreSQL: all processes | load generator | other processes | whole machine (of ${cores}) |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [name, c, seconds] of cpuRows) {
    const other = c.machineBusyCores - c.serviceCores - c.postgresCores - c.loadGeneratorCores;
    lines.push(
      `| ${name} | ${formatNumber(seconds, 1)} | ${formatNumber(c.serviceCores, 2)} | ${formatNumber(c.postgresBackendCores, 2)} | ${formatNumber(c.postgresCores, 2)} | ${formatNumber(c.loadGeneratorCores, 2)} | ${formatNumber(other, 2)} | ${formatNumber(c.machineBusyCores, 2)} |`,
    );
  }
  return lines.join("\n");
}

/** Where the service's database sessions were during each phase (PostgreSQL phases only). */
function sessionsTable(cpuRows: [string, CpuShare, number][]): string {
  const rows = cpuRows.filter(([, c]) => Object.keys(c.sessions).length > 0);
  if (rows.length === 0) return "";
  const lines = [
    "The service's database sessions, on average (sampled from pg_stat_activity every 100 ms; idle ones left out):",
    "",
    "| phase | sessions by state |",
    "|---|---|",
  ];
  for (const [name, c] of rows) {
    const states = Object.entries(c.sessions)
      .slice(0, 5)
      .map(([state, n]) => `${state} ${formatNumber(n, 2)}`)
      .join("; ");
    lines.push(`| ${name} | ${states} |`);
  }
  return lines.join("\n");
}

/** The replayed plans of the slowest reading statements: execution time and the nodes that took it. */
function plansText(b: {
  plans: { statement: string; tookMs: number; plan: string[]; withoutJit?: string[] }[];
}): string {
  const executionTime = (plan: string[]) => plan.find((l) => l.startsWith("Execution Time")) ?? plan[0] ?? "";
  return b.plans
    .map((p) => {
      const nodes = hottestNodes(p.plan, 4).map((n) => `  ${formatNumber(n.selfMs, 1)} ms self: ${n.node}`);
      const jit = jitSummary(p.plan);
      return [
        `EXPLAIN ANALYZE of \`${p.statement}\` (its slowest run took ${formatNumber(p.tookMs, 1)} ms; replayed: ${executionTime(p.plan)}):`,
        ...(jit
          ? [
              `  ${jit} — counted in the top node's own time; with jit = off: ${p.withoutJit ? executionTime(p.withoutJit) : "?"}`,
            ]
          : []),
        "  the nodes that took the time:",
        ...nodes,
      ].join("\n");
    })
    .join("\n\n");
}

function statementsTable(
  title: string,
  b: { topStatements: { statement: string; count: number; totalMs: number; meanMs: number }[] },
  units: number,
  unit: string,
) {
  const lines = [
    title,
    "",
    `| statement | count | per ${unit} | mean ms | total ms |`,
    "|---|---:|---:|---:|---:|",
  ];
  for (const t of b.topStatements.slice(0, 8)) {
    lines.push(
      `| \`${t.statement.replaceAll("|", "\\|")}\` | ${t.count} | ${formatNumber(t.count / Math.max(1e-9, units), 2)} | ${formatNumber(t.meanMs, 3)} | ${formatNumber(t.totalMs, 0)} |`,
    );
  }
  return lines.join("\n");
}

async function main() {
  const s = parseSettings(process.argv);
  const startedAt = new Date();
  const machine = machineFacts();
  const report: Report = {
    results: {
      startedAt: startedAt.toISOString(),
      machine,
      settings: { ...s, url: s.url.replace(/\/\/([^:@/]+):[^@/]+@/, "//$1:***@") },
      source: sourceState(),
      loadAverageAtStart: loadavg().map((l) => round(l, 2)),
    },
    rows: [],
    sections: [],
    cpuRows: [],
    failures: [],
  };
  const { results } = report;
  process.once("SIGINT", () => {
    log("interrupted: cleaning up…");
    void cleanUp().then(() => process.exit(130));
  });
  if (s.postgres) await part(report, "the PostgreSQL run", () => postgresRun(s, report));
  await cleanUp();
  if (s.embedded) await part(report, "the PGlite run", () => embeddedRun(s, report));
  await cleanUp();

  results.finishedAt = new Date().toISOString();
  results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  results.table = report.rows;
  results.cpu = report.cpuRows.map(([phase, cpu, seconds]) => ({ phase, seconds, ...cpu }));
  results.failures = report.failures;
  const source = results.source as ReturnType<typeof sourceState>;
  const header =
    `Kopilka benchmark ${startedAt.toISOString()}${s.quick ? " (--quick)" : ""}: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}` +
    (results.postgres ? `, ${(results.postgres as { version: string }).version.split(" on ")[0]}` : "") +
    `; code ${source.commit.slice(0, 8)}${source.uncommittedSrcFiles > 0 ? ` + ${source.uncommittedSrcFiles} uncommitted src files` : ""}` +
    `; load average ${(results.loadAverageAtStart as number[]).join(" ")} at start, ${(results.loadAverageAtEnd as number[]).join(" ")} at end`;
  const out = [
    header,
    markdownTable(report.rows),
    `Where the CPU went (cores busy on average during each phase):\n\n${cpuTable(report.cpuRows, machine.nproc)}`,
    sessionsTable(report.cpuRows),
    ...report.sections,
  ];
  if (report.failures.length > 0) {
    out.push(`Broken: ${report.failures.map((f) => f.split("\n")[0]).join("; ")}`);
  }
  console.log(`\n${out.filter((section) => section !== "").join("\n\n")}\n`);
  mkdirSync(s.resultsDir, { recursive: true });
  const file = join(s.resultsDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Results: ${file}`);
  process.exit(report.failures.length > 0 ? 1 : 0);
}

void main();
