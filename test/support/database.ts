import { randomBytes } from "node:crypto";
import pg from "pg";
import { type DatabaseHandle, openDatabase } from "../../src/infra/db.js";
import { migrate } from "../../src/infra/migrations/migrate.js";

/** Tests run on PGlite unless KOPILKA_DATABASE_URL names a PostgreSQL server (CI runs both). */
export const TEST_DATABASE_URL = process.env.KOPILKA_DATABASE_URL || undefined;
export const ON_POSTGRES = TEST_DATABASE_URL !== undefined;

/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server, or an
 * in-memory PGlite. `drop()` removes it; `url` is the PostgreSQL one. `migrateThrough` stops at an
 * earlier schema.
 */
export async function freshDatabase(
  options: { migrateThrough?: number } = {},
): Promise<DatabaseHandle & { drop(): Promise<void>; url?: string }> {
  const through = { through: options.migrateThrough };
  if (!TEST_DATABASE_URL) {
    const handle = await openDatabase({ dataDir: "memory://" });
    await migrate(handle.db, through);
    return { ...handle, drop: () => handle.close() };
  }
  const name = `kopilka_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  // Two test files run at once (vitest.config.ts), some with `kopilka serve` children of their own:
  // 40 each stays within the server's 100 connections.
  const handle = await openDatabase({ url: url.toString(), poolSize: 40 });
  await migrate(handle.db, through);
  return {
    ...handle,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
