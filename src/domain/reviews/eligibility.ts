import type { Order } from "../orders/index.js";
import type { NotRewardedReason, Review, ReviewPolicy, ReviewRefusal, ReviewReport } from "./types.js";

export type Assessment =
  | { ok: true; points: number; notRewardedReason: NotRewardedReason | null }
  | ReviewRefusal;

function refuse(
  code: ReviewRefusal["code"],
  message: string,
  details: Record<string, unknown>,
): ReviewRefusal {
  return { ok: false, code, message, details };
}

/**
 * R22: whether a reported review earns points, and how many. Eligible only if the customer bought
 * the product from that seller in that order, the order was delivered and not every unit of it came
 * back; one reward per customer and product (`rewarded`: a review of the product that holds one).
 * A photo earns `photoPoints`, else a long enough text `textPoints`; else the review is recorded
 * without a reward, with the reason.
 */
export function assessReview(
  report: ReviewReport,
  order: Order | undefined,
  rewarded: Review | undefined,
  policy: ReviewPolicy,
): Assessment {
  const where = { orderId: report.orderId, sku: report.sku, sellerId: report.sellerId };
  const lines = (order?.lines ?? []).filter((l) => l.sku === report.sku && l.sellerId === report.sellerId);
  if (!order || lines.length === 0) {
    return refuse(
      "REVIEW_NOT_BOUGHT",
      `order ${report.orderId} has no product ${report.sku} of seller ${report.sellerId}`,
      where,
    );
  }
  // Delivered, or delivered and then returned; a return before delivery leaves the order shipped.
  if (order.state !== "delivered" && order.state !== "returned") {
    return refuse(
      "REVIEW_NOT_DELIVERED",
      `order ${report.orderId} is ${order.state}: a product is reviewed once it is delivered`,
      { ...where, orderState: order.state },
    );
  }
  const kept = lines.reduce((sum, l) => sum + l.shippedQuantity - l.returnedQuantity, 0);
  if (kept <= 0) {
    return refuse(
      "REVIEW_PRODUCT_RETURNED",
      `every unit of ${report.sku} in order ${report.orderId} was returned`,
      where,
    );
  }
  if (rewarded) {
    return refuse(
      "REVIEW_ALREADY_REWARDED",
      `the customer's review ${rewarded.reviewId} of ${report.sku} already earns its reward: one per product`,
      { ...where, rewardedReviewId: rewarded.reviewId },
    );
  }
  if (report.photoCount >= 1) return { ok: true, points: policy.photoPoints, notRewardedReason: null };
  if (report.textLength >= policy.minTextLength)
    return { ok: true, points: policy.textPoints, notRewardedReason: null };
  return { ok: true, points: 0, notRewardedReason: "TOO_SHORT_WITHOUT_PHOTO" };
}
