import { type Kysely, sql } from "kysely";
import type {
  ClaimedDelivery,
  DeliveryFailure,
  DeliveryKey,
  ExpiringLot,
  ExpiryCursor,
  NotificationDeliveries,
  NotificationHousekeeping,
  TargetKind,
} from "../app/notifications/ports.js";
import { ID_BLOCK_DIGITS } from "../app/ports.js";
import { EXPIRY_NOTICE_DAYS } from "../domain/notifications/index.js";
import { base32, isoJson } from "./bulk-settlement.js";
import { EXPLANATION_CODES } from "./movement-rows.js";
import { notificationFromRow, notificationWrites } from "./notification-rows.js";
import type { Database } from "./schema.js";

const keyColumns = (keys: DeliveryKey[]) => sql`unnest(
  ${keys.map((k) => k.customerId)}::text[], ${keys.map((k) => k.notificationId)}::text[],
  ${keys.map((k) => k.targetId)}::text[]) as k (customer_id, notification_id, target_id)`;

const MAX_NOTICE_DAYS = Math.max(...EXPIRY_NOTICE_DAYS);
/** The most deliveries of one customer and target a claim takes after the chain's head. */
const CHAIN_LENGTH = 20;

/**
 * The outbox's relay side (migration 12). Each statement touches a delivery's own row, by its key:
 * in a store distributed by customer, rows of independent customers, never one row every
 * transaction updates. Targets are a small table written only by operators and relays.
 */
export class PostgresNotificationStore implements NotificationDeliveries, NotificationHousekeeping {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(kind: TargetKind, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const result = await sql<
      Parameters<typeof notificationFromRow>[0] & {
        target_id: string;
        attempts: number;
        since: Date;
        url: string | null;
        secret: string | null;
      }
    >`
      with
        -- Chain heads: a due delivery with no earlier pending one of its customer and target. Only
        -- heads are taken, so a customer's deliveries go out in order, and one whose head waits
        -- for a retry takes no place in the claim.
        heads as (
          select d.customer_id, d.notification_id, d.target_id from notification_deliveries as d
          where d.state = 'pending' and d.next_attempt_at <= ${now}
            and d.target_id in (select target_id from notification_targets where kind = ${kind} and state = 'enabled')
            and not exists (
              select 1 from notification_deliveries as e
              where e.target_id = d.target_id and e.customer_id = d.customer_id and e.state = 'pending'
                and e.notification_id < d.notification_id)
          order by d.next_attempt_at
          limit ${limit}
          for update of d skip locked),
        -- With each head, the due deliveries that follow it, in order: no other relay can take
        -- them (they are not heads) while this one holds the head.
        taken as (
          select x.customer_id, x.notification_id, x.target_id from heads as h
            cross join lateral (
              select f.customer_id, f.notification_id, f.target_id from notification_deliveries as f
              where f.target_id = h.target_id and f.customer_id = h.customer_id and f.state = 'pending'
                and f.notification_id >= h.notification_id and f.next_attempt_at <= ${now}
              order by f.notification_id
              limit ${CHAIN_LENGTH}) as x),
        leased as (
          update notification_deliveries as d set next_attempt_at = ${leaseUntil}
          from taken
          where d.customer_id = taken.customer_id and d.notification_id = taken.notification_id
            and d.target_id = taken.target_id
          returning d.customer_id, d.notification_id, d.target_id, d.attempts, d.since)
      select l.target_id, l.attempts, l.since, t.url, t.secret, n.*
      from leased as l
        join notifications as n on n.customer_id = l.customer_id and n.notification_id = l.notification_id
        join notification_targets as t on t.target_id = l.target_id
      order by l.target_id, l.customer_id, l.notification_id`.execute(this.db);
    return result.rows.map((r) => ({
      customerId: r.customer_id,
      notificationId: r.notification_id,
      targetId: r.target_id,
      attempts: Number(r.attempts),
      since: new Date(r.since),
      url: r.url,
      secret: r.secret,
      notification: notificationFromRow({
        ...r,
        occurred_at: new Date(r.occurred_at),
        created_at: new Date(r.created_at),
        lot_expires_at: r.lot_expires_at === null ? null : new Date(r.lot_expires_at),
      }),
    }));
  }

  /**
   * The broker as a target (`nats`), enabled: an instance publishing to it registers it at start, and
   * from then on every notification is written with a delivery to it.
   */
  async registerBroker(at: Date): Promise<void> {
    await sql`
      insert into notification_targets (target_id, kind, description, state, created_at, updated_at)
      values ('nats', 'nats', 'NATS JetStream', 'enabled', ${at}, ${at})
      on conflict (target_id) do update set state = 'enabled', disabled_reason = null, updated_at = ${at}
      where notification_targets.state <> 'enabled'`.execute(this.db);
  }

  async delivered(keys: DeliveryKey[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    await sql`
      update notification_deliveries as d
      set state = 'delivered', delivered_at = ${at}, attempts = d.attempts + 1, last_error = null
      from ${keyColumns(keys)}
      where d.customer_id = k.customer_id and d.notification_id = k.notification_id and d.target_id = k.target_id`.execute(
      this.db,
    );
  }

  async failed(failures: DeliveryFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await sql`
      update notification_deliveries as d
      set attempts = d.attempts + 1, last_error = f.error,
          state = case when f.next_attempt_at is null then 'dead' else 'pending' end,
          next_attempt_at = coalesce(f.next_attempt_at, d.next_attempt_at)
      from unnest(${failures.map((f) => f.key.customerId)}::text[], ${failures.map((f) => f.key.notificationId)}::text[],
                  ${failures.map((f) => f.key.targetId)}::text[], ${failures.map((f) => f.nextAttemptAt?.toISOString() ?? null)}::timestamptz[],
                  ${failures.map((f) => f.error.slice(0, 2000))}::text[])
        as f (customer_id, notification_id, target_id, next_attempt_at, error)
      where d.customer_id = f.customer_id and d.notification_id = f.notification_id and d.target_id = f.target_id`.execute(
      this.db,
    );
  }

  async release(untried: { key: DeliveryKey; at: Date }[]): Promise<void> {
    if (untried.length === 0) return;
    await sql`
      update notification_deliveries as d set next_attempt_at = k.at
      from unnest(${untried.map((u) => u.key.customerId)}::text[], ${untried.map((u) => u.key.notificationId)}::text[],
                  ${untried.map((u) => u.key.targetId)}::text[], ${untried.map((u) => u.at.toISOString())}::timestamptz[])
        as k (customer_id, notification_id, target_id, at)
      where d.customer_id = k.customer_id and d.notification_id = k.notification_id and d.target_id = k.target_id
        and d.state = 'pending'`.execute(this.db);
  }

  async targetFailed(
    targetId: string,
    at: Date,
    disableIfFailingBefore: Date | null,
    reason: string,
  ): Promise<boolean> {
    // updated_at moves only when the state does: it tells when the subscription last changed.
    const disable = sql`${disableIfFailingBefore}::timestamptz is not null and state = 'enabled'
      and failing_since < ${disableIfFailingBefore}::timestamptz`;
    const result = await sql<{ disabled: boolean }>`
      update notification_targets
      set failing_since = coalesce(failing_since, ${at}),
          state = case when ${disable} then 'disabled' else state end,
          disabled_reason = case when ${disable} then ${reason} else disabled_reason end,
          updated_at = case when ${disable} then ${at} else updated_at end
      where target_id = ${targetId}
      returning state = 'disabled' and disabled_reason = ${reason} as disabled`.execute(this.db);
    return result.rows[0]?.disabled ?? false;
  }

  async targetsSucceeded(targetIds: string[]): Promise<void> {
    if (targetIds.length === 0) return;
    // Only a target that was failing is written: a success is not a write per delivery.
    await sql`
      update notification_targets set failing_since = null
      where target_id = any (${targetIds}::text[]) and failing_since is not null`.execute(this.db);
  }

  async backlog(): Promise<{ kind: TargetKind; count: number; oldest: Date | null }[]> {
    const result = await sql<{ kind: TargetKind; count: string | number; oldest: Date | string | null }>`
      select t.kind, count(d.target_id) as count, min(d.since) as oldest
      from (values ('webhook'), ('nats')) as t0 (kind)
        left join notification_targets as t on t.kind = t0.kind and t.state = 'enabled'
        left join notification_deliveries as d on d.target_id = t.target_id and d.state = 'pending'
      group by t0.kind, t.kind`.execute(this.db);
    return result.rows
      .filter((r) => r.kind !== null)
      .map((r) => ({ kind: r.kind, count: Number(r.count), oldest: r.oldest ? new Date(r.oldest) : null }));
  }

  /**
   * A page of the available lots that need an expiry notice now (R31), in expiry order after
   * `after`: the expiry index read forward, so the run reads each lot of the window once.
   */
  async lotsToNotifyOfExpiry(now: Date, after: ExpiryCursor | null, limit: number): Promise<ExpiringLot[]> {
    const result = await sql<{ customer_id: string; lot_id: string; expires_at: Date }>`
      select l.customer_id, l.lot_id, l.expires_at from lots as l
      where l.state = 'available' and l.remaining > 0 and l.amount > 0
        and l.expires_at > ${now} and l.expires_at <= ${now}::timestamptz + ${MAX_NOTICE_DAYS} * interval '1 day'
        and (${after?.expiresAt ?? null}::timestamptz is null
             or (l.expires_at, l.lot_id) > (${after?.expiresAt ?? null}::timestamptz, ${after?.lotId ?? null}::text))
        and not exists (
          select 1 from notifications as n
          where n.customer_id = l.customer_id and n.lot_id = l.lot_id
            and n.threshold_days <= ${thresholdOf("l.expires_at", now)})
      order by l.expires_at, l.lot_id
      limit ${limit}`.execute(this.db);
    return result.rows.map((r) => ({
      customerId: r.customer_id,
      lotId: r.lot_id,
      expiresAt: new Date(r.expires_at),
    }));
  }

  /**
   * `write_expiry_notices` (R31): for these customers, one `points.expiring` notification per
   * available lot and threshold — the smallest of EXPIRY_NOTICE_DAYS its expiry is within, so a lot
   * first seen 5 days before it expires gets the 7-day notice only — with its deliveries. Ids are
   * `idBlock` (IdGenerator.newIdBlock) and an ordinal. The lot's points are its remainder now.
   */
  async writeExpiryNotices(customers: string[], now: Date, idBlock: string): Promise<number> {
    const result = await sql<{ written: string | number }>`
      with
        due as (
          select l.customer_id, l.lot_id, l.kind, l.remaining, l.expires_at, l.reference,
                 ${thresholdOf("l.expires_at", now)} as threshold_days
          from unnest(${customers}::text[]) as c (customer_id)
            join lots as l on l.customer_id = c.customer_id
          where l.state = 'available' and l.remaining > 0 and l.amount > 0
            and l.expires_at > ${now} and l.expires_at <= ${now}::timestamptz + ${MAX_NOTICE_DAYS} * interval '1 day'),
        fresh as (
          select due.*, row_number() over (order by customer_id, expires_at, lot_id) as n from due
          where not exists (
            select 1 from notifications as x
            where x.customer_id = due.customer_id and x.lot_id = due.lot_id and x.threshold_days <= due.threshold_days)),
        notices as (
          select customer_id, ${idBlock} || ${base32("n", ID_BLOCK_DIGITS)} as notification_id,
                 'points.expiring' as type, kind, remaining as amount, reference, null::text as movement_id, lot_id,
                 threshold_days::smallint, expires_at as lot_expires_at,
                 ${EXPLANATION_CODES.expiring_soon}::smallint as explanation_code,
                 -- explainExpiringSoon's params, as JSON.stringify writes them.
                 ('[' || remaining || ',' || ${isoJson("expires_at")} || ',' || threshold_days || ']')::json
                   as explanation_params,
                 ${now}::timestamptz as occurred_at, ${now}::timestamptz as created_at
          from fresh),
        ${notificationWrites(sql`select * from notices`)}
      select (select count(*) from notification_rows) as written`.execute(this.db);
    return Number(result.rows[0]?.written ?? 0);
  }

  /**
   * The retention sweep: notifications older than `cutoff`, a batch at a time, their deliveries and
   * dead letters with them — but none an enabled target has still pending (its relays were down for
   * longer than the retention), and no expiry notice before its lot has expired (the lot would be
   * announced again).
   */
  async sweep(cutoff: Date, now: Date, limit: number): Promise<number> {
    const result = await sql`
      delete from notifications as n
      using (
        select customer_id, notification_id from notifications as o
        where o.created_at < ${cutoff} and (o.lot_expires_at is null or o.lot_expires_at <= ${now})
          and not exists (
            select 1 from notification_deliveries as d
            where d.customer_id = o.customer_id and d.notification_id = o.notification_id and d.state = 'pending'
              and d.target_id in (select target_id from notification_targets where state = 'enabled'))
        order by o.created_at
        limit ${limit}) as old
      where n.customer_id = old.customer_id and n.notification_id = old.notification_id`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }
}

/** The smallest notice threshold (days) an expiry at `column` is within at `now`. */
function thresholdOf(column: string, now: Date) {
  return sql`(select min(d) from unnest(${[...EXPIRY_NOTICE_DAYS]}::int[]) as d
              where ${sql.raw(column)} <= ${now}::timestamptz + d * interval '1 day')`;
}
