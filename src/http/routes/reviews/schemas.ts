import { Type } from "typebox";
import { Id, literals } from "../../schemas.js";

/** R22: a review as the review routes answer it. */
export const ReviewSchema = Type.Object(
  {
    reviewId: Type.String(),
    customerId: Type.String(),
    sku: Type.String(),
    sellerId: Type.String(),
    orderId: Type.String(),
    status: literals(
      ["awaiting", "approved", "rejected"] as const,
      "awaiting: moderation has not decided yet; approved or rejected: it has",
    ),
    points: Type.Integer({
      description: "R22: the points promised at submission, pending until approved; 0: not rewarded",
    }),
    notRewardedReason: Type.Union([
      literals(["TOO_SHORT_WITHOUT_PHOTO"] as const, "Why no points"),
      Type.Null(),
    ]),
    funder: Type.Union([Type.String(), Type.Null()], { description: "Who pays the points" }),
    submittedAt: Type.String({ format: "date-time" }),
    moderatedBy: Type.Union([Type.String(), Type.Null()], { description: "The moderator's API key id" }),
    moderatedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { description: "R22: a reported review and what it earns" },
);

export const ReviewParams = Type.Object({ reviewId: Id("The marketplace's review id") });
