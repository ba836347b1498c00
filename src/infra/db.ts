import { AsyncLocalStorage } from "node:async_hooks";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { DatabaseTimeout } from "../app/unavailable.js";
import { DataFolderError, isInMemory } from "./data-folder.js";
import type { Database } from "./schema.js";

/** int8 and int8[] come back as numbers; a value beyond 2^53 is a bug, not something to round. */
function toSafeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`integer ${text} is out of the exact range`);
  return n;
}
pg.types.setTypeParser(pg.types.builtins.INT8, toSafeInteger);
pg.types.setTypeParser(1016 as never, (text: string) =>
  text === "{}" ? [] : text.slice(1, -1).split(",").map(toSafeInteger),
);

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  kind: "postgres" | "pglite";
  /**
   * Runs `work` so that none of its statements outlives `ms` from now (nor the handle's own bound):
   * a group commit gives its transaction what is left of its works' wait. `Infinity` lifts the bound
   * (migrations). PGlite runs in this process and is never silent: there it only runs `work`.
   */
  bounded<T>(ms: number, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without it the embedded PGlite database is used. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps it in memory. */
  dataDir?: string | undefined;
  poolSize?: number | undefined;
  /**
   * PostgreSQL: the longest a connection attempt, a wait for a pooled connection or one statement may
   * take before it fails as unavailable (`DatabaseTimeout`); unset, nothing is bounded.
   */
  timeoutMs?: number | undefined;
  /** Told about errors on connections (PostgreSQL restarted, a session terminated, network cut). */
  onIdleError?: ((error: Error) => void) | undefined;
}

/**
 * PGlite does not lock its data folder: two processes opening it would corrupt it, so we take a
 * lock file holding our pid and refuse to start while a live process holds it.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = join(dataDir, "kopilka.lock");
  try {
    const fd = openSync(lockPath, "wx");
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
  } catch {
    const holder = Number(readFileSync(lockPath, "utf8"));
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = holder !== process.pid;
    } catch {
      alive = false;
    }
    if (alive) throw new DataFolderError(`the data folder ${dataDir} is in use by process ${holder}`);
    writeFileSync(lockPath, String(process.pid));
  }
  return () => rmSync(lockPath, { force: true });
}

/** What PGlite starts PostgreSQL with unless told otherwise (its `defaultStartParams`). */
const PGLITE_DEFAULT_START_PARAMS: readonly string[] = (PGlite as unknown as { defaultStartParams: string[] })
  .defaultStartParams;

/** The instant (performance.now()) by which the statements of the current async context must end. */
const statementDeadline = new AsyncLocalStorage<number>();

function bounded<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const outer = statementDeadline.getStore() ?? Number.POSITIVE_INFINITY;
  return statementDeadline.run(Math.min(outer, performance.now() + ms), work);
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

/**
 * A pg client whose statements end by their deadline. pg's own `query_timeout` leaves a statement
 * that was sent running on the connection, so the next user of the pooled connection would read its
 * late answer; a statement past its deadline here closes the connection instead, the pool drops it,
 * and the server rolls back whatever transaction it was in.
 */
function clientWithDeadlines(boundMs: number) {
  return class DeadlineClient extends pg.Client {
    /** Set once a statement ran out of time: the connection is closing, and every later statement
     * (the transaction's rollback) fails with the same time-out rather than "not queryable". */
    private timedOut: DatabaseTimeout | undefined;

    // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this passes them all through.
    override query(...args: any[]): any {
      const callback: QueryCallback | undefined =
        typeof args[args.length - 1] === "function" ? args.pop() : undefined;
      // Submittables (cursors, streams) manage their own reads; the service uses none.
      if (typeof args[0]?.submit === "function") return super.query(...(args as [string]), callback as never);
      const context = statementDeadline.getStore();
      // `bounded(Infinity, …)` (a migration) lifts the client's own bound too.
      const deadline =
        context === Number.POSITIVE_INFINITY
          ? context
          : Math.min(context ?? Number.POSITIVE_INFINITY, performance.now() + boundMs);
      const answer = this.timedOut
        ? Promise.reject(this.timedOut)
        : this.withinDeadline(deadline, super.query(...(args as [string])));
      if (!callback) return answer;
      answer.then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
      return undefined;
    }

    private withinDeadline(deadline: number, statement: Promise<unknown>): Promise<unknown> {
      if (deadline === Number.POSITIVE_INFINITY) return statement;
      const budget = deadline - performance.now();
      return new Promise((resolve, reject) => {
        let late = false;
        const timer = setTimeout(
          () => {
            late = true;
            this.timedOut = new DatabaseTimeout("the database did not answer", Math.max(0, budget));
            this.end().catch(() => {});
            reject(this.timedOut);
          },
          Math.max(0, budget),
        );
        statement.then(
          (result) => {
            clearTimeout(timer);
            resolve(result);
          },
          (error: unknown) => {
            clearTimeout(timer);
            if (!late) reject(error);
          },
        );
      });
    }
  };
}

/**
 * A pool whose wait for a connection also ends by the current deadline: pg-pool bounds it by
 * `connectionTimeoutMillis` alone, which a work that has waited in its lane may no longer have.
 */
class PoolWithDeadlines extends pg.Pool {
  // biome-ignore lint/suspicious/noExplicitAny: pg-pool's connect is overloaded (callback or promise).
  override connect(...args: any[]): any {
    const deadline = statementDeadline.getStore();
    if (args.length > 0 || deadline === undefined) return super.connect(...(args as []));
    const left = deadline - performance.now();
    const connecting = super.connect();
    // No deadline (a migration), or pg-pool's own time-out comes first.
    const poolBound = this.options.connectionTimeoutMillis || Number.POSITIVE_INFINITY;
    if (!Number.isFinite(left) || left >= poolBound) return connecting;
    return new Promise<pg.PoolClient>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(
        () => {
          late = true;
          reject(new DatabaseTimeout("no database connection was free", Math.max(0, left)));
        },
        Math.max(0, left),
      );
      connecting.then(
        (client) => {
          clearTimeout(timer);
          if (late) client.release();
          else resolve(client);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!late) reject(error);
        },
      );
    });
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const timeoutMs = options.timeoutMs;
    // JIT compiles the batch statements (large estimated costs, tiny real work) for seconds: off.
    const pool = new PoolWithDeadlines({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: "-c jit=off",
      // A peer that vanished without closing (a cut network) is found by TCP keepalive on idle connections.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(timeoutMs === undefined
        ? {}
        : { connectionTimeoutMillis: timeoutMs, Client: clientWithDeadlines(timeoutMs) }),
    });
    // An idle connection dies when PostgreSQL restarts; the pool replaces it, the process must not crash.
    pool.on("error", (error) => options.onIdleError?.(error));
    // pg-pool stops listening on a connection while it is checked out; a session ended then (a
    // restart, pg_terminate_backend) must fail that transaction's next statement, not the process.
    pool.on("connect", (client) => {
      client.on("error", (error) => options.onIdleError?.(error));
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, pool, kind: "postgres", bounded, close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? ".kopilka-data";
  const inMemory = isInMemory(dataDir);
  const unlock = inMemory ? () => {} : lockDataDir(resolve(dataDir));
  // PGlite's WASM memory only grows, and its default 128 MB of shared buffers end up in it: 32 MB keeps
  // the embedded service's peak RSS about 100 MB lower, and reads still hit the OS page cache.
  const pglite = await PGlite.create(inMemory ? dataDir : resolve(dataDir), {
    startParams: [...PGLITE_DEFAULT_START_PARAMS, "-c", "shared_buffers=32MB"],
  });
  // PGlite has one session: a pool of one keeps transactions from interleaving.
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    kind: "pglite",
    bounded: (_ms, work) => work(),
    close: async () => {
      await db.destroy();
      await pglite.close();
      unlock();
    },
  };
}
