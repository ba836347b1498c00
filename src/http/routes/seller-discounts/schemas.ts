import { type Static, Type } from "typebox";
import {
  MAX_DISCOUNT_BP,
  MAX_DISCOUNTS_PER_SELLER,
  MAX_POINTS_CONDITION,
  MAX_UNITS_CONDITION,
} from "../../../domain/seller-discounts/index.js";
import { Explanation, Id, nullable, strictObject, Text } from "../../schemas.js";

/*
 * R27: a seller's loyalty discount. The schema checks shapes; the bounds of numbers are
 * validateSellerDiscount's (src/domain/seller-discounts), which names the field.
 */

export const SELLER_DISCOUNT_WRITERS = ["operator", "seller"] as const;
export const SELLER_DISCOUNT_READERS = ["operator", "support", "readonly", "seller"] as const;

export const SellerParams = Type.Object({ sellerId: Id("The seller") });
export const SellerDiscountParams = Type.Object({
  sellerId: Id("The seller"),
  discountId: Id("The seller's own id for the discount"),
});

const CONDITIONS = Type.Union([
  strictObject(
    {
      type: Type.Literal("points_from_seller"),
      atLeast: Type.Integer({
        description: `Whole points the customer earned on the seller's products (net of returns), at least; 1-${MAX_POINTS_CONDITION}`,
      }),
    },
    "«10% once you have earned 100 points on our products»",
  ),
  strictObject(
    {
      type: Type.Literal("units_this_month"),
      moreThan: Type.Integer({
        description: `Units of the seller's products the customer bought this calendar month (KOPILKA_TIME_ZONE; orders placed this month, shipped and not returned), more than; 0-${MAX_UNITS_CONDITION}`,
      }),
    },
    "«20% for more than 3 of our items this month»",
  ),
]);

/** A union tagged by `type`: a bad value is reported against the branch it names (Ajv's discriminator). */
export const Condition = Type.Unsafe<Static<typeof CONDITIONS>>({
  type: "object",
  required: ["type"],
  discriminator: { propertyName: "type" },
  oneOf: CONDITIONS.anyOf,
  description: "Who qualifies, by `type`",
});

const Name = strictObject(
  {
    ru: Text({ minLength: 1, maxLength: 200, description: "In Russian, as customers read it" }),
    en: Text({ minLength: 1, maxLength: 200, description: "In English" }),
  },
  "The discount's name in Russian and English",
);

export const SellerDiscountBody = strictObject({
  percentBp: Type.Integer({
    description: `Off each unit's price, basis points: 10% is 1000; 1-${MAX_DISCOUNT_BP} (at most 90%)`,
  }),
  condition: Condition,
  name: Type.Optional(nullable<Static<typeof Name>>(Name, "The seller's name for it; omitted or null: none")),
});

export const SellerDiscountSchema = Type.Object({
  sellerId: Type.String(),
  discountId: Type.String(),
  version: Type.Integer({ description: "1 when created, one more per change (ending it too)" }),
  percentBp: Type.Integer(),
  condition: Condition,
  name: Type.Union([Type.Object({ ru: Type.String(), en: Type.String() }), Type.Null()]),
  active: Type.Boolean({ description: "In force (not ended)" }),
  endedAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
  createdBy: Type.String(),
  updatedAt: Type.String({ format: "date-time" }),
});

export const SellerDiscountListSchema = Type.Object({
  sellerId: Type.String(),
  discounts: Type.Array(SellerDiscountSchema, {
    description: `The discounts in force, by id (at most ${MAX_DISCOUNTS_PER_SELLER})`,
  }),
});

/** R27 in a quote: per seller of the cart with discounts, each discount and why, and what comes off. */
export const QuoteSellerDiscountsSchema = Type.Object(
  {
    sellers: Type.Array(
      Type.Object({
        sellerId: Type.String(),
        stats: Type.Object(
          {
            pointsFromSeller: Type.Integer(),
            unitsThisMonth: Type.Integer(),
          },
          { description: "The customer's statistics with the seller that the conditions read" },
        ),
        discounts: Type.Array(
          Type.Object({
            discountId: Type.String(),
            name: Type.Union([Type.Object({ ru: Type.String(), en: Type.String() }), Type.Null()]),
            percentBp: Type.Integer(),
            condition: Condition,
            qualifies: Type.Boolean(),
            applied: Type.Boolean({ description: "The largest the customer qualifies for: it is taken off" }),
            reason: Explanation,
          }),
        ),
        lines: Type.Array(
          Type.Object({
            lineId: Type.String(),
            unitDiscountKop: Type.Integer({
              description: "Off each unit: floor(unit price × percentBp / 10,000)",
            }),
            discountKop: Type.Integer({ description: "quantity × unitDiscountKop" }),
          }),
        ),
        discountKop: Type.Integer(),
      }),
    ),
    discountKop: Type.Integer({ description: "Off the cart in all, kopecks" }),
  },
  {
    description:
      "R27: sellers' loyalty discounts, already taken off lines[].unitPriceKop, before the points caps and the accrual; the order placed carries the discounted prices",
  },
);
