import { Type } from "typebox";
import { literals } from "../../schemas.js";

const ManagerFields = {
  customerId: Type.String(),
  promoCode: Type.String({ description: "R24: the manager's promo code (it never changes)" }),
  status: literals(["active", "revoked"] as const, "revoked: orders placed with the code earn nothing"),
  grantedBy: Type.String({ description: "The API key that granted the status" }),
  grantedAt: Type.String({ format: "date-time" }),
  revokedBy: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
};

/** R24: a manager's status as grants and revocations answer it. */
export const ManagerSchema = Type.Object(ManagerFields, { description: "R24: a customer's manager status" });

const Month = Type.String({
  pattern: "^[0-9]{4}-[0-9]{2}$",
  description: "YYYY-MM in the operator's time zone",
});

/** R24: a manager with this month's progress and the months before. */
export const ManagerPageSchema = Type.Object(
  {
    ...ManagerFields,
    thisMonth: Type.Object({
      month: Month,
      purchasesKop: Type.Integer({
        description:
          "Money paid on own orders placed this month, net of cancellations and returns so far, kopecks",
      }),
      thresholdKop: Type.Integer({
        description: "What purchases must reach (inclusive) for the month's points",
      }),
      referralPointsPending: Type.Integer({
        description: "Referral points credited this month, pending until it ends",
      }),
      thresholdReached: Type.Boolean(),
    }),
    months: Type.Array(
      Type.Object({
        month: Month,
        purchasesKop: Type.Integer(),
        referralPoints: Type.Integer({
          description: "Pending, or once settled, made available (0 if cancelled)",
        }),
        settledAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
        qualified: Type.Union([Type.Boolean(), Type.Null()], {
          description: "true: the points became available; false: cancelled; null: not settled yet",
        }),
        thresholdKop: Type.Union([Type.Integer(), Type.Null()]),
      }),
      { description: "The months before this one, latest first (at most 12)" },
    ),
  },
  { description: "R24: a manager and its months" },
);
