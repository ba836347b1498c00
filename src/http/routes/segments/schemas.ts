import { Type } from "typebox";
import type { ApiRole } from "../../../app/access.js";
import { Explanation, Id, strictObject } from "../../schemas.js";

/** R29: operators define segments; every key but a seller's reads them (segments span sellers' customers). */
export const SEGMENT_WRITERS: readonly ApiRole[] = ["operator"];
export const SEGMENT_READERS: readonly ApiRole[] = ["operator", "support", "readonly"];

export const SegmentParams = Type.Object({ segmentId: Id("The segment (1-64 of A-Z a-z 0-9 _ . : -)") });

const RuleDescription =
  "R29: {all: [rules]} (every one holds), {any: [rules]} (one holds) or {stat, op, value}: stat one of aov90Kop, orders30, orders90, balancePoints (op eq, ne, lt, lte, gt, gte; value an integer) or usesCard, usesSavingsAccount, premium (op eq or ne; value true or false). At most 4 levels, 20 rules a list, 50 comparisons.";

export const SegmentBody = strictObject({
  name: Explanation,
  rule: Type.Unknown({ description: RuleDescription }),
});

export const SegmentSchema = Type.Object({
  segmentId: Type.String(),
  version: Type.Integer({ description: "Every change is a new version" }),
  name: Explanation,
  rule: Type.Unknown({ description: RuleDescription }),
  createdAt: Type.String({ format: "date-time" }),
  createdBy: Type.String(),
  updatedAt: Type.String({ format: "date-time" }),
});

export const CustomerStatsSchema = Type.Object(
  {
    aov90Kop: Type.Integer({
      description: "Average order value over the last 90 days, kopecks (0: no orders)",
    }),
    orders30: Type.Integer({ description: "Orders placed in the last 30 days, not cancelled" }),
    orders90: Type.Integer({ description: "Orders placed in the last 90 days, not cancelled" }),
    usesCard: Type.Boolean({ description: "One of them was paid with the marketplace's card" }),
    usesSavingsAccount: Type.Boolean({
      description: "One of them was paid from the savings account, or the customer holds savings points",
    }),
    premium: Type.Boolean({ description: "A Premium subscriber now" }),
    balancePoints: Type.Integer({ description: "Points available now, all kinds" }),
  },
  { description: "R29: the statistics segments are defined over, as of now (days in KOPILKA_TIME_ZONE)" },
);
