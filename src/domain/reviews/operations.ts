import { type BudgetSlice, chooseTakes } from "../budget-slices.js";
import {
  addDays,
  type CustomerLedger,
  cancelPendingLot,
  confirmPendingLot,
  credit,
  explainReviewApproved,
  explainReviewRejected,
  explainReviewSubmitted,
  type LedgerChange,
  type OperationContext,
  UNTIL_DECIDED,
} from "../ledger/index.js";
import type { Order } from "../orders/index.js";
import { assessReview } from "./eligibility.js";
import type { Review, ReviewPolicy, ReviewRefusal, ReviewReport } from "./types.js";

export interface Recorded {
  review: Review;
  /** The refusal the report is answered with (the review is still recorded, as refused). */
  refusal: ReviewRefusal | null;
  change: LedgerChange<unknown> | undefined;
}

/**
 * R22: records a reported review. An eligible one with a reward credits its points pending at once
 * (R6 shows them as pending), funded by `funder`; one without a reward is recorded with the reason;
 * a refused report is recorded as refused.
 */
export function recordReview(
  report: ReviewReport,
  ledger: CustomerLedger,
  input: {
    order: Order | undefined;
    rewarded: Review | undefined;
    policy: ReviewPolicy;
    /** The seller's review budget as loaded, and the slice of this customer's hash range. */
    budget: { slices: readonly BudgetSlice[]; ownSlice: number };
  },
  ctx: OperationContext,
): Recorded {
  const assessment = assessReview(report, input.order, input.rewarded, input.policy);
  const base = { ...report, moderatedBy: null, moderatedAt: null };
  if (!assessment.ok) {
    return {
      review: {
        ...base,
        status: "refused",
        points: 0,
        funder: null,
        budgetTakes: [],
        lotId: null,
        notRewardedReason: null,
      },
      refusal: assessment,
      change: undefined,
    };
  }
  if (assessment.points === 0) {
    return {
      review: {
        ...base,
        status: "awaiting",
        points: 0,
        funder: null,
        budgetTakes: [],
        lotId: null,
        notRewardedReason: assessment.notRewardedReason,
      },
      refusal: null,
      change: undefined,
    };
  }
  // Reserved now, at submission: the promise holds whatever happens to the budget later.
  const budgetTakes = chooseTakes(input.budget.slices, input.budget.ownSlice, assessment.points);
  const funder = budgetTakes.length === 0 ? "marketplace" : `seller:${report.sellerId}`;
  const credited = credit(
    ledger,
    {
      kind: "bonus",
      amount: assessment.points,
      source: "review",
      funder,
      availableFrom: UNTIL_DECIDED,
      expiresAt: addDays(UNTIL_DECIDED, ctx.policy.expiryDays),
      reference: report.reviewId,
      explanation: explainReviewSubmitted(assessment.points, report.reviewId, report.sku),
    },
    ctx,
  );
  if (!credited.ok) throw new Error(`a review credit was refused: ${credited.code}`);
  return {
    review: {
      ...base,
      status: "awaiting",
      points: assessment.points,
      funder,
      budgetTakes,
      lotId: credited.value.lotId,
      notRewardedReason: null,
    },
    refusal: null,
    change: credited,
  };
}

export type Decision = "approve" | "reject";

const DECIDED: Record<Decision, Review["status"]> = { approve: "approved", reject: "rejected" };

/**
 * R22: moderation decides once. Approval makes the pending points available, rejection cancels them
 * back to their funder (each a new movement); the same decision again answers the review as it is
 * (`change` undefined), the other one is refused.
 */
export function moderateReview(
  review: Review | undefined,
  decision: Decision,
  moderator: string,
  ledger: CustomerLedger,
  ctx: OperationContext,
): { ok: true; review: Review; change: LedgerChange<unknown> | undefined } | ReviewRefusal {
  if (!review || review.status === "refused") {
    return {
      ok: false,
      code: "REVIEW_NOT_FOUND",
      message: review
        ? `review ${review.reviewId} was refused: there is nothing to moderate`
        : "no such review",
      details: review ? { reviewId: review.reviewId } : {},
    };
  }
  const into = DECIDED[decision];
  if (review.status === into) return { ok: true, review, change: undefined };
  if (review.status !== "awaiting") {
    return {
      ok: false,
      code: "REVIEW_ALREADY_MODERATED",
      message: `review ${review.reviewId} was ${review.status} by ${review.moderatedBy}`,
      details: { reviewId: review.reviewId, status: review.status, moderatedBy: review.moderatedBy },
    };
  }
  const decided: Review = { ...review, status: into, moderatedBy: moderator, moderatedAt: ctx.now };
  if (!review.lotId) return { ok: true, review: decided, change: undefined };
  const { lotId, points, reviewId } = review;
  const result =
    decision === "approve"
      ? confirmPendingLot(
          ledger,
          { lotId, explanation: (at) => explainReviewApproved(points, reviewId, at) },
          ctx,
        )
      : cancelPendingLot(ledger, { lotId, explanation: explainReviewRejected(points, reviewId) }, ctx);
  if (!result.ok) throw new Error(`review ${reviewId}: its lot ${lotId} is not pending (${result.code})`);
  return { ok: true, review: decided, change: result };
}
