import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  refuseBody,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { ManagerSchema } from "./schemas.js";

export function register(app: App, { managers }: RouteDeps) {
  app.delete(
    "/v1/customers/:customerId/manager",
    {
      config: { access: { roles: ["operator"] } },
      preValidation: refuseBody,
      schema: {
        operationId: "revokeManager",
        tags: ["managers"],
        summary: "R24: revokes manager status",
        description:
          "Orders placed with the code afterwards earn nothing (the order is recorded with status manager_revoked); referral points already pending are decided at month end as usual. Not a manager: 404 MANAGER_NOT_FOUND. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        response: { 200: ManagerSchema, ...errorResponses(404) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await managers.revoke(request.params.customerId, writeRequestOf(request)), 200),
  );
}
