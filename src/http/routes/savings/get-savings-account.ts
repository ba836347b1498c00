import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { SavingsAccountSchema } from "./schemas.js";

export function register(app: App, { savings }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/savings",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getSavingsAccount",
        tags: ["savings"],
        summary: "R25: the savings balance, the rate and this month's interest so far",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: { 200: SavingsAccountSchema, ...errorResponses() },
      },
    },
    async (request) => savings.account(request.params.customerId),
  );
}
