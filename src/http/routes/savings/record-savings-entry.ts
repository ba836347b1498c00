import { actorOf } from "../../../app/access.js";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { SavingsEntryBody, SavingsEntrySchema } from "./schemas.js";

/** R25: the two reports of money on a savings account, alike but for their type and what they refuse. */
const ENTRY_ROUTES = [
  {
    type: "deposit",
    path: "/v1/customers/:customerId/savings/deposits",
    operationId: "recordSavingsDeposit",
    summary: "R25: money deposited on the customer's savings account",
    refusal: "",
  },
  {
    type: "withdrawal",
    path: "/v1/customers/:customerId/savings/withdrawals",
    operationId: "recordSavingsWithdrawal",
    summary: "R25: money withdrawn from the customer's savings account",
    refusal:
      " More than the balance is refused (INSUFFICIENT_SAVINGS, naming body.amount) and changes nothing.",
  },
] as const;

export function register(app: App, { savings }: RouteDeps) {
  for (const route of ENTRY_ROUTES) {
    app.post(
      route.path,
      {
        config: { access: { roles: ["operator"] } },
        schema: {
          operationId: route.operationId,
          tags: ["savings"],
          summary: route.summary,
          description: `Idempotent by \`id\`: the same id with the same body answers again, with another body is 409.${route.refusal}`,
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
          { entryId: body.id, type: route.type, amount: body.amount, occurredAt: new Date(body.occurredAt) },
          actorOf(principalOf(request)),
        );
        return sendOutcome(reply, result, 201);
      },
    );
  }
}
