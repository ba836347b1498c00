import { type Kysely, sql, type Transaction } from "kysely";
import type {
  CustomerLoad,
  CustomerState,
  CustomerWrite,
  ReviewBudget,
  ReviewStore,
  StoredReview,
  UnmoderatedReview,
} from "../app/ports.js";
import { budgetSummary, type Review, reviewBudgetId, sliceShares } from "../domain/reviews/index.js";
import { budgetSummaries, fundBudget } from "./budget-store.js";
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
  const result = await sql<{
    by_id: ReviewRow[];
    rewarded: ReviewRow[];
    lots: LotRow[];
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
      ) as lots`.execute(db);
  const row = result.rows[0];
  if (!row) return;
  for (const r of [...row.by_id, ...row.rewarded]) {
    const state = states.get(r.customer_id);
    if (state && !state.reviews.some((s) => s.review.reviewId === r.review_id))
      state.reviews.push(reviewFromRow(r));
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

export class PostgresReviewStore implements ReviewStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** R22: a seller's review budget, topped up once per funding id (spread over the slices). */
  async fundBudget(input: { sellerId: string; fundingId: string; points: number; actor: string; at: Date }) {
    const funded = await fundBudget(this.db, {
      budgetId: reviewBudgetId(input.sellerId),
      fundingId: input.fundingId,
      shares: sliceShares(input.points),
      actor: input.actor,
      at: input.at,
    });
    const status = funded.added ? "added" : funded.points === input.points ? "replayed" : "conflict";
    return { status, budget: await this.budget(input.sellerId) } as const;
  }

  async budget(sellerId: string): Promise<ReviewBudget> {
    const id = reviewBudgetId(sellerId);
    const summary = (await budgetSummaries(this.db, [id])).get(id) ?? budgetSummary([]);
    return { sellerId, ...summary };
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
