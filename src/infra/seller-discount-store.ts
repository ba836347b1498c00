import { type Kysely, sql, type Transaction } from "kysely";
import type { CustomerWrite, IdGenerator, KeyedWriteRun } from "../app/ports.js";
import type {
  SellerDiscountStore,
  SellerDiscountWrites,
  StoredSellerDiscount,
} from "../app/seller-discounts/ports.js";
import type { LoyaltyCondition } from "../domain/seller-discounts/index.js";
import { combineSellerStatsDeltas, type SellerStatsCounts } from "../domain/seller-discounts/stats.js";
import type { LocalizedText } from "../domain/text.js";
import { insertAudit, keyedWrite } from "./global-idempotency.js";
import type { Database } from "./schema.js";
import { TtlCache } from "./ttl-cache.js";

/** A stable seed for the advisory locks of one seller's discount writes. */
const SELLER_LOCK_SEED = 2_711_270_027;
/** How long a seller's discounts are quoted from memory, and how many sellers are remembered. */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX_SELLERS = 100_000;

type DiscountRow = Database["seller_discounts"];

function discountOf(r: DiscountRow): StoredSellerDiscount {
  return {
    sellerId: r.seller_id,
    discountId: r.discount_id,
    version: r.current_version,
    percentBp: r.percent_bp,
    condition: r.condition as LoyaltyCondition,
    name: (r.name ?? null) as LocalizedText | null,
    endedAt: r.ended_at === null ? null : new Date(r.ended_at),
    createdAt: new Date(r.created_at),
    createdBy: r.created_by,
    updatedAt: new Date(r.updated_at),
  };
}

/**
 * R27's SQL (migration 18): the discounts and their append-only versions, the stored answers of the
 * routes that change them (migration 14 `global_idempotency`, as campaigns), and the customers'
 * statistics with sellers, written by `writeSellerStats` in the customer's own order work.
 */
export class PostgresSellerDiscountStore implements SellerDiscountStore {
  /** The discounts in force by seller (an empty list too: most sellers have none). */
  private readonly cache = new TtlCache<string, StoredSellerDiscount[]>(CACHE_TTL_MS, CACHE_MAX_SELLERS);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ids: IdGenerator,
  ) {}

  readonly keyed: KeyedWriteRun<SellerDiscountWrites> = (scope, subject, request, at, write) =>
    keyedWrite(this.db, scope, subject, request, at, (trx) => write(this.writes(trx, request.actor, at)));

  private writes(trx: Transaction<Database>, actor: string, at: Date): SellerDiscountWrites {
    return {
      lockSeller: async (sellerId) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${sellerId}, ${SELLER_LOCK_SEED}))`.execute(
          trx,
        );
      },
      find: async (sellerId, discountId) => {
        const row = await trx
          .selectFrom("seller_discounts")
          .selectAll()
          .where("seller_id", "=", sellerId)
          .where("discount_id", "=", discountId)
          .forUpdate()
          .executeTakeFirst();
        return row && discountOf(row);
      },
      countInForce: async (sellerId) => {
        const row = await trx
          .selectFrom("seller_discounts")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("seller_id", "=", sellerId)
          .where("ended_at", "is", null)
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
      save: async (d) => {
        const definition = {
          percent_bp: d.percentBp,
          condition: JSON.stringify(d.condition),
          name: d.name === null ? null : JSON.stringify(d.name),
        };
        await trx
          .insertInto("seller_discounts")
          .values({
            seller_id: d.sellerId,
            discount_id: d.discountId,
            current_version: d.version,
            ...definition,
            ended_at: d.endedAt,
            created_at: d.createdAt,
            created_by: d.createdBy,
            updated_at: d.updatedAt,
          })
          .onConflict((oc) =>
            oc.columns(["seller_id", "discount_id"]).doUpdateSet({
              current_version: d.version,
              ...definition,
              ended_at: d.endedAt,
              updated_at: d.updatedAt,
            }),
          )
          .execute();
        await trx
          .insertInto("seller_discount_versions")
          .values({
            seller_id: d.sellerId,
            discount_id: d.discountId,
            version: d.version,
            ...definition,
            ended: d.endedAt !== null,
            created_at: d.updatedAt,
            created_by: actor,
          })
          .execute();
      },
      audit: (entry) =>
        insertAudit(trx, {
          ...entry,
          auditId: this.ids.newId("aud"),
          actor,
          subject: `seller_discount:${entry.subject}`,
          at,
        }),
    };
  }

  /**
   * `seller_discounts_in_force`: the sellers not in the cache, in one statement by the partial index;
   * each seller's by id.
   */
  async inForce(sellerIds: readonly string[]): Promise<StoredSellerDiscount[]> {
    const missing = sellerIds.filter((s) => !this.cache.get(s));
    if (missing.length > 0) {
      const rows = await this.db
        .selectFrom("seller_discounts")
        .selectAll()
        .where("seller_id", "=", sql<string>`any(${missing}::text[])`)
        .where("ended_at", "is", null)
        .orderBy("seller_id")
        .orderBy("discount_id")
        .execute();
      const found = new Map<string, StoredSellerDiscount[]>(missing.map((s) => [s, []]));
      for (const r of rows) found.get(r.seller_id)?.push(discountOf(r));
      for (const [sellerId, list] of found) this.cache.set(sellerId, list);
    }
    return sellerIds.flatMap((s) => this.cache.get(s)?.value ?? []);
  }

  invalidate(sellerId: string): void {
    this.cache.delete(sellerId);
  }

  /** `customer_seller_stats_of`: one primary-key probe per (customer, seller), in one statement. */
  async statsOf(customerId: string, sellerIds: readonly string[]): Promise<Map<string, SellerStatsCounts>> {
    const rows = await this.db
      .selectFrom("customer_seller_stats")
      .selectAll()
      .where("customer_id", "=", customerId)
      .where("seller_id", "=", sql<string>`any(${sellerIds}::text[])`)
      .execute();
    return new Map(
      rows.map((r) => [
        r.seller_id,
        { pointsKop: Number(r.points_kop), month: r.units_month, units: Number(r.units) },
      ]),
    );
  }
}

/**
 * `write_seller_stats`: R27's statistics changes of the transaction's order events, one statement for
 * all of them (folded per customer and seller first, as addSellerStats folds them). The update is
 * addSellerStats in SQL — points add; units add within the stored month, a later month starts over,
 * an earlier one is dropped — and never goes below zero (orders shipped before migration 18 were not
 * counted, so their returns have nothing to take back).
 */
export async function writeSellerStats(trx: Transaction<Database>, writes: CustomerWrite[]): Promise<void> {
  const rows = writes.flatMap((w) =>
    w.sellerStats && w.sellerStats.length > 0 ? [{ customerId: w.customerId, deltas: w.sellerStats }] : [],
  );
  if (rows.length === 0) return;
  const byCustomer = new Map<string, CustomerWrite["sellerStats"] & object>();
  for (const r of rows) byCustomer.set(r.customerId, [...(byCustomer.get(r.customerId) ?? []), ...r.deltas]);
  const deltas = [...byCustomer].flatMap(([customer_id, list]) =>
    combineSellerStatsDeltas(list).map((d) => ({
      customer_id,
      seller_id: d.sellerId,
      points_kop: d.pointsKop,
      units_month: d.month,
      units: d.units,
    })),
  );
  // An update of the rows there are and an insert of the others, not an upsert: a CHECK applies to
  // the row an insert proposes, and a change may be negative. The customers' rows are locked by the
  // work (src/app/group-commit.ts), so no other transaction inserts these keys meanwhile.
  await sql`
    with
      delta as (
        select * from jsonb_to_recordset(${JSON.stringify(deltas)}::jsonb)
          as x(customer_id text, seller_id text, points_kop bigint, units_month text, units bigint)),
      updated as (
        update customer_seller_stats as s set
          points_kop = greatest(s.points_kop + d.points_kop, 0),
          units_month = greatest(s.units_month, d.units_month),
          units = case
            when d.units_month > s.units_month then greatest(d.units, 0)
            when d.units_month = s.units_month then greatest(s.units + d.units, 0)
            else s.units end
        from delta as d
        where s.customer_id = d.customer_id and s.seller_id = d.seller_id
        returning s.customer_id, s.seller_id)
    insert into customer_seller_stats (customer_id, seller_id, points_kop, units_month, units)
    select d.customer_id, d.seller_id, greatest(d.points_kop, 0), d.units_month, greatest(d.units, 0)
    from delta as d
    where not exists (select 1 from updated as u
                      where u.customer_id = d.customer_id and u.seller_id = d.seller_id)`.execute(trx);
}
