import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { CustomerParams, Id, Points, RedemptionSchema, strictObject } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/refunds",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "refundPoints",
        tags: ["ledger"],
        summary:
          "R15: give spent points back into their lots; expired lots give them back with 30 days of grace",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: CustomerParams,
        body: strictObject({
          redemptionId: Id("The spend or captured hold to refund"),
          amount: Points("How many points to give back"),
        }),
        response: {
          201: Type.Object({
            ...RedemptionSchema.properties,
            graceUntil: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
              description: "R15: set when points came back into a grace lot",
            }),
          }),
          ...errorResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const result = await ledger.refund(request.params.customerId, request.body, writeRequestOf(request));
      return sendOutcome(reply, result, 201);
    },
  );
}
