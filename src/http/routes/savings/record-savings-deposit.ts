import { actorOf } from "../../../app/access.js";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { SavingsEntryBody, SavingsEntrySchema } from "./schemas.js";

export function register(app: App, { savings }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/savings/deposits",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "recordSavingsDeposit",
        tags: ["savings"],
        summary: "R25: money deposited on the customer's savings account",
        description:
          "Idempotent by `id`: the same id with the same body answers again, with another body is 409.",
        security: [{ bearer: [] }],
        params: CustomerParams,
        body: SavingsEntryBody,
        response: { 201: SavingsEntrySchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const { body, params } = request;
      const result = await savings.record(
        params.customerId,
        { entryId: body.id, type: "deposit", amount: body.amount, occurredAt: new Date(body.occurredAt) },
        actorOf(principalOf(request)),
      );
      return sendOutcome(reply, result, 201);
    },
  );
}
