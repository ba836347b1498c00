import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CustomerParams, strictObject } from "../../schemas.js";
import { RateBp } from "./schemas.js";

export function register(app: App, { savings }: RouteDeps) {
  app.put(
    "/v1/customers/:customerId/savings/rate",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "setSavingsRate",
        tags: ["savings"],
        summary: "R25, R30: the customer's own yearly savings rate, or null for the programme's",
        description: "Applies to every month paid after it is set, the month under way included.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({ rateBp: Type.Union([RateBp, Type.Null()]) }),
        response: {
          200: Type.Object({ customerId: Type.String(), rateBp: Type.Union([RateBp, Type.Null()]) }),
          ...errorResponses(409),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await savings.setRate(request.params.customerId, request.body.rateBp, writeRequestOf(request)),
        200,
      ),
  );
}
