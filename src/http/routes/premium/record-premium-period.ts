import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { Id, Instant, strictObject } from "../../schemas.js";
import { PremiumPeriodSchema } from "./schemas.js";

export function register(app: App, { premium }: RouteDeps) {
  app.put(
    "/v1/customers/:customerId/premium/periods/:periodId",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "recordPremiumPeriod",
        tags: ["premium"],
        summary: "R28: a Premium subscription period, as the marketplace reports it",
        description:
          "The customer is Premium from startsAt (inclusive) to endsAt (exclusive); periods may overlap. The same period id with other dates corrects it: a new version, audited with the dates before and after, which changes orders placed from then on only (an order keeps the status it was placed with). The same dates again answer the period as it is. endsAt not after startsAt is 400 naming body.endsAt.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: Type.Object({
          customerId: Id("The marketplace's customer id"),
          periodId: Id("The marketplace's id of the subscription period"),
        }),
        body: strictObject({
          startsAt: Instant("Premium from this instant (inclusive)"),
          endsAt: Instant("Premium until this instant (exclusive), after startsAt"),
        }),
        response: { 200: PremiumPeriodSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await premium.recordPeriod(
          request.params.customerId,
          request.params.periodId,
          { startsAt: new Date(request.body.startsAt), endsAt: new Date(request.body.endsAt) },
          writeRequestOf(request),
        ),
        200,
      ),
  );
}
