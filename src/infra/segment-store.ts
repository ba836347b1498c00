import { type Kysely, sql, type Transaction } from "kysely";
import type { CustomerWrite, IdGenerator, KeyedWriteRun } from "../app/ports.js";
import type { CustomerFacts, SegmentStore, SegmentWrites, StoredSegment } from "../app/segments/ports.js";
import type { OrderDay } from "../domain/segments/stats.js";
import { insertAudit, keyedWrite } from "./global-idempotency.js";
import type { Database } from "./schema.js";

/**
 * R29's SQL (migration 19): segment definitions with their append-only versions, and the customers'
 * orders by day, written by `writeOrderDays` in the customer's own order work and read over the
 * window of the statistics.
 */

type SegmentRow = {
  segment_id: string;
  current_version: number;
  definition: unknown;
  created_at: Date;
  created_by: string;
  updated_at: Date;
};

function segmentOf(r: SegmentRow): StoredSegment {
  const definition = (
    typeof r.definition === "string" ? JSON.parse(r.definition) : r.definition
  ) as StoredSegment["definition"];
  return {
    segmentId: r.segment_id,
    version: r.current_version,
    definition,
    createdAt: new Date(r.created_at),
    createdBy: r.created_by,
    updatedAt: new Date(r.updated_at),
  };
}

/** `current_segments`: each segment with its current version's definition. */
function currentSegments(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom("segments as s")
    .innerJoin("segment_versions as v", (j) =>
      j.onRef("v.segment_id", "=", "s.segment_id").onRef("v.version", "=", "s.current_version"),
    )
    .select([
      "s.segment_id",
      "s.current_version",
      "v.definition",
      "s.created_at",
      "s.created_by",
      "s.updated_at",
    ]);
}

type DayRow = {
  customer_id: string;
  day: string;
  orders: number;
  total_kop: string;
  card_orders: number;
  savings_orders: number;
};

const dayOf = (r: DayRow): OrderDay => ({
  day: r.day,
  orders: Number(r.orders),
  totalKop: Number(r.total_kop),
  cardOrders: Number(r.card_orders),
  savingsOrders: Number(r.savings_orders),
});

export class PostgresSegmentStore implements SegmentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

  readonly keyed: KeyedWriteRun<SegmentWrites> = (scope, subject, request, at, write) =>
    keyedWrite(this.db, scope, subject, request, at, (trx) => write(this.writes(trx, request.actor, at)));

  private writes(trx: Transaction<Database>, actor: string, at: Date): SegmentWrites {
    return {
      lock: async (segmentId) => {
        const row = await currentSegments(trx)
          .where("s.segment_id", "=", segmentId)
          .forUpdate("s")
          .executeTakeFirst();
        return row && segmentOf(row as SegmentRow);
      },
      save: async (segment) => {
        // The segment first: its versions reference it.
        await sql`
          insert into segments (segment_id, current_version, created_at, created_by, updated_at)
          values (${segment.segmentId}, ${segment.version}, ${segment.createdAt}, ${segment.createdBy}, ${segment.updatedAt})
          on conflict (segment_id) do update
            set current_version = excluded.current_version, updated_at = excluded.updated_at`.execute(trx);
        await trx
          .insertInto("segment_versions")
          .values({
            segment_id: segment.segmentId,
            version: segment.version,
            definition: JSON.stringify(segment.definition),
            created_at: segment.updatedAt,
            created_by: actor,
          })
          .execute();
      },
      audit: (entry) =>
        insertAudit(trx, {
          ...entry,
          auditId: this.ids.newId("aud"),
          actor,
          subject: `segment:${entry.subject}`,
          at,
        }),
    };
  }

  async find(segmentId: string): Promise<StoredSegment | undefined> {
    const row = await currentSegments(this.db).where("s.segment_id", "=", segmentId).executeTakeFirst();
    return row && segmentOf(row as SegmentRow);
  }

  async all(): Promise<StoredSegment[]> {
    const rows = await currentSegments(this.db).orderBy("s.segment_id").execute();
    return rows.map((r) => segmentOf(r as SegmentRow));
  }

  /**
   * `customer_facts`: customers (those named, or a page by id after `after`), each with its order
   * days from `fromDay`, its available points (the balance cache), whether it holds savings points,
   * and whether it is Premium at `at` — one statement, index probes per customer.
   */
  async customerFacts(
    query: { fromDay: string; at: Date } & (
      | { customerIds: readonly string[] }
      | { after: string | null; limit: number }
    ),
  ): Promise<CustomerFacts[]> {
    const which =
      "customerIds" in query
        ? sql`c.customer_id = any(${[...query.customerIds]}::text[]) order by c.customer_id`
        : sql`${query.after === null ? sql`true` : sql`c.customer_id > ${query.after}`} order by c.customer_id limit ${query.limit}`;
    const result = await sql<{
      customer_id: string;
      days: DayRow[];
      available: string | null;
      savings: string | null;
      premium: boolean;
    }>`
      select c.customer_id,
        coalesce((select json_agg(json_build_object('customer_id', d.customer_id, 'day', to_char(d.day, 'YYYY-MM-DD'),
                    'orders', d.orders, 'total_kop', d.total_kop, 'card_orders', d.card_orders,
                    'savings_orders', d.savings_orders))
                  from customer_order_days as d
                  where d.customer_id = c.customer_id and d.day >= ${query.fromDay}::date), '[]') as days,
        (select sum(b.available) from balances as b where b.customer_id = c.customer_id) as available,
        (select b.available + b.pending from balances as b where b.customer_id = c.customer_id and b.kind = 'savings') as savings,
        exists (select 1 from premium_coverage as p
                where p.customer_id = c.customer_id and p.starts_at <= ${query.at} and p.ends_at > ${query.at}) as premium
      from customers as c
      where ${which}`.execute(this.db);
    return result.rows.map((r) => ({
      customerId: r.customer_id,
      days: r.days.map(dayOf),
      balancePoints: Number(r.available ?? 0),
      holdsSavings: Number(r.savings ?? 0) > 0,
      premium: r.premium,
    }));
  }
}

/**
 * `add_order_days`: the changes of a transaction's works to their customers' order days, folded per
 * (customer, day), added in one statement. Never below zero: an order placed before migration 19 was
 * not counted, so its cancellation has nothing to take off.
 */
export async function writeOrderDays(trx: Transaction<Database>, writes: CustomerWrite[]): Promise<void> {
  const sums = new Map<string, { customer_id: string } & { [K in keyof OrderDay]: OrderDay[K] }>();
  for (const w of writes)
    for (const d of w.orderDays ?? []) {
      const key = `${w.customerId}\u0000${d.day}`;
      const prior = sums.get(key);
      sums.set(key, {
        customer_id: w.customerId,
        day: d.day,
        orders: (prior?.orders ?? 0) + d.orders,
        totalKop: (prior?.totalKop ?? 0) + d.totalKop,
        cardOrders: (prior?.cardOrders ?? 0) + d.cardOrders,
        savingsOrders: (prior?.savingsOrders ?? 0) + d.savingsOrders,
      });
    }
  const rows = [...sums.values()].filter((r) => r.orders !== 0 || r.totalKop !== 0);
  if (rows.length === 0) return;
  await sql`
    with
      x as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
          customer_id text, day date, orders integer, "totalKop" bigint, "cardOrders" integer, "savingsOrders" integer)),
      updated as (
        update customer_order_days as d set
          orders = greatest(0, d.orders + x.orders),
          total_kop = greatest(0, d.total_kop + x."totalKop"),
          card_orders = greatest(0, d.card_orders + x."cardOrders"),
          savings_orders = greatest(0, d.savings_orders + x."savingsOrders")
        from x where d.customer_id = x.customer_id and d.day = x.day
        returning d.customer_id, d.day)
    insert into customer_order_days (customer_id, day, orders, total_kop, card_orders, savings_orders)
    select x.customer_id, x.day, x.orders, x."totalKop", greatest(0, x."cardOrders"), greatest(0, x."savingsOrders")
    from x
    where x.orders > 0 and x."totalKop" >= 0
      and not exists (select 1 from updated as u where u.customer_id = x.customer_id and u.day = x.day)`.execute(
    trx,
  );
}
