import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { CustomerParams, Id, PointKindSchema, Points, Reference, strictObject } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/clawbacks",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "clawBackPoints",
        tags: ["ledger"],
        summary: "R13, R14: take back an accrual; reports the shortfall and records it as debt",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          kind: PointKindSchema,
          amount: Points("How many points to take back"),
          lotId: Type.Optional(Id("The lot the returned purchase credited; it is taken from first")),
          reference: Type.Optional(Reference),
        }),
        response: {
          201: Type.Object({
            cancelledPending: Type.Integer({ description: "Pending points cancelled (R13)" }),
            clawedBack: Type.Integer({ description: "Available points taken back" }),
            shortfall: Type.Integer({
              description: "R14: withhold this from the money refund, or it stays as debt",
            }),
            debtAfter: Type.Integer(),
          }),
          ...errorResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { lotId, ...rest } = request.body;
      const result = await ledger.clawback(
        request.params.customerId,
        { ...rest, lotIds: lotId ? [lotId] : undefined },
        writeRequestOf(request),
      );
      return sendOutcome(reply, result, 201);
    },
  );
}
