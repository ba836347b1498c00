import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { InviterSchema } from "./schemas.js";

export function register(app: App, { invites }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/invites",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getInvites",
        tags: ["invites"],
        summary: "R23: the customer's invite code and the friends who registered with it",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: { 200: InviterSchema, ...errorResponses() },
      },
    },
    async (request) => invites.inviter(request.params.customerId),
  );
}
