import type { App, RouteDeps } from "../../context.js";
import { errorResponses } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { PremiumStatusSchema } from "./schemas.js";

export function register(app: App, { premium }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/premium",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getPremium",
        tags: ["premium"],
        summary: "R28: the customer's Premium periods, whether Premium now and until when",
        description: "A customer never reported is not Premium, with no periods.",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: { 200: PremiumStatusSchema, ...errorResponses() },
      },
    },
    async (request) => premium.view(request.params.customerId),
  );
}
