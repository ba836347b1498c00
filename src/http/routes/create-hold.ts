import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { CustomerParams, HoldSchema, Id, PointKindSchema, Points, strictObject } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/holds",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "createHold",
        tags: ["holds"],
        summary:
          "R20: reserve points for an unpaid order (available → held), soonest-expiring lots first (R4)",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          holdId: Id("Your id for the hold, usually the order id"),
          kind: PointKindSchema,
          amount: Points("How many points to hold"),
          timeoutSeconds: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 604_800,
              description: "R20: released if not captured by then; default 1800",
            }),
          ),
        }),
        response: { 201: HoldSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const result = await ledger.hold(request.params.customerId, request.body, writeRequestOf(request));
      return sendOutcome(reply, result, 201);
    },
  );
}
