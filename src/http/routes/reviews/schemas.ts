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

/** Funder ids allow no ':' in a seller id (`seller:<id>`), so neither do budgets. */
export const SellerParams = Type.Object({
  sellerId: Type.String({
    pattern: "^[A-Za-z0-9_.-]{1,64}$",
    description: "The seller: 1-64 of A-Z a-z 0-9 _ . -",
  }),
});

export const ReviewBudgetSchema = Type.Object(
  {
    sellerId: Type.String(),
    funded: Type.Integer({ description: "Points the seller has funded" }),
    reserved: Type.Integer({
      description: "Points reserved by reviews since submitted (given back on rejection)",
    }),
    remaining: Type.Integer({ description: "What later reviews can still reserve" }),
  },
  { description: "R22: a seller's review budget" },
);
