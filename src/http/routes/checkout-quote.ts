import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../context.js";
import { KindPointsSchema, Lines, PaymentMethodSchema } from "../order-schemas.js";
import { Explanation, Id, strictObject } from "../schemas.js";
import { QuoteSellerDiscountsSchema } from "./seller-discounts/schemas.js";

/** A cart to quote (R16-R19, R21, R7-R12). */
export const QuoteBody = strictObject({
  customerId: Id("The customer"),
  orderId: Type.Optional(Id("The cart or order id, shown in the explanations")),
  lines: Lines,
  paymentMethod: PaymentMethodSchema,
});

/** What a quote answers. */
export const QuoteSchema = Type.Object({
  customerId: Type.String(),
  configVersion: Type.Integer(),
  available: KindPointsSchema,
  maxPerKind: KindPointsSchema,
  combination: KindPointsSchema,
  total: Type.Integer(),
  moneyToPayKop: Type.Integer(),
  caps: Type.Object({
    capPoints: KindPointsSchema,
    spendablePoints: Type.Integer(),
    nestingOrder: Type.Array(Type.String()),
  }),
  reasons: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    description: "Per kind: which limit bound (code), the numbers, and a text in Russian and English",
  }),
  lines: Type.Array(
    Type.Object({
      lineId: Type.String(),
      unitPriceKop: Type.Integer({
        description: "R27: the price to charge per unit, after the seller's loyalty discount",
      }),
      spend: KindPointsSchema,
      accrualKop: Type.Integer(),
      rateBp: Type.Integer(),
      cardBp: Type.Integer(),
      premiumBp: Type.Integer({
        description: "R28: the Premium extra, basis points (0: not Premium now)",
      }),
      premiumKop: Type.Integer({
        description: "R28: what Premium adds to the line's accrualKop, kopecks of points",
      }),
      sellerPoints: Type.Integer(),
      explanation: Explanation,
    }),
  ),
  accrual: Type.Object({
    points: Type.Integer(),
    sellerPoints: Type.Integer(),
    campaignPoints: Type.Integer({ description: "R26: what the campaigns below add, together" }),
    explanation: Explanation,
  }),
  campaigns: Type.Array(
    Type.Object({
      campaignId: Type.String(),
      version: Type.Integer(),
      name: Explanation,
      funder: Type.String({ description: "`campaign:<id>` (the marketplace's) or `seller:<id>`" }),
      points: Type.Integer({
        description: "Whole points it adds, within what is left of its budget",
      }),
      wantedPoints: Type.Integer({ description: "What it would add without its budget's limit" }),
      lines: Type.Array(
        Type.Object({
          lineId: Type.String(),
          kop: Type.Integer({ description: "Kopecks of points" }),
        }),
      ),
      budget: Type.Union([
        Type.Object({
          remainingPoints: Type.Integer(),
          exhausted: Type.Boolean({ description: "Nothing left: the campaign adds nothing" }),
        }),
        Type.Null(),
      ]),
      explanation: Explanation,
    }),
    {
      description:
        "R26: the campaigns in force now that apply to the cart, after stacking, on the money-paid bases; one whose budget is used up is listed with 0 points and says so",
    },
  ),
  premium: Type.Object(
    {
      active: Type.Boolean({ description: "A Premium subscriber now" }),
      bonusBp: Type.Integer({ description: "The programme's Premium extra accrual, basis points" }),
      accrualKop: Type.Integer({
        description: "What Premium adds over the lines, kopecks of points",
      }),
      points: Type.Integer({ description: "What Premium adds to accrual.points" }),
    },
    {
      description: "R28 as of now; an order is fixed with the status at the instant it is placed",
    },
  ),
  delivery: Type.Object(
    {
      free: Type.Boolean(),
      thresholdKop: Type.Integer({
        description: "Free from this order total (inclusive), kopecks at the prices charged, before points",
      }),
      reason: Explanation,
    },
    { description: "R28: free delivery for Premium subscribers from the threshold, and why" },
  ),
  sellerDiscounts: QuoteSellerDiscountsSchema,
});

export function register(app: App, { orders }: RouteDeps) {
  app.post(
    "/v1/checkout/quote",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "quoteCheckout",
        tags: ["checkout"],
        summary:
          "R27, R16-R19, R21, R7-R12, R28: the sellers' loyalty discounts, how many points the cart may use at the discounted prices, the best combination, what it earns, and whether delivery is free",
        description: "No side effects: nothing is held. Idempotency-Key is not needed.",
        security: [{ bearer: [] }],
        body: QuoteBody,
        response: {
          200: QuoteSchema,
          ...errorResponses(422),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await orders.quote(request.body), 200),
  );
}
