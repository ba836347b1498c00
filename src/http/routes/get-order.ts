import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendError } from "../context.js";
import { KindPointsSchema, WaitingEventSchema } from "../order-schemas.js";
import { Explanation, Id, literals } from "../schemas.js";

export function register(app: App, { orders }: RouteDeps) {
  app.get(
    "/v1/orders/:orderId",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getOrder",
        tags: ["orders"],
        summary:
          "An order: its state and, per line, what was spent, earned, clawed back and refunded; and the events that wait on it",
        description:
          "An order not placed yet answers 404 ORDER_NOT_FOUND, with the events already waiting for it in `details.waitingEvents`.",
        security: [{ bearer: [] }],
        params: Type.Object({ orderId: Id("The order") }),
        querystring: Type.Object(
          { customerId: Id("The order's customer (orders are stored by customer)") },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            orderId: Type.String(),
            customerId: Type.String(),
            state: Type.String(),
            paymentMethod: Type.String(),
            configVersion: Type.Integer(),
            premium: Type.Boolean({
              description:
                "R28: the customer was a Premium subscriber when the order was placed (fixed then, like configVersion)",
            }),
            placedAt: Type.String({ format: "date-time" }),
            updatedAt: Type.String({ format: "date-time" }),
            spent: KindPointsSchema,
            accrualPoints: Type.Integer({ description: "Purchase points credited net of returns" }),
            shortfall: Type.Integer({ description: "R14: points returns could not take back" }),
            cashback: Type.Optional(
              Type.Object(
                {
                  rateBp: Type.Integer({ description: "Basis points of the money paid, fixed at placement" }),
                  points: Type.Integer({ description: "Savings points credited net of returns" }),
                },
                {
                  description:
                    "R25: the savings cashback of an order paid from the savings account of a cashback customer; absent otherwise",
                },
              ),
            ),
            campaigns: Type.Optional(
              Type.Array(
                Type.Object({
                  campaignId: Type.String(),
                  version: Type.Integer({ description: "The version in force when the order was placed" }),
                  name: Explanation,
                  funder: Type.String({
                    description: "`campaign:<id>` (the marketplace's) or `seller:<id>`",
                  }),
                  points: Type.Integer({
                    description: "Promised at placement, if every unit ships and stays",
                  }),
                  wantedPoints: Type.Integer({
                    description: "What it would have given without its budget's limit",
                  }),
                  creditedPoints: Type.Integer({ description: "Credited net of returns" }),
                  reservedPoints: Type.Union([Type.Integer(), Type.Null()], {
                    description:
                      "Held from its budget now (null: no budget); cancellations and returns give it back",
                  }),
                  lines: Type.Array(
                    Type.Object({
                      lineId: Type.String(),
                      kop: Type.Integer({ description: "Kopecks of points" }),
                    }),
                  ),
                  explanation: Explanation,
                }),
                { description: "R26: the campaigns in force at placement that applied; absent: none" },
              ),
            ),
            lines: Type.Array(
              Type.Object({
                lineId: Type.String(),
                sku: Type.String(),
                sellerId: Type.String(),
                category: Type.String(),
                quantity: Type.Integer(),
                unitPriceKop: Type.Integer(),
                originalUnitPriceKop: Type.Union([Type.Integer(), Type.Null()]),
                shippedQuantity: Type.Integer(),
                returnedQuantity: Type.Integer(),
                spent: KindPointsSchema,
                refunded: KindPointsSchema,
                accrualKop: Type.Integer({ description: "What the whole line earns, kopecks of points" }),
                premiumBp: Type.Integer({
                  description: "R28: the Premium extra in it, basis points (0: none)",
                }),
                premiumKop: Type.Integer({
                  description:
                    "R28: what Premium adds to accrualKop, kopecks of points (the rest is the same line without it)",
                }),
                earnedKop: Type.Integer({ description: "Of that, what shipped" }),
                clawedBackKop: Type.Integer(),
                sellerPointsPerUnit: Type.Integer(),
                sellerPointsEarned: Type.Integer(),
                sellerPointsClawedBack: Type.Integer(),
                explanation: Explanation,
              }),
            ),
            referral: Type.Union(
              [
                Type.Object({
                  promoCode: Type.String(),
                  managerId: Type.String(),
                  status: literals(
                    ["counted", "own_code", "manager_revoked"] as const,
                    "counted: it earns the manager referral points; own_code, manager_revoked: nothing",
                  ),
                  points: Type.Integer({
                    description: "Referral points its shipped and kept units earn the manager",
                  }),
                  explanation: Explanation,
                }),
                Type.Null(),
              ],
              { description: "R24: the promo code the order was placed with; null: none" },
            ),
            waitingEvents: Type.Array(WaitingEventSchema, {
              description: "Events of this order that cannot apply yet, oldest first",
            }),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const { order, waitingEvents } = await orders.getOrder(
        request.query.customerId,
        request.params.orderId,
      );
      if (order) return { ...order, waitingEvents };
      return sendError(
        reply,
        "ORDER_NOT_FOUND",
        `no order ${request.params.orderId} for customer ${request.query.customerId}` +
          (waitingEvents.length > 0 ? `; ${waitingEvents.length} event(s) wait for it to be placed` : ""),
        { orderId: request.params.orderId, waitingEvents },
        request.id,
      );
    },
  );
}
