import { type Kysely, sql, type Transaction } from "kysely";
import type { DeadLetter, NotificationTarget } from "../app/notifications/ports.js";
import type {
  DeadLetterPosition,
  WebhookTargetStore,
  WebhookTargetWrites,
} from "../app/notifications/webhook-subscriptions.js";
import type { IdGenerator, KeyedWriteRun } from "../app/ports.js";
import type { NotificationType } from "../domain/notifications/index.js";
import { insertAudit, keyedWrite, sweepGlobalAnswers } from "./global-idempotency.js";
import type { Database } from "./schema.js";

type TargetRow = Database["notification_targets"];

/**
 * R31, issue 10: webhook subscriptions as operators make them (migration 12 `notification_targets`,
 * kind `webhook`; broker targets are never read or written here), their dead letters, and the stored
 * answers of the routes that change them (migration 14 `global_idempotency`). A small table written
 * only by operators and relays; dead letters are read and replayed set-based.
 */
export class PostgresNotificationTargetStore implements WebhookTargetStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

  readonly keyed: KeyedWriteRun<WebhookTargetWrites> = (scope, subject, request, at, write) =>
    keyedWrite(this.db, scope, subject, request, at, (trx) => write(this.writes(trx, request.actor, at)));

  private writes(trx: Transaction<Database>, actor: string, at: Date): WebhookTargetWrites {
    return {
      lock: async (targetId) => {
        const row = await trx
          .selectFrom("notification_targets")
          .selectAll()
          .where("target_id", "=", targetId)
          .where("kind", "=", "webhook")
          .forUpdate()
          .executeTakeFirst();
        return row && targetOf(row);
      },
      insert: async (target, secret) => {
        await trx
          .insertInto("notification_targets")
          .values({ ...rowOf(target), secret })
          .execute();
      },
      update: async (target) => {
        const { target_id, kind: _kind, created_at: _created, ...changed } = rowOf(target);
        await trx
          .updateTable("notification_targets")
          .set(changed)
          .where("target_id", "=", target_id)
          .where("kind", "=", "webhook")
          .execute();
      },
      replayDeadLetters: (targetId, notificationIds, replayAt, limit) =>
        replayDeadLetters(trx, targetId, notificationIds, replayAt, limit),
      audit: (entry) =>
        insertAudit(trx, {
          ...entry,
          auditId: this.ids.newId("aud"),
          actor,
          subject: `webhook:${entry.subject}`,
          at,
        }),
    };
  }

  async list(after: string | null, limit: number): Promise<NotificationTarget[]> {
    let query = this.db
      .selectFrom("notification_targets")
      .selectAll()
      .where("kind", "=", "webhook")
      .where("state", "<>", "deleted");
    if (after !== null) query = query.where("target_id", ">", after);
    const rows = await query.orderBy("target_id").limit(limit).execute();
    return rows.map(targetOf);
  }

  async find(targetId: string): Promise<NotificationTarget | undefined> {
    const row = await this.db
      .selectFrom("notification_targets")
      .selectAll()
      .where("target_id", "=", targetId)
      .where("kind", "=", "webhook")
      .executeTakeFirst();
    return row && targetOf(row);
  }

  /** `webhook_delivery_counts`: one probe of each partial index (pending: the chain index; dead). */
  async deliveryCounts(targetId: string): Promise<{ pending: number; dead: number }> {
    const result = await sql<{ pending: number; dead: number }>`
      select
        (select count(*) from notification_deliveries where target_id = ${targetId} and state = 'pending') as pending,
        (select count(*) from notification_deliveries where target_id = ${targetId} and state = 'dead') as dead`.execute(
      this.db,
    );
    const row = result.rows[0];
    return { pending: Number(row?.pending ?? 0), dead: Number(row?.dead ?? 0) };
  }

  /** `webhook_dead_letters`: a keyset page along `notification_deliveries_dead`, oldest notification first. */
  async deadLetters(
    targetId: string,
    after: DeadLetterPosition | null,
    limit: number,
  ): Promise<DeadLetter[]> {
    const result = await sql<{
      customer_id: string;
      notification_id: string;
      type: string;
      attempts: number;
      since: Date | string;
      last_error: string | null;
    }>`
      select d.customer_id, d.notification_id, n.type, d.attempts, d.since, d.last_error
      from notification_deliveries as d
        join notifications as n on n.customer_id = d.customer_id and n.notification_id = d.notification_id
      where d.target_id = ${targetId} and d.state = 'dead'
        ${after ? sql`and (d.notification_id, d.customer_id) > (${after.notificationId}, ${after.customerId})` : sql``}
      order by d.notification_id, d.customer_id
      limit ${limit}`.execute(this.db);
    return result.rows.map((r) => ({
      customerId: r.customer_id,
      notificationId: r.notification_id,
      targetId,
      type: r.type as NotificationType,
      attempts: Number(r.attempts),
      since: new Date(r.since),
      lastError: r.last_error,
    }));
  }

  sweepStoredAnswers(cutoff: Date, limit: number): Promise<number> {
    return sweepGlobalAnswers(this.db, cutoff, limit);
  }
}

/**
 * `replay_dead_letters`: the named dead letters of a target, or up to `limit` of any, pending again
 * and due at `at` with no attempts, their age counted from `at`. One statement on the dead-letter
 * index; the notification ids replayed.
 */
async function replayDeadLetters(
  trx: Transaction<Database>,
  targetId: string,
  notificationIds: string[] | null,
  at: Date,
  limit: number,
): Promise<string[]> {
  const chosen =
    notificationIds === null
      ? sql`select customer_id, notification_id from notification_deliveries
            where target_id = ${targetId} and state = 'dead'
            order by notification_id limit ${limit}`
      : sql`select d.customer_id, d.notification_id
            from unnest(${notificationIds}::text[]) as i (notification_id)
              join notification_deliveries as d on d.target_id = ${targetId} and d.state = 'dead'
                and d.notification_id = i.notification_id
            limit ${limit}`;
  const result = await sql<{ notification_id: string }>`
    update notification_deliveries as d
    set state = 'pending', attempts = 0, since = ${at}, next_attempt_at = ${at}
    from (${chosen}) as x
    where d.target_id = ${targetId} and d.customer_id = x.customer_id and d.notification_id = x.notification_id
      and d.state = 'dead'
    returning d.notification_id`.execute(trx);
  return result.rows.map((r) => r.notification_id);
}

function targetOf(row: TargetRow): NotificationTarget {
  return {
    targetId: row.target_id,
    kind: row.kind,
    url: row.url,
    eventTypes: row.event_types as NotificationType[] | null,
    description: row.description,
    state: row.state,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since === null ? null : new Date(row.failing_since),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function rowOf(t: NotificationTarget): Omit<TargetRow, "secret"> {
  return {
    target_id: t.targetId,
    kind: t.kind,
    url: t.url,
    event_types: t.eventTypes,
    description: t.description,
    state: t.state,
    disabled_reason: t.disabledReason,
    failing_since: t.failingSince,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}
