import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
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
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without it the embedded PGlite database is used. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps it in memory. */
  dataDir?: string | undefined;
  poolSize?: number | undefined;
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
    if (alive) throw new Error(`the data folder ${dataDir} is in use by process ${holder}`);
    writeFileSync(lockPath, String(process.pid));
  }
  return () => rmSync(lockPath, { force: true });
}

/** What PGlite starts PostgreSQL with unless told otherwise (its `defaultStartParams`). */
const PGLITE_DEFAULT_START_PARAMS: readonly string[] = (PGlite as unknown as { defaultStartParams: string[] })
  .defaultStartParams;

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    // JIT compiles the batch statements (large estimated costs, tiny real work) for seconds: off.
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: "-c jit=off",
    });
    // An idle connection dies when PostgreSQL restarts; the pool replaces it, the process must not crash.
    pool.on("error", (error) => options.onIdleError?.(error));
    // pg-pool stops listening on a connection while it is checked out; a session ended then (a
    // restart, pg_terminate_backend) must fail that transaction's next statement, not the process.
    pool.on("connect", (client) => {
      client.on("error", (error) => options.onIdleError?.(error));
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, pool, kind: "postgres", close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? ".kopilka-data";
  const inMemory = dataDir.startsWith("memory://");
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
    close: async () => {
      await db.destroy();
      await pglite.close();
      unlock();
    },
  };
}
