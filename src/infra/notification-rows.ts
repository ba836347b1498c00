import { type RawBuilder, sql } from "kysely";
import type { ExplanationCode, ExplanationRef, Movement } from "../domain/ledger/index.js";
import {
  type NotificationType,
  notificationIdOfMovement,
  notificationOfMovement,
  notificationTypeOf,
  type StoredNotification,
} from "../domain/notifications/index.js";
import { CODE_OF_NUMBER, EXPLANATION_CODES } from "./movement-rows.js";
import type { Database } from "./schema.js";

/**
 * R31, the outbox's writes (migration 12). Every statement that writes movements writes their
 * notifications in the same statement, and with each notification one delivery per target that
 * wants its type: the ledger's write (src/infra/ledger-store.ts), the bulk settlement and the bulk
 * savings interest, and the expiry notice run.
 */

/**
 * A notification row as a write statement's JSON carries it (`notificationWrites` reads these
 * columns): the params as JSON text, kept as written.
 */
export type NotificationRow = Omit<Database["notifications"], "type" | "explanation_params"> & {
  type: NotificationType;
  explanation_params: string;
};

/** The notification a movement written by the ledger causes, if any. */
export function notificationRowOfMovement(customerId: string, m: Movement, at: Date): NotificationRow | null {
  const notification = notificationOfMovement(m);
  if (!notification) return null;
  return {
    customer_id: customerId,
    notification_id: notificationIdOfMovement(m.movementId),
    type: notification.type,
    kind: m.kind,
    amount: notification.amount,
    reference: m.reference,
    movement_id: m.movementId,
    lot_id: null,
    threshold_days: null,
    lot_expires_at: null,
    explanation_code: EXPLANATION_CODES[m.explanation.code],
    explanation_params: JSON.stringify(m.explanation.params),
    occurred_at: m.occurredAt,
    created_at: at,
  };
}

/** A JSON array of NotificationRow as a statement's row source (`jsonb_to_recordset`). */
export function notificationRowsFromJson(json: string): RawBuilder<unknown> {
  // The params arrive as JSON text, kept as written (jsonb would rewrite it).
  return sql`select customer_id, notification_id, type, kind, amount, reference, movement_id, lot_id,
      threshold_days, lot_expires_at, explanation_code, explanation_params::json as explanation_params,
      occurred_at, created_at
    from jsonb_to_recordset(${json}::jsonb) as x(
      customer_id text, notification_id text, type text, kind text, amount bigint, reference text,
      movement_id text, lot_id text, threshold_days smallint, lot_expires_at timestamptz,
      explanation_code smallint, explanation_params text, occurred_at timestamptz, created_at timestamptz)`;
}

/**
 * The notifications of the two-posting movements a bulk statement inserted (its CTE `movements`
 * returning every column), for the explanation codes given: the points are the second posting's.
 */
export function notificationsOfBulkMovements(
  movements: string,
  codes: readonly ExplanationCode[],
  at: Date,
): RawBuilder<unknown> {
  const types = codes.map((code) => {
    const type = notificationTypeOf(code);
    if (type === null) throw new Error(`explanation ${code} causes no notification`);
    return sql`(${EXPLANATION_CODES[code]}::smallint, ${type}::text)`;
  });
  return sql`select m.customer_id, 'ntf_' || substr(m.movement_id, 5) as notification_id, t.type, m.kind,
           m.amounts[2] as amount, m.reference, m.movement_id, null::text as lot_id,
           null::smallint as threshold_days, null::timestamptz as lot_expires_at, m.explanation_code,
           m.explanation_params, m.occurred_at, ${at}::timestamptz as created_at
    from ${sql.raw(movements)} as m join (values ${sql.join(types)}) as t (code, type) on t.code = m.explanation_code`;
}

/**
 * Two CTEs, `notification_rows` and `notification_delivery_rows`: the notifications `source`
 * selects (NotificationRow's columns), and a pending delivery of each to every target not deleted
 * that takes its type. A notification already written (an expiry notice two runs found) is skipped,
 * with its deliveries.
 */
export function notificationWrites(source: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`notification_rows as (
        insert into notifications (customer_id, notification_id, type, kind, amount, reference, movement_id,
          lot_id, threshold_days, lot_expires_at, explanation_code, explanation_params, occurred_at, created_at)
        select customer_id, notification_id, type, kind, amount, reference, movement_id, lot_id, threshold_days,
               lot_expires_at, explanation_code, explanation_params, occurred_at, created_at
        from (${source}) as n
        on conflict do nothing
        returning customer_id, notification_id, type, created_at),
      notification_delivery_rows as (
        insert into notification_deliveries (customer_id, notification_id, target_id, state, next_attempt_at, since)
        select n.customer_id, n.notification_id, t.target_id, 'pending', n.created_at, n.created_at
        from notification_rows as n
          join notification_targets as t
            on t.state <> 'deleted' and (t.event_types is null or n.type = any (t.event_types))
        returning 1)`;
}

/** A stored notification from its row. */
export function notificationFromRow(r: Database["notifications"]): StoredNotification {
  const code = CODE_OF_NUMBER.get(r.explanation_code);
  if (code === undefined)
    throw new Error(`notification ${r.notification_id} has explanation code ${r.explanation_code}`);
  return {
    notificationId: r.notification_id,
    customerId: r.customer_id,
    type: r.type as NotificationType,
    kind: r.kind as StoredNotification["kind"],
    amount: Number(r.amount),
    reference: r.reference,
    movementId: r.movement_id,
    lotId: r.lot_id,
    thresholdDays: r.threshold_days,
    lotExpiresAt: r.lot_expires_at,
    explanation: { code, params: r.explanation_params } as ExplanationRef,
    occurredAt: r.occurred_at,
    createdAt: r.created_at,
  };
}
