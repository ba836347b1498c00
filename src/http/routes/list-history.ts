import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../context.js";
import { CustomerParams, MovementSchema } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/history",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "listHistory",
        tags: ["ledger"],
        summary: "Movements, newest first, each with its explanation in Russian and English (R33)",
        security: [{ bearer: [] }],
        params: CustomerParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.String({
                pattern: "^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$",
                description: "1-200, default 50",
              }),
            ),
            cursor: Type.Optional(
              Type.String({ pattern: "^mov_[0-9A-Z]{26}$", description: "nextCursor of the previous page" }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(MovementSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) =>
      ledger.history(
        request.params.customerId,
        request.query.cursor ?? null,
        Number(request.query.limit ?? 50),
      ),
  );
}
