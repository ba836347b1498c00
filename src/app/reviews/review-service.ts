import { reviewPolicyOf, versionInForce } from "../../domain/orders/index.js";
import {
  BUDGET_SLICES,
  type Decision,
  holdsReward,
  moderateReview,
  type Review,
  type ReviewReport,
  recordReview,
  reviewBudgetId,
} from "../../domain/reviews/index.js";
import { type GroupCommitter, hashRangeOf } from "../group-commit.js";
import { keyedWork } from "../keyed-work.js";
import {
  type ConflictRefusal,
  ledgerWrite,
  type Outcome,
  type WriteRequest,
  type WriteResult,
} from "../ledger-service.js";
import { decodePageCursor, encodePageCursor } from "../page-cursor.js";
import type { Clock, CustomerState, ReviewStore, StoredReview } from "../ports.js";
import type { ProgrammeRules } from "../programme-rules.js";

/** A review as the API answers it (and as a replay answers it again). */
export interface ReviewView {
  reviewId: string;
  customerId: string;
  sku: string;
  sellerId: string;
  orderId: string;
  /** `awaiting`: moderation has not decided; `approved` or `rejected`: it has. */
  status: "awaiting" | "approved" | "rejected";
  /** R22: the points promised at submission, pending until approved (0: not rewarded). */
  points: number;
  notRewardedReason: Review["notRewardedReason"];
  funder: string | null;
  submittedAt: string;
  moderatedBy: string | null;
  moderatedAt: string | null;
}

function reviewView(r: Review): ReviewView {
  return {
    reviewId: r.reviewId,
    customerId: r.customerId,
    sku: r.sku,
    sellerId: r.sellerId,
    orderId: r.orderId,
    status: r.status === "refused" ? "awaiting" : r.status,
    points: r.points,
    notRewardedReason: r.notRewardedReason,
    funder: r.funder,
    submittedAt: r.submittedAt.toISOString(),
    moderatedBy: r.moderatedBy,
    moderatedAt: r.moderatedAt?.toISOString() ?? null,
  };
}

export type ReviewAnswer = WriteResult<ReviewView> | ConflictRefusal;

/** R22 reviews: reports from the marketplace, moderation, and the list of what waits for it. */
export class ReviewService {
  constructor(
    private readonly store: ReviewStore,
    private readonly committer: GroupCommitter,
    private readonly clock: Clock,
    private readonly rules: ProgrammeRules,
  ) {}

  /**
   * Records a reported review in the customer's own work, idempotent by review id: a redelivery
   * gets the stored answer (refusals too), the same id with another body is a conflict. What it
   * loads: the review by id, the order it names, the customer's rewarded review of the product.
   */
  async report(
    report: ReviewReport,
    request: { fingerprint: string; requestId: string; actor: string },
  ): Promise<ReviewAnswer> {
    const policy = reviewPolicyOf(versionInForce(await this.rules.versions(), report.submittedAt).config);
    return this.committer.submit<ReviewAnswer>({
      customerId: report.customerId,
      load: {
        orderIds: [report.orderId],
        reviewIds: [report.reviewId],
        reviewSkus: [report.sku],
        budgetIds: [reviewBudgetId(report.sellerId)],
      },
      run: (state, ctx) => {
        const prior = reviewIn(state, report.reviewId);
        if (prior) return { result: replayReport(prior, report.reviewId, request) };
        const recorded = recordReview(
          report,
          state.ledger,
          {
            order: state.orders.find((o) => o.orderId === report.orderId),
            rewarded: state.reviews.map((r) => r.review).find((r) => r.sku === report.sku && holdsReward(r)),
            policy,
            budget: {
              slices: state.budgets.get(reviewBudgetId(report.sellerId)) ?? [],
              ownSlice: hashRangeOf(report.customerId, BUDGET_SLICES),
            },
          },
          ctx,
        );
        const outcome: Outcome<ReviewView> = recorded.refusal
          ? {
              ok: false,
              code: recorded.refusal.code,
              message: recorded.refusal.message,
              details: recorded.refusal.details,
            }
          : { ok: true, value: reviewView(recorded.review) };
        const stored: StoredReview = {
          review: recorded.review,
          fingerprint: request.fingerprint,
          outcome,
          requestId: request.requestId,
        };
        return {
          result: { ...outcome, replayed: false, requestId: request.requestId },
          write: {
            actor: request.actor,
            ledger: recorded.change ? ledgerWrite(state.ledger, recorded.change) : undefined,
            reviews: [stored],
            budgetReservations: recorded.review.budgetTakes.map((t) => ({
              budgetId: reviewBudgetId(report.sellerId),
              ...t,
            })),
          },
        };
      },
    });
  }

  /**
   * R22: a moderator's decision (`request.actor`, the API key id, is recorded as the moderator). The
   * same decision again answers the review as it stands; a retry with the same Idempotency-Key
   * replays the stored answer.
   */
  moderate(customerId: string, reviewId: string, decision: Decision, request: WriteRequest) {
    return this.committer.submit(
      keyedWork<ReviewView>(
        customerId,
        `${decision}_review`,
        request,
        { reviewIds: [reviewId] },
        (state, ctx) => {
          const prior = reviewIn(state, reviewId);
          const moderated = moderateReview(prior?.review, decision, request.actor, state.ledger, ctx);
          if (!moderated.ok) {
            const { code, message, details } = moderated;
            return { outcome: { ok: false, code, message, details: { ...details, reviewId } } };
          }
          const outcome = { ok: true as const, value: reviewView(moderated.review) };
          if (!prior || moderated.review === prior.review) return { outcome };
          // A rejected review's points go back to the seller's budget slices they were reserved from.
          const givenBack =
            decision === "reject"
              ? prior.review.budgetTakes.map((t) => ({
                  budgetId: reviewBudgetId(prior.review.sellerId),
                  slice: t.slice,
                  points: -t.points,
                }))
              : [];
          return {
            outcome,
            write: {
              ledger: moderated.change ? ledgerWrite(state.ledger, moderated.change) : undefined,
              reviews: [{ ...prior, review: moderated.review }],
              budgetReservations: givenBack,
            },
          };
        },
      ),
    );
  }

  /**
   * R22: a seller's points budget for review rewards on its products, topped up once per funding id.
   * Reviews submitted while it holds their reward reserve it then; afterwards the marketplace funds them.
   */
  async fundBudget(input: { sellerId: string; fundingId: string; points: number; actor: string }) {
    const funded = await this.store.fundBudget({ ...input, at: this.clock.now() });
    if (funded.status === "conflict") {
      return {
        ok: false as const,
        code: "IDEMPOTENCY_CONFLICT",
        message: `funding ${input.fundingId} was made before with other points`,
        details: { fundingId: input.fundingId },
      };
    }
    return { ok: true as const, value: funded.budget, replayed: funded.status === "replayed" };
  }

  budget(sellerId: string) {
    return this.store.budget(sellerId);
  }

  /**
   * R22: reviews awaiting moderation for at least `olderThanDays` (default: the days moderation is
   * due within), oldest first; `after` continues a page. Undefined: the cursor is not one of ours.
   */
  async listUnmoderated(query: {
    olderThanDays?: number | undefined;
    limit: number;
    after?: string | undefined;
  }) {
    const now = this.clock.now();
    const days =
      query.olderThanDays ??
      reviewPolicyOf(versionInForce(await this.rules.versions(), now).config).moderationDays;
    const position = query.after === undefined ? undefined : decodePageCursor(query.after);
    if (query.after !== undefined && !position) return undefined;
    const after = position && {
      submittedAt: position.at,
      customerId: position.customerId,
      reviewId: position.id,
    };
    const page = await this.store.unmoderated({
      before: new Date(now.getTime() - days * 86_400_000),
      limit: query.limit + 1,
      after,
    });
    const items = page.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      olderThanDays: days,
      items: items.map((r) => ({
        ...r,
        submittedAt: r.submittedAt.toISOString(),
        waitingDays: Math.floor((now.getTime() - r.submittedAt.getTime()) / 86_400_000),
      })),
      next:
        page.length > query.limit && last
          ? encodePageCursor({ at: last.submittedAt, customerId: last.customerId, id: last.reviewId })
          : null,
    };
  }
}

function reviewIn(state: CustomerState, reviewId: string): StoredReview | undefined {
  return state.reviews.find((r) => r.review.reviewId === reviewId);
}

/** A report of a review id seen before: its stored answer, or a conflict if the body differs. */
function replayReport(
  prior: StoredReview,
  reviewId: string,
  request: { fingerprint: string; requestId: string },
): ReviewAnswer {
  if (prior.fingerprint !== request.fingerprint) {
    return {
      ok: false,
      code: "IDEMPOTENCY_CONFLICT",
      message: `review ${reviewId} was reported before with a different body`,
      details: { reviewId, originalRequestId: prior.requestId },
      replayed: false,
      requestId: request.requestId,
    };
  }
  return { ...(prior.outcome as Outcome<ReviewView>), replayed: true, requestId: prior.requestId };
}
