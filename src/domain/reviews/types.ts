/**
 * R22 reviews: the marketplace reports a review of a product the customer bought; a detailed one
 * earns points, pending until moderation approves it. Every number here is a default an operator
 * changes in the programme configuration (`reviews`).
 */
export interface ReviewPolicy {
  /** R22: a text this many characters long or longer earns `textPoints`. Default 200. */
  readonly minTextLength: number;
  /** R22: points for a long enough text without a photo. Default 10. */
  readonly textPoints: number;
  /** R22: points for a review with at least one photo. Default 50. */
  readonly photoPoints: number;
  /** R22: moderation is due within this many days of submission; later ones are listed. Default 3. */
  readonly moderationDays: number;
}

export const DEFAULT_REVIEW_POLICY: ReviewPolicy = {
  minTextLength: 200,
  textPoints: 10,
  photoPoints: 50,
  moderationDays: 3,
};

/** What the marketplace reports about one review. */
export interface ReviewReport {
  readonly reviewId: string;
  readonly customerId: string;
  readonly sku: string;
  readonly sellerId: string;
  readonly orderId: string;
  readonly textLength: number;
  readonly photoCount: number;
  readonly submittedAt: Date;
}

/** Why a review was recorded without a reward. */
export type NotRewardedReason = "TOO_SHORT_WITHOUT_PHOTO";

/**
 * A review as Kopilka keeps it. `awaiting`: moderation has not decided; its points (if any) are
 * pending in `lotId`. A report that was refused is kept too (`refused`), so its redelivery is
 * answered the same.
 */
export interface Review extends ReviewReport {
  status: "refused" | "awaiting" | "approved" | "rejected";
  /** The points promised at submission (0: not rewarded, or refused). */
  readonly points: number;
  readonly funder: string | null;
  /** What the seller's review budget reserved for the points, by slice; empty: the marketplace funds them. */
  readonly budgetTakes: readonly { slice: number; points: number }[];
  readonly lotId: string | null;
  readonly notRewardedReason: NotRewardedReason | null;
  /** Who decided (the API key id) and when. */
  moderatedBy: string | null;
  moderatedAt: Date | null;
}

export const REVIEW_REFUSAL_CODES = [
  "REVIEW_NOT_BOUGHT",
  "REVIEW_NOT_DELIVERED",
  "REVIEW_PRODUCT_RETURNED",
  "REVIEW_ALREADY_REWARDED",
  "REVIEW_NOT_FOUND",
  "REVIEW_ALREADY_MODERATED",
] as const;
export type ReviewRefusalCode = (typeof REVIEW_REFUSAL_CODES)[number];

export interface ReviewRefusal {
  ok: false;
  code: ReviewRefusalCode;
  message: string;
  details: Record<string, unknown>;
}

/** R22: a review that holds a reward, or may yet: a second review of the product is refused. */
export function holdsReward(review: Review): boolean {
  return review.points > 0 && (review.status === "awaiting" || review.status === "approved");
}

const LIMITS: Record<keyof ReviewPolicy, [number, number]> = {
  minTextLength: [1, 100_000],
  textPoints: [0, 100_000],
  photoPoints: [0, 100_000],
  moderationDays: [1, 365],
};

export function validateReviewPolicy(policy: ReviewPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  for (const [name, [min, max]] of Object.entries(LIMITS)) {
    const value = policy[name as keyof ReviewPolicy];
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push({ field: name, message: `must be a whole number from ${min} to ${max}` });
    }
  }
  return problems;
}
