import { type App, errorResponses, type RouteDeps } from "../context.js";
import { BalanceSchema, CustomerParams } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/balance",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getBalance",
        tags: ["ledger"],
        summary: "R6: available, pending, held and soon-expiring points per kind",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: { 200: BalanceSchema, ...errorResponses() },
      },
    },
    async (request) => ledger.balance(request.params.customerId),
  );
}
