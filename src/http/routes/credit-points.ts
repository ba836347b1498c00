import { Type } from "typebox";
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
import {
  CreditSourceSchema,
  CustomerParams,
  Funder,
  Instant,
  LotSchema,
  PointKindSchema,
  Points,
  Reference,
  strictObject,
} from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/credits",
    {
      config: { access: { roles: ["operator", "seller"] } },
      schema: {
        operationId: "creditPoints",
        tags: ["ledger"],
        summary: "Credit points to a customer (a new lot, R3), pending until availableFrom (R13)",
        description:
          "A seller key may only credit points it funds itself: source `seller`, funder `seller:<its id>` (R11).",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          kind: PointKindSchema,
          amount: Points("How many points"),
          source: CreditSourceSchema,
          funder: Funder,
          availableFrom: Type.Optional(Instant("R13: when the points become available; default now")),
          expiresAt: Type.Optional(Instant("R3: default 365 days after they become available")),
          reference: Type.Optional(Reference),
        }),
        response: { 201: LotSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const { body, params } = request;
      const principal = principalOf(request);
      // R11, R2: a seller funds bonus points on its own products, nothing else.
      if (principal.type === "key" && principal.role === "seller") {
        const own = `seller:${principal.sellerId}`;
        const fields = [
          ...(body.funder === own ? [] : [{ field: "body.funder", message: `must be ${own}` }]),
          ...(body.source === "seller" ? [] : [{ field: "body.source", message: "must be seller" }]),
          ...(body.kind === "bonus" ? [] : [{ field: "body.kind", message: "must be bonus" }]),
        ];
        if (fields.length > 0) {
          throw new ApiError(
            "FORBIDDEN",
            `a seller key credits only bonus points from source seller funded by ${own}`,
            {
              fields,
            },
          );
        }
      }
      const result = await ledger.credit(
        params.customerId,
        {
          kind: body.kind,
          amount: body.amount,
          source: body.source,
          funder: body.funder,
          availableFrom: body.availableFrom ? new Date(body.availableFrom) : undefined,
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
          reference: body.reference ?? null,
        },
        writeRequestOf(request),
      );
      return sendOutcome(reply, result, 201);
    },
  );
}
