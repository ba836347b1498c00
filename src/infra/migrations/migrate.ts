import { type Kysely, sql } from "kysely";
import type { Database } from "../schema.js";
import { MIGRATIONS } from "./bundle.generated.js";

/** An arbitrary constant: the advisory lock two instances take so only one migrates at a time. */
const MIGRATION_LOCK = 7_281_144_001;

/**
 * Applies the bundled migrations not yet applied, each in its own transaction, in order. Forward
 * only: a database that has a migration this build does not know is refused rather than guessed at.
 * `through` stops after that migration (tests of a migration start from the schema before it).
 */
export async function migrate(
  db: Kysely<Database>,
  options: { through?: number } = {},
): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await sql`create table if not exists kopilka_migrations (
      id integer primary key, name text not null, applied_at timestamptz not null default now())`.execute(
      trx,
    );
    const done = await trx.selectFrom("kopilka_migrations").select(["id"]).orderBy("id").execute();
    const known = new Set(MIGRATIONS.map((m) => m.id));
    const unknown = done.filter((d) => !known.has(d.id));
    if (unknown.length > 0) {
      throw new Error(
        `the database has migrations this build does not know: ${unknown.map((u) => u.id).join(", ")}`,
      );
    }
    const doneIds = new Set(done.map((d) => d.id));
    for (const m of MIGRATIONS) {
      if (doneIds.has(m.id) || m.id > (options.through ?? Number.POSITIVE_INFINITY)) continue;
      await sql.raw(m.sql).execute(trx);
      await trx.insertInto("kopilka_migrations").values({ id: m.id, name: m.name }).execute();
      applied.push(`${String(m.id).padStart(6, "0")}_${m.name}`);
    }
  });
  return { applied };
}
