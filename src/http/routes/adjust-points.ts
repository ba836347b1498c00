import { Type } from "typebox";
import { MAX_AMOUNT } from "../../domain/kinds.js";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { ApiError } from "../errors.js";
import { CustomerParams, PointKindSchema, strictObject, Text } from "../schemas.js";

export function register(app: App, { ledger, access }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/adjustments",
    {
      config: { access: { roles: ["operator", "support"] } },
      schema: {
        operationId: "adjustPoints",
        tags: ["ledger"],
        summary: "R34: add or remove points by hand, with a reason; audited with who and when",
        description:
          "A support key adjusts at most KOPILKA_SUPPORT_ADJUSTMENT_LIMIT points at once (default 10,000); above it an operator key is needed (403 FORBIDDEN).",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          kind: PointKindSchema,
          amount: Type.Integer({
            minimum: -MAX_AMOUNT,
            maximum: MAX_AMOUNT,
            not: { const: 0 },
            description: "Positive adds points, negative removes them; never 0",
          }),
          reason: Text({ minLength: 3, maxLength: 500, description: "Why (mandatory, audited)" }),
        }),
        response: {
          201: Type.Object({ kind: PointKindSchema, amount: Type.Integer(), reason: Type.String() }),
          ...errorResponses(409, 422),
        },
      },
    },
    async (request, reply) => {
      const { body, params } = request;
      const refused = access.adjustmentRefusal(principalOf(request), body.amount);
      if (refused) throw new ApiError("FORBIDDEN", refused.message, refused.details);
      const result = await ledger.adjust(params.customerId, body, writeRequestOf(request));
      return sendOutcome(reply, result, 201);
    },
  );
}
