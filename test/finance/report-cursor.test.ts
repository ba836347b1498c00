import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cursorPages } from "../../src/infra/report-cursor.js";
import { httpHarness } from "../support/http.js";
import type { Harness } from "./helpers.js";

/**
 * Reports stream (src/infra/report-cursor.ts, src/http/routes/finance/report-answer.ts): a page at a
 * time from a server-side cursor, and however the reading ends — all read, left early, failed, the
 * client gone — the cursor's transaction ends and its connection goes back to the pool (on PGlite the
 * pool's only one: a leak would stall every later statement).
 */

/** Fails instead of hanging when the pool's connection was not given back. */
function soon<T>(work: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not finish: a connection leaked?`)), 10_000),
    ),
  ]);
}

describe("reports read through a cursor", () => {
  let h: Harness;
  const openCursors = async () =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from pg_cursors`.execute(h.database.db)).rows[0]?.n,
    );
  const query = (text: string) => sql.raw<{ n: number }>(text).compile(h.database.db);

  beforeAll(async () => {
    h = await httpHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("yields the rows in pages of the size asked, then ends its transaction", async () => {
    const pages: number[][] = [];
    for await (const page of cursorPages(h.database, query("select n from generate_series(1, 7) as n"), 3)) {
      pages.push(page.map((r) => r.n));
    }
    expect(pages).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(await soon(openCursors(), "a query after the report")).toBe(0);
  });

  it("a reader that leaves early closes the cursor and gives the connection back", async () => {
    for await (const page of cursorPages(
      h.database,
      query("select n from generate_series(1, 100) as n"),
      10,
    )) {
      expect(page).toHaveLength(10);
      break;
    }
    expect(await soon(openCursors(), "a query after leaving early")).toBe(0);
  });

  it("a statement that fails rejects, and the pool still serves", async () => {
    const failing = cursorPages(
      h.database,
      query("select n / (n - 3) as n from generate_series(1, 5) as n"),
      1,
    );
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of failing) seen.push(...page.map((r) => r.n));
      })(),
    ).rejects.toThrow(/division by zero/);
    expect(seen).toEqual([0, -2]);
    expect(await soon(openCursors(), "a query after the failure")).toBe(0);
  });

  it("an HTTP client that goes away mid-answer ends the report and frees the connection", async () => {
    // 200,000 lots of as many funders: a liability of 200,000 rows, some 20 MB of JSON — more than
    // the sockets' buffers take, so the answer is still being written when the client leaves (the
    // ledger's consistency does not matter to this test).
    await sql`insert into customers (customer_id, created_at) values ('many', now())`.execute(h.database.db);
    await sql`
      insert into lots (customer_id, lot_id, kind, amount, remaining, source, funder, state, created_at,
                        available_from, expires_at, reference)
      select 'many', 'lot_' || lpad(n::text, 26, '0'), 'bonus', 1, 1, 'seller', 'seller:m-' || lpad(n::text, 6, '0'),
             'available', now(), now(), now() + interval '1 year', null
      from generate_series(1, 200000) as n`.execute(h.database.db);
    const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const authorization = `Bearer ${h.keys.operator}`;
    const abort = new AbortController();
    const cut = await fetch(`${address}/v1/finance/liability`, {
      headers: { authorization },
      signal: abort.signal,
    });
    expect(cut.status).toBe(200);
    const reader = cut.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/^\{"asOf":"[^"]+","rows":\[/);
    abort.abort();
    await reader?.cancel().catch(() => {});
    // The one connection of PGlite's pool is back: the next request is answered, no cursor is left.
    const balance = await soon(
      fetch(`${address}/v1/customers/many/balance`, { headers: { authorization } }),
      "a request after the client went away",
    );
    expect(balance.status).toBe(200);
    expect(await soon(openCursors(), "a query after the client went away")).toBe(0);
    // The connection the aborted request leaves behind is the client's business, not the server's.
    h.app.server.closeAllConnections();
  });
});
