import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { CustomerParams, Id, PointKindSchema, Points, RedemptionSchema, strictObject } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/spends",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "spendPoints",
        tags: ["ledger"],
        summary: "Spend points at once, without a hold, soonest-expiring lots first (R4)",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          redemptionId: Id("Your id for this spend, usually the order id"),
          kind: PointKindSchema,
          amount: Points("How many points to spend"),
        }),
        response: { 201: RedemptionSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const result = await ledger.spend(request.params.customerId, request.body, writeRequestOf(request));
      return sendOutcome(reply, result, 201);
    },
  );
}
