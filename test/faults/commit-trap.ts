import { sql } from "kysely";
import pg from "pg";
import { type ScenarioDatabase, sleep } from "./support.js";

/**
 * A trap, installed in a scenario database only, that holds committing transactions inside COMMIT
 * until the scenario lets them go: the way to kill the service between a write's commit and its reply
 * every time, without a hook in the service.
 *
 * Deferred constraint triggers on `idempotency` (every ledger write stores its answer there) and on
 * `order_events` run at COMMIT, before the commit completes. While the scenario's own session holds
 * the advisory lock TRAP_LOCK exclusively ("armed"), the trigger waits for a shared hold on it. So the
 * scenario arms the trap, waits until a transaction is held (pg_locks shows it waiting), SIGKILLs the
 * service, and releases the lock: the held transactions then finish their COMMIT (PostgreSQL does not
 * notice a vanished client while it waits — client_connection_check_interval is 0 here), and try to
 * answer a process that is gone. Their writes are committed; their clients saw the connection drop.
 * Unarmed, the trigger costs one uncontended advisory lock per row.
 */
const TRAP_LOCK = 7_281_144_901;

export class CommitTrap {
  private armed = false;

  private constructor(
    private readonly session: pg.Client,
    private readonly database: ScenarioDatabase,
  ) {}

  static async install(database: ScenarioDatabase): Promise<CommitTrap> {
    const db = database.handle.db;
    await sql`create function fault_commit_trap() returns trigger language plpgsql as $$
      begin
        if not pg_try_advisory_xact_lock_shared(${sql.lit(TRAP_LOCK)}) then
          perform pg_advisory_xact_lock_shared(${sql.lit(TRAP_LOCK)});
        end if;
        return null;
      end $$`.execute(db);
    for (const table of ["idempotency", "order_events"]) {
      await sql`create constraint trigger ${sql.raw(`fault_commit_trap_${table}`)}
        after insert or update on ${sql.table(table)} deferrable initially deferred
        for each row execute function fault_commit_trap()`.execute(db);
    }
    // The default, stated: a session waiting in COMMIT must not be cancelled because its client is gone.
    await sql`alter database ${sql.id(database.name)} set client_connection_check_interval = 0`.execute(db);
    const session = new pg.Client({ connectionString: database.url });
    await session.connect();
    return new CommitTrap(session, database);
  }

  /** From now on every transaction that writes an answer or an event waits inside its COMMIT. */
  async arm(): Promise<void> {
    await this.session.query("select pg_advisory_lock($1)", [TRAP_LOCK]);
    this.armed = true;
  }

  /** Transactions waiting inside COMMIT (on the trap's lock). */
  async held(): Promise<number> {
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_locks
      where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())
        and ((classid::bigint << 32) | objid::bigint) = ${TRAP_LOCK}`.execute(this.database.handle.db);
    return r.rows[0]?.n ?? 0;
  }

  /** Waits up to `timeoutMs` for at least one held transaction; then a moment more, so others join. */
  async waitForHeld(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.held()) > 0) {
        await sleep(20);
        return this.held();
      }
      await sleep(5);
    }
    return 0;
  }

  /** Lets the held transactions finish their COMMIT. */
  async release(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    await this.session.query("select pg_advisory_unlock($1)", [TRAP_LOCK]);
  }

  async close(): Promise<void> {
    await this.release().catch(() => {});
    await this.session.end().catch(() => {});
  }
}

/** Waits until no session of `applicationName` is left on the database (a killed process's backends end). */
export async function waitForSessionsGone(
  database: ScenarioDatabase,
  applicationName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = ${database.name} and application_name = ${applicationName}`.execute(database.handle.db);
    if ((r.rows[0]?.n ?? 0) === 0) return;
    if (Date.now() > deadline)
      throw new Error(`sessions of ${applicationName} still open after ${timeoutMs} ms`);
    await sleep(10);
  }
}
