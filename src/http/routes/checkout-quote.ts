import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../context.js";
import { KindPointsSchema, Lines, PaymentMethodSchema } from "../order-schemas.js";
import { Explanation, Id, strictObject } from "../schemas.js";
import { QuoteSellerDiscountsSchema } from "./seller-discounts/schemas.js";

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
        body: strictObject({
          customerId: Id("The customer"),
          orderId: Type.Optional(Id("The cart or order id, shown in the explanations")),
          lines: Lines,
          paymentMethod: PaymentMethodSchema,
        }),
        response: {
          200: Type.Object({
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
              description:
                "Per kind: which limit bound (code), the numbers, and a text in Russian and English",
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
              explanation: Explanation,
            }),
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
                  description:
                    "Free from this order total (inclusive), kopecks at the prices charged, before points",
                }),
                reason: Explanation,
              },
              { description: "R28: free delivery for Premium subscribers from the threshold, and why" },
            ),
            sellerDiscounts: QuoteSellerDiscountsSchema,
          }),
          ...errorResponses(422),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await orders.quote(request.body), 200),
  );
}
