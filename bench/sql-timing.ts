import { performance } from "node:perf_hooks";
import type pg from "pg";
import { type DatabaseHandle, openDatabase } from "../src/infra/db.js";

/**
 * For the in-process phases: a database handle like the service's own, whose connections time every
 * statement they send (wall time from the driver's call to its answer, by statement shape). With it,
 * the time of a use case splits into "waiting for PostgreSQL" per statement and "everything else"
 * (JavaScript: domain, Kysely, the pg driver's encoding and parsing).
 */

export interface StatementTiming {
  statement: string;
  count: number;
  totalMs: number;
  meanMs: number;
}

/** The slowest run of a statement shape: what EXPLAIN ANALYZE can replay. */
export interface SlowestRun {
  statement: string;
  text: string;
  values: unknown[];
  ms: number;
}

export class SqlTimings {
  private readonly byStatement = new Map<string, { count: number; ms: number; slowest: SlowestRun }>();

  record(text: string, ms: number, values: unknown[]): void {
    const key = shape(text);
    const entry = this.byStatement.get(key) ?? {
      count: 0,
      ms: 0,
      slowest: { statement: key, text, values, ms },
    };
    entry.count += 1;
    entry.ms += ms;
    if (ms >= entry.slowest.ms) entry.slowest = { statement: key, text, values, ms };
    this.byStatement.set(key, entry);
  }

  /** The slowest run of each of the `n` reading statement shapes that took the most time in all. */
  slowestReads(n: number): SlowestRun[] {
    return [...this.byStatement.values()]
      .filter(
        (e) =>
          /^\s*(select|with)\b/i.test(e.slowest.text) && !/\b(insert|update|delete)\b/i.test(e.slowest.text),
      )
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n)
      .map((e) => e.slowest);
  }

  reset(): void {
    this.byStatement.clear();
  }

  get statements(): number {
    let n = 0;
    for (const e of this.byStatement.values()) n += e.count;
    return n;
  }

  get totalMs(): number {
    let ms = 0;
    for (const e of this.byStatement.values()) ms += e.ms;
    return ms;
  }

  report(): StatementTiming[] {
    return [...this.byStatement.entries()]
      .map(([statement, e]) => ({
        statement,
        count: e.count,
        totalMs: Math.round(e.ms * 10) / 10,
        meanMs: Math.round((e.ms / e.count) * 1000) / 1000,
      }))
      .sort((a, b) => b.totalMs - a.totalMs);
  }
}

/** A statement's shape: whitespace collapsed, quotes and parameter lists folded, cut at 100 characters. */
function shape(text: string): string {
  const folded = text
    .replace(/\s+/g, " ")
    .replace(/"/g, "")
    .replace(/\(\$\d+(, \$\d+)*\)/g, "($…)")
    .replace(/(, \(\$…\))+/g, ", …")
    .replace(/\$\d+/g, "$")
    .trim();
  return folded.length > 100 ? `${folded.slice(0, 99)}…` : folded;
}

const WRAPPED = Symbol("timed");

function timeClient(client: pg.PoolClient, timings: SqlTimings): void {
  const marked = client as pg.PoolClient & { [WRAPPED]?: true };
  if (marked[WRAPPED]) return;
  marked[WRAPPED] = true;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "?");
    const values = Array.isArray(args[1]) ? (args[1] as unknown[]) : [];
    const start = performance.now();
    const result = query(...args);
    if (result instanceof Promise) {
      return result.finally(() => timings.record(text, performance.now() - start, values));
    }
    return result;
  };
}

/**
 * The service's own PostgreSQL handle (openDatabase: the same pool and session settings, e.g.
 * `-c jit=off`), for createKopilka({ database }), with every statement timed into `timings`.
 */
export async function timedDatabase(
  url: string,
  poolSize: number,
  timings: SqlTimings,
): Promise<DatabaseHandle> {
  const handle = await openDatabase({ url, poolSize });
  const pool = handle.pool;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
    const client = await connect();
    timeClient(client, timings);
    return client;
  };
  return handle;
}

/** The session options of a handle's connections (`-c jit=off` …), to run EXPLAIN the way it runs. */
export function sessionOptionsOf(handle: DatabaseHandle): string | undefined {
  return (handle.pool as unknown as { options?: { options?: string } }).options?.options;
}
