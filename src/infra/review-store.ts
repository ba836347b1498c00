import { type Kysely, sql, type Transaction } from "kysely";
import type {
  BudgetReservation,
  CustomerLoad,
  CustomerState,
  CustomerWrite,
  ReviewBudget,
  ReviewStore,
  StoredReview,
  UnmoderatedReview,
} from "../app/ports.js";
import { type BudgetSlice, budgetSummary, type Review, sliceShares } from "../domain/reviews/index.js";
import { type LotRow, lotFromRow } from "./ledger-store.js";
import type { Database } from "./schema.js";

/** R22 reviews' SQL: what a customer's review work loads and writes, and the operators' list. */

type ReviewRow = {
  [K in keyof Database["reviews"]]: Database["reviews"][K] extends Date
    ? string
    : Database["reviews"][K] extends Date | null
      ? string | null
      : Database["reviews"][K];
};

function reviewFromRow(r: ReviewRow): StoredReview {
  const review: Review = {
    reviewId: r.review_id,
    customerId: r.customer_id,
    sku: r.sku,
    sellerId: r.seller_id,
    orderId: r.order_id,
    textLength: r.text_length,
    photoCount: r.photo_count,
    submittedAt: new Date(r.submitted_at),
    status: r.status as Review["status"],
    points: r.points,
    funder: r.funder,
    budgetTakes: JSON.parse(r.budget_takes) as Review["budgetTakes"],
    lotId: r.lot_id,
    notRewardedReason: r.not_rewarded_reason as Review["notRewardedReason"],
    moderatedBy: r.moderated_by,
    moderatedAt: r.moderated_at === null ? null : new Date(r.moderated_at),
  };
  return { review, fingerprint: r.fingerprint, outcome: JSON.parse(r.outcome), requestId: r.request_id };
}

/**
 * `customers_reviews`, one statement, only for work that names reviews: reviews by id with the lots
 * their points wait in, and per (customer, product) the review that holds its one reward (a probe of
 * `reviews_one_reward_per_product`). Lots are added to the working sets they belong to.
 */
export async function loadReviews(
  db: Kysely<Database> | Transaction<Database>,
  requests: CustomerLoad[],
  states: Map<string, CustomerState>,
): Promise<void> {
  const byId = requests.flatMap((r) => (r.reviewIds ?? []).map((id) => [r.customerId, id] as const));
  const bySku = requests.flatMap((r) => (r.reviewSkus ?? []).map((sku) => [r.customerId, sku] as const));
  const sellers = requests.flatMap((r) =>
    (r.reviewBudgetSellers ?? []).map((s) => [r.customerId, s] as const),
  );
  const result = await sql<{
    by_id: ReviewRow[];
    rewarded: ReviewRow[];
    lots: LotRow[];
    budgets: { customer_id: string; seller_id: string; slice: number; funded: number; reserved: number }[];
  }>`
    with
      by_id as (
        select x.* from unnest(${byId.map((p) => p[0])}::text[], ${byId.map((p) => p[1])}::text[])
          as w (customer_id, review_id)
          cross join lateral (
            select * from reviews
            where reviews.customer_id = w.customer_id and reviews.review_id = w.review_id limit 1) as x),
      rewarded as (
        select x.* from unnest(${bySku.map((p) => p[0])}::text[], ${bySku.map((p) => p[1])}::text[])
          as w (customer_id, sku)
          cross join lateral (
            select * from reviews
            where reviews.customer_id = w.customer_id and reviews.sku = w.sku
              and reviews.points > 0 and reviews.status in ('awaiting', 'approved') limit 1) as x)
    select
      (select coalesce(json_agg(by_id), '[]') from by_id) as by_id,
      (select coalesce(json_agg(rewarded), '[]') from rewarded) as rewarded,
      (select coalesce(json_agg(l), '[]') from by_id
         cross join lateral (
           select * from lots where lots.customer_id = by_id.customer_id and lots.lot_id = by_id.lot_id limit 1) as l
      ) as lots,
      (select coalesce(json_agg(json_build_object('customer_id', w.customer_id, 'seller_id', b.seller_id,
                 'slice', b.slice, 'funded', b.funded, 'reserved', b.reserved)), '[]')
         from unnest(${sellers.map((p) => p[0])}::text[], ${sellers.map((p) => p[1])}::text[])
           as w (customer_id, seller_id)
         join review_budget_slices as b on b.seller_id = w.seller_id) as budgets`.execute(db);
  const row = result.rows[0];
  if (!row) return;
  for (const r of [...row.by_id, ...row.rewarded]) {
    const state = states.get(r.customer_id);
    if (state && !state.reviews.some((s) => s.review.reviewId === r.review_id))
      state.reviews.push(reviewFromRow(r));
  }
  for (const b of row.budgets) {
    const budgets = states.get(b.customer_id)?.reviewBudgets;
    if (!budgets) continue;
    const slice: BudgetSlice = { slice: b.slice, funded: Number(b.funded), reserved: Number(b.reserved) };
    budgets.set(b.seller_id, [...(budgets.get(b.seller_id) ?? []), slice]);
  }
  for (const l of row.lots) {
    const state = states.get(l.customer_id);
    if (state && !state.ledger.lots.some((x) => x.lotId === l.lot_id)) state.ledger.lots.push(lotFromRow(l));
  }
}

/** The customers' recorded and moderated reviews, one statement; a review's report never changes. */
export async function writeReviews(
  trx: Transaction<Database>,
  writes: CustomerWrite[],
  at: Date,
): Promise<void> {
  const rows = new Map<string, Record<string, unknown>>();
  for (const w of writes) {
    for (const { review: r, fingerprint, outcome, requestId } of w.reviews ?? []) {
      // Several works of one customer in one group may change a review: the last state wins.
      rows.set(`${w.customerId}\u0000${r.reviewId}`, {
        customer_id: w.customerId,
        review_id: r.reviewId,
        sku: r.sku,
        seller_id: r.sellerId,
        order_id: r.orderId,
        text_length: r.textLength,
        photo_count: r.photoCount,
        submitted_at: r.submittedAt,
        status: r.status,
        points: r.points,
        funder: r.funder,
        budget_takes: JSON.stringify(r.budgetTakes),
        lot_id: r.lotId,
        not_rewarded_reason: r.notRewardedReason,
        moderated_by: r.moderatedBy,
        moderated_at: r.moderatedAt,
        fingerprint,
        outcome: JSON.stringify(outcome),
        request_id: requestId,
      });
    }
  }
  if (rows.size > 0) await insertReviews(trx, [...rows.values()], at);
  const reserving = writes.filter((w) => (w.budgetReservations?.length ?? 0) > 0);
  if (reserving.length > 0) {
    const moved = await reserveBudget(
      trx,
      reserving.flatMap((w) => w.budgetReservations ?? []),
    );
    if (!moved && new Set(reserving.map((w) => w.customerId)).size > 1)
      throw new BudgetSharedInGroup("customers of one transaction reserved from the same review budget");
    if (!moved) throw new BudgetMoved("a review budget slice changed since it was loaded");
  }
}

async function insertReviews(trx: Transaction<Database>, rows: Record<string, unknown>[], at: Date) {
  await sql`
    insert into reviews (customer_id, review_id, sku, seller_id, order_id, text_length, photo_count, submitted_at,
      status, points, funder, budget_takes, lot_id, not_rewarded_reason, moderated_by, moderated_at, fingerprint, outcome,
      request_id, received_at)
    select x.*, ${at}::timestamptz from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
      customer_id text, review_id text, sku text, seller_id text, order_id text, text_length integer,
      photo_count integer, submitted_at timestamptz, status text, points bigint, funder text, budget_takes text,
      lot_id text,
      not_rewarded_reason text, moderated_by text, moderated_at timestamptz, fingerprint text, outcome text,
      request_id text)
    on conflict (customer_id, review_id) do update
      set status = excluded.status, moderated_by = excluded.moderated_by, moderated_at = excluded.moderated_at`.execute(
    trx,
  );
}

/** A serialization failure: the store runs the whole transaction again, on a fresh load. */
class BudgetMoved extends Error {
  readonly code = "40001";
}

/**
 * Customers of one group commit each loaded the same budget and reserved from it as if alone: not
 * something running again fixes. The group committer runs each of its works alone after this.
 */
class BudgetSharedInGroup extends Error {}

/**
 * `reserve_review_budget`: each slice moved by the sum of its reservations, in one statement; a
 * reservation only where the slice still holds it; false if one did not. The load read the slices
 * without locking them: if another transaction took the points meanwhile, this one runs again and
 * decides anew.
 */
async function reserveBudget(
  trx: Transaction<Database>,
  reservations: BudgetReservation[],
): Promise<boolean> {
  const sums = new Map<string, BudgetReservation>();
  for (const r of reservations) {
    const key = `${r.sellerId}\u0000${r.slice}`;
    const prior = sums.get(key);
    sums.set(key, { ...r, points: (prior?.points ?? 0) + r.points });
  }
  const wanted = [...sums.values()].filter((r) => r.points !== 0);
  if (wanted.length === 0) return true;
  const result = await sql<{ moved: number }>`
    with
      wanted as (
        select * from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as x("sellerId" text, slice smallint, points bigint)),
      -- Slices locked in one order (seller, slice) by every transaction: two reviews that share
      -- slices wait for each other rather than deadlock.
      locked as (
        select b.seller_id, b.slice from review_budget_slices as b
        join wanted as w on b.seller_id = w."sellerId" and b.slice = w.slice
        order by b.seller_id, b.slice
        for update of b),
      moved as (
        update review_budget_slices as b set reserved = b.reserved + w.points
        from wanted as w, locked as l
        where b.seller_id = w."sellerId" and b.slice = w.slice and l.seller_id = b.seller_id and l.slice = b.slice
          and (w.points < 0 or b.funded - b.reserved >= w.points)
        returning 1)
    select count(*)::int as moved from moved`.execute(trx);
  return (result.rows[0]?.moved ?? 0) === wanted.length;
}

export class PostgresReviewStore implements ReviewStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** `fund_review_budget`: the funding row and its share on every slice, in one statement. */
  async fundBudget(input: { sellerId: string; fundingId: string; points: number; actor: string; at: Date }) {
    const shares = sliceShares(input.points);
    const result = await sql<{ added: number; points: number }>`
      with
        funding as (
          insert into review_budget_fundings (seller_id, funding_id, points, funded_by, funded_at)
          values (${input.sellerId}, ${input.fundingId}, ${input.points}, ${input.actor}, ${input.at})
          on conflict (seller_id, funding_id) do nothing
          returning points),
        slices as (
          insert into review_budget_slices (seller_id, slice, funded, reserved)
          select ${input.sellerId}, s.slice - 1, s.share, 0
          from unnest(${shares}::bigint[]) with ordinality as s (share, slice)
          where exists (select 1 from funding)
          on conflict (seller_id, slice) do update set funded = review_budget_slices.funded + excluded.funded
          returning 1)
      select (select count(*)::int from funding) + 0 * (select count(*) from slices) as added,
             (select points from review_budget_fundings
              where seller_id = ${input.sellerId} and funding_id = ${input.fundingId}) as points`.execute(
      this.db,
    );
    const row = result.rows[0];
    const status = row?.added ? "added" : Number(row?.points) === input.points ? "replayed" : "conflict";
    return { status, budget: await this.budget(input.sellerId) } as const;
  }

  async budget(sellerId: string): Promise<ReviewBudget> {
    const rows = await this.db
      .selectFrom("review_budget_slices")
      .select(["slice", "funded", "reserved"])
      .where("seller_id", "=", sellerId)
      .execute();
    const slices = rows.map((r) => ({
      slice: r.slice,
      funded: Number(r.funded),
      reserved: Number(r.reserved),
    }));
    return { sellerId, ...budgetSummary(slices) };
  }

  /** `unmoderated_reviews`: a walk of `reviews_awaiting_moderation` from the oldest (or the cursor). */
  async unmoderated(query: {
    before: Date;
    limit: number;
    after?: { submittedAt: Date; customerId: string; reviewId: string } | undefined;
  }): Promise<UnmoderatedReview[]> {
    const after = query.after;
    const result = await sql<{
      customer_id: string;
      review_id: string;
      sku: string;
      seller_id: string;
      order_id: string;
      points: number;
      submitted_at: Date;
    }>`
      select customer_id, review_id, sku, seller_id, order_id, points, submitted_at from reviews
      where status = 'awaiting' and submitted_at <= ${query.before}
        ${after ? sql`and (submitted_at, customer_id, review_id) > (${after.submittedAt}, ${after.customerId}, ${after.reviewId})` : sql``}
      order by submitted_at, customer_id, review_id
      limit ${query.limit}`.execute(this.db);
    return result.rows.map((r) => ({
      customerId: r.customer_id,
      reviewId: r.review_id,
      sku: r.sku,
      sellerId: r.seller_id,
      orderId: r.order_id,
      points: Number(r.points),
      submittedAt: new Date(r.submitted_at),
    }));
  }
}
