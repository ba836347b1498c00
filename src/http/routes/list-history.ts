import { Type } from "typebox";
import { MOVEMENT_TYPES } from "../../domain/ledger/index.js";
import { type App, errorResponses, type RouteDeps } from "../context.js";
import { ApiError } from "../errors.js";
import { CustomerParams, Instant, literals, MovementSchema, PointKindSchema, Text } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/history",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "listHistory",
        tags: ["ledger"],
        summary: "Movements, newest first, each with its explanation in Russian and English (R33)",
        description:
          "Filter by kind, type, reference (an order id, a hold or spend id, your own reference) and a time range [from, to); filters combine, and the cursor pages through the filtered list.",
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
              Type.String({
                pattern: "^mov_[0-9A-HJKMNP-TV-Z]{26}$",
                description: "nextCursor of the previous page",
              }),
            ),
            kind: Type.Optional(PointKindSchema),
            type: Type.Optional(literals(MOVEMENT_TYPES, "Only movements of this type")),
            reference: Type.Optional(
              Text({
                minLength: 1,
                maxLength: 128,
                description: "Only movements with this reference: an order id, a hold or spend id, your own",
              }),
            ),
            from: Type.Optional(Instant("Only movements that occurred at or after this instant")),
            to: Type.Optional(Instant("Only movements that occurred before this instant")),
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
    async (request) => {
      const { query } = request;
      const from = query.from === undefined ? undefined : new Date(query.from);
      const to = query.to === undefined ? undefined : new Date(query.to);
      if (from && to && from.getTime() >= to.getTime()) {
        throw new ApiError("VALIDATION_FAILED", "querystring.from must be before querystring.to", {
          fields: [{ field: "querystring.from", message: "must be before querystring.to" }],
        });
      }
      return ledger.history(request.params.customerId, {
        cursor: query.cursor ?? null,
        limit: Number(query.limit ?? 50),
        kind: query.kind,
        type: query.type,
        reference: query.reference,
        from,
        to,
      });
    },
  );
}
