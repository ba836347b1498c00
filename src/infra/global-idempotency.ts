import { type Kysely, sql, type Transaction } from "kysely";
import type { Outcome, WriteRequest } from "../app/ledger-service.js";
import type { StoredOutcome } from "../app/ports.js";
import type { Database } from "./schema.js";

/** A stable seed for the advisory locks of Idempotency-Keys (hashtextextended's second argument). */
const KEY_LOCK_SEED = 7_281_144_031;

/** KeyedWriteRun (src/app/ports.ts) on migration 14's `global_idempotency`, `write` given the transaction. */
export async function keyedWrite<T>(
  db: Kysely<Database>,
  scope: string,
  subject: string,
  request: WriteRequest,
  at: Date,
  write: (trx: Transaction<Database>) => Promise<Outcome<T>>,
): Promise<{ prior: StoredOutcome } | { stored: Outcome<T> }> {
  return db.transaction().execute(async (trx) => {
    // `lock_idempotency_key`: one caller's key at a time, so a retry racing the first request
    // waits for it and then finds its answer (no row exists yet to lock).
    await sql`select pg_advisory_xact_lock(hashtextextended(${`${request.actor} ${subject} ${request.idempotencyKey}`}, ${KEY_LOCK_SEED}))`.execute(
      trx,
    );
    const seen = await trx
      .selectFrom("global_idempotency")
      .select(["scope", "fingerprint", "request_id", "outcome"])
      .where("caller", "=", request.actor)
      .where("subject", "=", subject)
      .where("key", "=", request.idempotencyKey)
      .executeTakeFirst();
    if (seen) {
      return {
        prior: {
          scope: seen.scope,
          fingerprint: seen.fingerprint,
          requestId: seen.request_id,
          outcome: JSON.parse(seen.outcome),
        },
      };
    }
    const stored = await write(trx);
    await trx
      .insertInto("global_idempotency")
      .values({
        caller: request.actor,
        subject,
        key: request.idempotencyKey,
        scope,
        fingerprint: request.fingerprint,
        request_id: request.requestId,
        outcome: JSON.stringify(stored),
        created_at: at,
      })
      .execute();
    return { stored };
  });
}

/** `sweep_global_answers`: the oldest stored answers made before `cutoff`, in one statement. */
export async function sweepGlobalAnswers(db: Kysely<Database>, cutoff: Date, limit: number): Promise<number> {
  const result = await sql`
    delete from global_idempotency
    where (caller, subject, key) in (
      select caller, subject, key from global_idempotency
      where created_at < ${cutoff} order by created_at limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** One audit_log row: who did what to which subject, from what to what, when. */
export async function insertAudit(
  trx: Transaction<Database>,
  entry: {
    auditId: string;
    actor: string;
    action: string;
    subject: string;
    before: unknown;
    after: unknown;
    at: Date;
  },
): Promise<void> {
  await trx
    .insertInto("audit_log")
    .values({
      audit_id: entry.auditId,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      before: entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === null ? null : JSON.stringify(entry.after),
      at: entry.at,
    })
    .execute();
}
