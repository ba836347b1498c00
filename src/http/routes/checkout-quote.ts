import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../context.js";
import { KindPointsSchema, Lines, PaymentMethodSchema } from "../order-schemas.js";
import { Explanation, Id, strictObject } from "../schemas.js";

export function register(app: App, { orders }: RouteDeps) {
  app.post(
    "/v1/checkout/quote",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "quoteCheckout",
        tags: ["checkout"],
        summary:
          "R16-R19, R21, R7-R12: how many points a cart may use, the best combination and what it earns",
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
                spend: KindPointsSchema,
                accrualKop: Type.Integer(),
                rateBp: Type.Integer(),
                cardBp: Type.Integer(),
                sellerPoints: Type.Integer(),
                explanation: Explanation,
              }),
            ),
            accrual: Type.Object({
              points: Type.Integer(),
              sellerPoints: Type.Integer(),
              explanation: Explanation,
            }),
          }),
          ...errorResponses(422),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await orders.quote(request.body), 200),
  );
}
