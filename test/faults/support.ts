import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import pg from "pg";
import { loadConfig } from "../../src/config.js";
import { type DatabaseHandle, openDatabase } from "../../src/infra/db.js";
import { migrate } from "../../src/infra/migrations/migrate.js";
import { createKopilka } from "../../src/main.js";
import { checkLedgerInvariants, checkLedgerInvariantsInSql } from "../support/invariants.js";

/**
 * Shared machinery of the fault suite: scenario databases on the real PostgreSQL server, the service
 * as a child process or in-process, an HTTP client that opens one connection per request, and the
 * ledger checks every scenario ends with.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PG_URL = process.env.KOPILKA_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
/** CI's short form: each scenario a few seconds. */
export const SHORT = process.env.KOPILKA_FAULTS_SHORT === "1";
/** Set by vitest.faults.config.ts: the fault files do nothing when the ordinary `npm test` picks them up. */
export const IN_FAULT_SUITE = process.env.KOPILKA_FAULTS_SUITE === "1";
export const JWT_SECRET = "fault-suite-secret-fault-suite-secret-0123";
/**
 * The application_name of the service process's database sessions (node-postgres takes PGAPPNAME), so
 * a scenario can tell them from its own in pg_stat_activity.
 */
export const SERVICE_APPLICATION_NAME = "kopilka-fault-service";
/** The seed of every random choice; print it, and set KOPILKA_FAULTS_SEED to replay a run. */
export const SEED = Number(process.env.KOPILKA_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));

export const log = (scenario: string, message: string) => console.log(`[faults:${scenario}] ${message}`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a scenario is reproducible from its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------------------------------
// Databases

export interface ScenarioDatabase {
  name: string;
  url: string;
  /** A handle of our own, for checks and fault triggers (the service has its own connections). */
  handle: DatabaseHandle;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database on the PostgreSQL server, dropped (with force) by `drop()`. */
export async function scenarioDatabase(label: string): Promise<ScenarioDatabase> {
  const name = `kopilka_faults_${label}_${randomBytes(4).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), poolSize: 4, onIdleError: () => {} });
  await migrate(handle.db);
  let dropped = false;
  return {
    name,
    url: url.toString(),
    handle,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await handle.close().catch(() => {});
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// HTTP

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

export interface HttpCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** One request on its own connection (no keep-alive): a dropped connection loses only this request. */
export function httpCall(port: number, call: HttpCall, timeoutMs = 30_000): Promise<HttpAnswer> {
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: call.method,
        path: call.path,
        agent: false,
        headers: {
          ...call.headers,
          connection: "close",
          ...(call.body === undefined ? {} : { "content-length": String(Buffer.byteLength(call.body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", fail);
        res.on("aborted", () => fail(new Error("response aborted")));
        res.on("close", () => {
          if (!res.complete) fail(new Error("response incomplete"));
        });
        res.on("end", () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", fail);
    req.end(call.body);
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// The service

/** `node bin/kopilka.js serve` as a child process on a loopback port, with its output kept for diagnosis. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: string[] = [];
  private expectingExit = false;
  starts = 0;
  /** Set when the process exited without being told to (a crash): how, and its last output. */
  unexpectedExit: string | undefined;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async create(databaseUrl: string, env: Record<string, string> = {}) {
    return new ServiceProcess(await freePort(), {
      KOPILKA_DATABASE_URL: databaseUrl,
      KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
      KOPILKA_LOG_LEVEL: "warn",
      KOPILKA_JWT_SECRET: JWT_SECRET,
      PGAPPNAME: SERVICE_APPLICATION_NAME,
      ...env,
    });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the process printed. */
  tail(lines = 40): string {
    return this.output.slice(-lines).join("");
  }

  /** Starts the process and waits until /health answers. */
  async start(timeoutMs = 60_000): Promise<number> {
    if (this.child) throw new Error("the service is already running");
    this.expectingExit = false;
    const began = Date.now();
    const child = spawn(process.execPath, ["bin/kopilka.js", "serve"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.starts += 1;
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString("utf8"));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let exitedEarly = false;
    this.exited = new Promise((resolvePromise) => {
      child.once("exit", (code, signal) => {
        exitedEarly = true;
        if (!this.expectingExit && this.unexpectedExit === undefined) {
          this.unexpectedExit = `the service (pid ${child.pid}) exited by itself: code ${code}, signal ${signal}`;
        }
        if (this.child === child) this.child = undefined;
        resolvePromise();
      });
    });
    for (;;) {
      if (exitedEarly) throw new Error(`the service exited while starting:\n${this.tail()}`);
      if (Date.now() - began > timeoutMs) {
        await this.kill();
        throw new Error(`the service did not answer /health in ${timeoutMs} ms:\n${this.tail()}`);
      }
      try {
        const res = await httpCall(this.port, { method: "GET", path: "/health", headers: {} }, 2_000);
        if (res.status === 200) return Date.now() - began;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    child.kill(signal);
    await this.exited;
  }

  /** SIGTERM (graceful), then SIGKILL if it does not stop within `graceMs`. */
  async stop(graceMs = 10_000): Promise<"graceful" | "killed"> {
    const child = this.child;
    if (!child) return "graceful";
    this.expectingExit = true;
    child.kill("SIGTERM");
    const timer = sleep(graceMs).then(() => "timeout" as const);
    if ((await Promise.race([this.exited.then(() => "exited" as const), timer])) === "exited") {
      return "graceful";
    }
    await this.kill("SIGKILL");
    return "killed";
  }
}

/** `node bin/kopilka.js keys create --role operator`: the secret it prints. */
export async function createOperatorKeyWithCli(databaseUrl: string): Promise<string> {
  const out = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ["bin/kopilka.js", "keys", "create", "--role", "operator", "--name", "fault-suite"],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, KOPILKA_DATABASE_URL: databaseUrl, KOPILKA_JWT_SECRET: JWT_SECRET },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let text = "";
    child.stdout.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise(text) : reject(new Error(`keys create failed (${code}): ${text}`)),
    );
  });
  const secret = /Secret \(shown once\): (kpk_\S+)/.exec(out)?.[1];
  if (!secret) throw new Error(`keys create printed no secret: ${out}`);
  return secret;
}

/**
 * The service in this process on a database (real clock, no scheduler), for the reference runs and the
 * scenarios that need no child process. `listen()` puts it on a loopback port.
 */
export async function inProcessService(database: ScenarioDatabase) {
  const config = loadConfig({
    KOPILKA_DATABASE_URL: database.url,
    KOPILKA_LOG_LEVEL: "silent",
    KOPILKA_JWT_SECRET: JWT_SECRET,
    KOPILKA_SCHEDULER_INTERVAL_SECONDS: "0",
  });
  const handle = await openDatabase({ url: database.url, poolSize: 10, onIdleError: () => {} });
  const kopilka = await createKopilka(config, { database: handle });
  const app = await kopilka.buildServer();
  const operatorKey = (
    await kopilka.access.createKey({ name: "fault-suite", role: "operator", sellerId: null })
  ).secret;
  return {
    app,
    kopilka,
    operatorKey,
    async listen(): Promise<number> {
      await app.listen({ port: 0, host: "127.0.0.1" });
      const address = app.server.address();
      if (typeof address !== "object" || !address) throw new Error("no address");
      return address.port;
    },
    async close() {
      await app.close();
      await handle.close().catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL server control (scenario d)

export function runCommand(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.on("error", (error) => resolvePromise({ code: -1, output: String(error) }));
    child.on("exit", (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

/** Waits until PostgreSQL accepts a query again. */
export async function waitForPostgres(timeoutMs = 60_000): Promise<number> {
  const began = Date.now();
  for (;;) {
    try {
      await admin((c) => c.query("select 1"));
      return Date.now() - began;
    } catch (error) {
      if (Date.now() - began > timeoutMs) throw error;
      await sleep(200);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Checks

/**
 * The ledger invariants over the whole database, both implementations of test/support/invariants.ts:
 * the rows checked in TypeScript, and the service's own reconciliation (`kopilka verify`,
 * src/infra/reconciliation.ts) with the outbox check.
 */
export async function ledgerViolations(database: ScenarioDatabase): Promise<string[]> {
  const [inCode, inSql] = await Promise.all([
    checkLedgerInvariants(database.handle.db),
    checkLedgerInvariantsInSql(database.handle.db),
  ]);
  return [...inCode.map((v) => `(rows) ${v}`), ...inSql.map((v) => `(verify) ${v}`)];
}

/** Rows per table, for the log. */
export async function tableCounts(database: ScenarioDatabase): Promise<Record<string, number>> {
  const result = await sql<Record<string, number>>`select
      (select count(*)::int from customers) as customers,
      (select count(*)::int from movements) as movements,
      (select count(*)::int from lots) as lots,
      (select count(*)::int from holds) as holds,
      (select count(*)::int from redemptions) as redemptions,
      (select count(*)::int from orders) as orders,
      (select count(*)::int from order_events) as order_events,
      (select count(*)::int from idempotency) as idempotency`.execute(database.handle.db);
  return result.rows[0] ?? {};
}
