import type { CompiledQuery } from "kysely";
import type { DatabaseHandle } from "./db.js";

/** How many rows a report fetches from its cursor at a time. */
const REPORT_PAGE_ROWS = 1000;

/**
 * The longest one statement of a report (or of the reconciliation) may run on the server. Neither
 * is held to KOPILKA_DATABASE_TIMEOUT_MS (a request's bound): an aggregate over ten million
 * movements takes longer than that before its first row.
 */
export const REPORT_STATEMENT_TIMEOUT = "10min";

/**
 * A query's rows in pages of `pageRows`, read through a server-side cursor (DECLARE … FETCH) in a
 * read-only repeatable-read transaction: one snapshot, and never more than a page in this process.
 * The generator holds one pooled connection until it ends, its consumer leaves (`return`) or a
 * statement fails; either of the last two rolls back. On PGlite that is its one connection: other
 * work waits while a report is read.
 */
export async function* cursorPages<Row>(
  database: Pick<DatabaseHandle, "pool" | "bounded">,
  query: CompiledQuery<Row>,
  pageRows = REPORT_PAGE_ROWS,
): AsyncGenerator<Row[]> {
  const unbounded = <T>(work: () => Promise<T>) => database.bounded(Number.POSITIVE_INFINITY, work);
  const client = await unbounded(() => database.pool.connect());
  const run = (text: string, values: readonly unknown[] = []) =>
    unbounded(() => client.query(text, [...values]));
  let inTransaction = false;
  let broken: Error | undefined;
  try {
    await run("begin isolation level repeatable read read only");
    inTransaction = true;
    await run(`set local statement_timeout = '${REPORT_STATEMENT_TIMEOUT}'`);
    await run(`declare report_rows no scroll cursor for ${query.sql}`, query.parameters);
    for (;;) {
      const { rows } = await run(`fetch forward ${pageRows} from report_rows`);
      if (rows.length > 0) yield rows as Row[];
      if (rows.length < pageRows) break;
    }
    await run("commit");
    inTransaction = false;
  } finally {
    // Left early or failed: end the transaction here (PGlite's one session outlives any connection to
    // it), and drop the connection if even that fails.
    if (inTransaction) {
      await run("rollback").catch((error: unknown) => {
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
    client.release(broken);
  }
}
