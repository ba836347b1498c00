import { type App, errorResponses, type RouteDeps, sendError } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { ManagerPageSchema } from "./schemas.js";

export function register(app: App, { managers }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/manager",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getManager",
        tags: ["managers"],
        summary:
          "R24: the manager's promo code, this month's purchases against the threshold, referral points",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: { 200: ManagerPageSchema, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const view = await managers.view(request.params.customerId);
      if (!view)
        return sendError(
          reply,
          "MANAGER_NOT_FOUND",
          `customer ${request.params.customerId} is not a manager`,
          { customerId: request.params.customerId },
          request.id,
        );
      return view;
    },
  );
}
