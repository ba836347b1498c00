import { type Kysely, sql } from "kysely";
import type { ConfigVersionRecord, IdGenerator, OrderStore, WaitingEvent } from "../app/ports.js";
import type { ReferredOrder } from "../domain/managers/index.js";
import type { Order, ProgrammeConfig } from "../domain/orders/index.js";
import { type OrderRow, orderFromRows, type PlacedLine } from "./order-rows.js";
import { referredOrderOf } from "./programme-store.js";
import type { Database } from "./schema.js";

/** An arbitrary constant: the lock that numbers configuration versions one at a time. */
const CONFIG_VERSION_LOCK = 7_281_144_002;

interface WaitingRow {
  customer_id: string;
  order_id: string;
  event_id: string;
  type: string;
  sequence: number | null;
  waiting_for: string | null;
  waiting_for_sequence: number | null;
  received_at: Date;
}

/** The columns a waiting event is shown with; events parked before migration 6 name only their sequence. */
const WAITING_COLUMNS = sql`customer_id, order_id, event_id, event ->> 'type' as type, sequence,
  outcome::json ->> 'waitingFor' as waiting_for, (outcome::json ->> 'waitingForSequence')::integer as waiting_for_sequence,
  received_at`;

function waitingFromRow(r: WaitingRow): WaitingEvent {
  return {
    customerId: r.customer_id,
    orderId: r.order_id,
    eventId: r.event_id,
    type: r.type,
    sequence: r.sequence,
    waitingFor: r.waiting_for ?? `sequence ${r.waiting_for_sequence} of order ${r.order_id}`,
    receivedAt: r.received_at,
  };
}

function versionFromRow(r: Database["programme_config_versions"]): ConfigVersionRecord {
  return {
    version: r.version,
    effectiveFrom: r.effective_from,
    config: r.config as ProgrammeConfig,
    previousConfig: r.previous_config as ProgrammeConfig,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export class PostgresOrderStore implements OrderStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

  async readOrder(customerId: string, orderId: string): Promise<Order | undefined> {
    const row = await this.db
      .selectFrom("orders")
      .innerJoin("order_lines", (join) =>
        join
          .onRef("order_lines.customer_id", "=", "orders.customer_id")
          .onRef("order_lines.order_id", "=", "orders.order_id"),
      )
      .selectAll("orders")
      .select("order_lines.lines")
      .where("orders.customer_id", "=", customerId)
      .where("orders.order_id", "=", orderId)
      .executeTakeFirst();
    if (!row) return undefined;
    const { lines, ...order } = row;
    return orderFromRows(order as OrderRow, lines as PlacedLine[]);
  }

  async referredOrder(customerId: string, orderId: string): Promise<ReferredOrder | undefined> {
    const { rows } = await sql<Record<string, unknown> & { customer_id: string }>`
      select * from referred_orders where customer_id = ${customerId} and order_id = ${orderId}`.execute(
      this.db,
    );
    return rows[0] && referredOrderOf(rows[0]);
  }

  async waitingEventsOf(customerId: string, orderId: string): Promise<WaitingEvent[]> {
    const { rows } = await sql<WaitingRow>`
      select ${WAITING_COLUMNS} from order_events
      where customer_id = ${customerId} and order_id = ${orderId} and status = 'parked'
      order by received_at, event_id`.execute(this.db);
    return rows.map(waitingFromRow);
  }

  /** `waiting_events_page`: keyset pagination over the `order_events_waiting` index. */
  async waitingEvents(query: {
    before: Date;
    limit: number;
    after?: { receivedAt: Date; customerId: string; eventId: string } | undefined;
  }): Promise<WaitingEvent[]> {
    const after = query.after;
    const { rows } = await sql<WaitingRow>`
      select ${WAITING_COLUMNS} from order_events
      where status = 'parked' and received_at < ${query.before}
        ${after ? sql`and (received_at, customer_id, event_id) > (${after.receivedAt}, ${after.customerId}, ${after.eventId})` : sql``}
      order by received_at, customer_id, event_id
      limit ${query.limit}`.execute(this.db);
    return rows.map(waitingFromRow);
  }

  async waitingSummary(): Promise<{ count: number; oldestReceivedAt: Date | null }> {
    const { rows } = await sql<{ count: number; oldest: Date | null }>`
      select count(*)::bigint as count, min(received_at) as oldest from order_events where status = 'parked'`.execute(
      this.db,
    );
    return { count: Number(rows[0]?.count ?? 0), oldestReceivedAt: rows[0]?.oldest ?? null };
  }

  async configVersions(): Promise<ConfigVersionRecord[]> {
    const rows = await this.db
      .selectFrom("programme_config_versions")
      .selectAll()
      .orderBy("version")
      .execute();
    return rows.map(versionFromRow);
  }

  addConfigVersion(
    request: { idempotencyKey: string; fingerprint: string },
    build: (latest: ConfigVersionRecord | undefined) => Omit<ConfigVersionRecord, "version"> | string,
  ) {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${CONFIG_VERSION_LOCK})`.execute(trx);
      const seen = await trx
        .selectFrom("programme_config_versions")
        .selectAll()
        .where("idempotency_key", "=", request.idempotencyKey)
        .executeTakeFirst();
      if (seen) {
        return seen.fingerprint === request.fingerprint
          ? { record: versionFromRow(seen), replayed: true }
          : { refusal: "this Idempotency-Key was used with a different request", conflict: true };
      }
      const latestRow = await trx
        .selectFrom("programme_config_versions")
        .selectAll()
        .orderBy("version", "desc")
        .limit(1)
        .executeTakeFirst();
      const latest = latestRow && versionFromRow(latestRow);
      const next = build(latest);
      if (typeof next === "string") return { refusal: next, conflict: false };
      const record: ConfigVersionRecord = { ...next, version: (latest?.version ?? 0) + 1 };
      await trx
        .insertInto("programme_config_versions")
        .values({
          version: record.version,
          effective_from: record.effectiveFrom,
          config: JSON.stringify(record.config),
          previous_config: JSON.stringify(record.previousConfig),
          reason: record.reason,
          created_by: record.createdBy,
          created_at: record.createdAt,
          idempotency_key: request.idempotencyKey,
          fingerprint: request.fingerprint,
        })
        .execute();
      await trx
        .insertInto("audit_log")
        .values({
          audit_id: this.ids.newId("aud"),
          actor: record.createdBy,
          action: "programme_config.add_version",
          subject: `version:${record.version}`,
          before: JSON.stringify(record.previousConfig),
          after: JSON.stringify(record.config),
          at: record.createdAt,
        })
        .execute();
      return { record, replayed: false };
    });
  }

  async sellerPoints(pairs: readonly { sellerId: string; sku: string }[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (pairs.length === 0) return result;
    const rows = await sql<{ seller_id: string; sku: string; points_per_unit: number }>`
      select p.seller_id, p.sku, p.points_per_unit
      from seller_product_points p
      join unnest(${pairs.map((p) => p.sellerId)}::text[], ${pairs.map((p) => p.sku)}::text[]) as wanted(seller_id, sku)
        on wanted.seller_id = p.seller_id and wanted.sku = p.sku`.execute(this.db);
    for (const r of rows.rows) result.set(`${r.seller_id}\u0000${r.sku}`, r.points_per_unit);
    return result;
  }

  setSellerPoints(input: { sellerId: string; sku: string; pointsPerUnit: number; actor: string; at: Date }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom("seller_product_points")
        .select("points_per_unit")
        .where("seller_id", "=", input.sellerId)
        .where("sku", "=", input.sku)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .insertInto("seller_product_points")
        .values({
          seller_id: input.sellerId,
          sku: input.sku,
          points_per_unit: input.pointsPerUnit,
          updated_by: input.actor,
          updated_at: input.at,
        })
        .onConflict((oc) =>
          oc.columns(["seller_id", "sku"]).doUpdateSet((eb) => ({
            points_per_unit: eb.ref("excluded.points_per_unit"),
            updated_by: eb.ref("excluded.updated_by"),
            updated_at: eb.ref("excluded.updated_at"),
          })),
        )
        .execute();
      await trx
        .insertInto("audit_log")
        .values({
          audit_id: this.ids.newId("aud"),
          actor: input.actor,
          action: "seller_points.set",
          subject: `seller:${input.sellerId}/sku:${input.sku}`,
          before: before ? JSON.stringify({ pointsPerUnit: before.points_per_unit }) : null,
          after: JSON.stringify({ pointsPerUnit: input.pointsPerUnit }),
          at: input.at,
        })
        .execute();
      return { previous: before?.points_per_unit ?? null };
    });
  }
}
