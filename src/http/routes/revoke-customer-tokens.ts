import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { CustomerParams, Instant, strictObject, Text } from "../schemas.js";

export function register(app: App, { access }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/tokens/revoke",
    {
      config: { access: { roles: ["operator", "support"] } },
      schema: {
        operationId: "revokeCustomerTokens",
        tags: ["access"],
        summary:
          "Refuse every customer token issued for the customer up to now; audited with who, when and why",
        description:
          "Tokens issued at or before `revokedBefore` (their `iat`, whole seconds) are refused with 401 from then on: at once by the instance that revoked, within 5 seconds by other instances (they cache each customer's revocation that long). A token issued afterwards, from the next second on, is accepted.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          reason: Text({ minLength: 3, maxLength: 500, description: "Why (mandatory, audited)" }),
        }),
        response: {
          200: Type.Object({
            customerId: Type.String(),
            revokedBefore: Instant("Tokens issued at or before this instant are refused"),
          }),
          ...errorResponses(409),
        },
      },
    },
    async (request, reply) => {
      const { params, body } = request;
      const result = await access.revokeCustomerTokens(
        params.customerId,
        body.reason,
        writeRequestOf(request),
      );
      return sendOutcome(reply, result, 200);
    },
  );
}
