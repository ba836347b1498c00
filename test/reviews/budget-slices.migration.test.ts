import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/infra/migrations/migrate.js";
import { freshDatabase } from "../support/database.js";
import { httpHarness } from "../support/http.js";

/**
 * Migration 17 moves R22's review budgets into the budget tables R26 shares: a database at
 * migration 16 with a seller's funded and partly reserved budget, migrated to the latest, keeps
 * every slice and funding, and the service goes on reserving from it.
 */
describe("migration 17: review budgets move into budget_slices", () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let h: Awaited<ReturnType<typeof httpHarness>>;
  beforeAll(async () => {
    database = await freshDatabase({ migrateThrough: 16 });
    const at = new Date("2026-03-01T09:00:00Z");
    await sql`insert into review_budget_fundings (seller_id, funding_id, points, funded_by, funded_at)
              values ('s-1', 'f-1', 100, 'key_ops', ${at}), ('s-2', 'f-1', 40, 'key_ops', ${at})`.execute(
      database.db,
    );
    await sql`insert into review_budget_slices (seller_id, slice, funded, reserved)
              select 's-1', k, case when k < 4 then 7 else 6 end, case when k = 0 then 5 else 0 end
              from generate_series(0, 15) as k`.execute(database.db);
    await sql`insert into review_budget_slices (seller_id, slice, funded, reserved)
              select 's-2', k, case when k < 8 then 3 else 2 end, 0 from generate_series(0, 15) as k`.execute(
      database.db,
    );
    await migrate(database.db);
    h = await httpHarness({}, database);
  });
  afterAll(async () => {
    await h.close();
  });

  it("keeps each slice and funding under the seller's budget id, and drops the old tables", async () => {
    const slices = await sql<{ budget_id: string; funded: string; reserved: string }>`
      select budget_id, sum(funded) as funded, sum(reserved) as reserved from budget_slices
      group by budget_id order by budget_id`.execute(database.db);
    expect(slices.rows.map((r) => [r.budget_id, Number(r.funded), Number(r.reserved)])).toEqual([
      ["review:s-1", 100, 5],
      ["review:s-2", 40, 0],
    ]);
    const fundings = await sql<{ budget_id: string; points: string }>`
      select budget_id, points from budget_fundings order by budget_id`.execute(database.db);
    expect(fundings.rows.map((r) => [r.budget_id, Number(r.points)])).toEqual([
      ["review:s-1", 100],
      ["review:s-2", 40],
    ]);
    const old = await sql<{ n: number }>`
      select count(*)::int as n from information_schema.tables
      where table_name in ('review_budget_slices', 'review_budget_fundings')`.execute(database.db);
    expect(old.rows[0]?.n).toBe(0);
  });

  it("the seller's budget reads and grows as before", async () => {
    const read = await h.send({ method: "GET", url: "/v1/sellers/s-1/review-budget", key: h.keys.operator });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ funded: 100, reserved: 5, remaining: 95 });
    const again = await h.send({
      method: "POST",
      url: "/v1/sellers/s-1/review-budget/fundings",
      key: h.keys.operator,
      body: { fundingId: "f-1", points: 100 },
    });
    // The funding id seen before (carried over by the migration) is a replay, not a second funding.
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json()).toMatchObject({ funded: 100 });
  });
});
