import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  refuseBody,
  sendOutcome,
  writeRequestOf,
} from "../context.js";
import { HoldParams, HoldSchema } from "../schemas.js";

export function register(app: App, { ledger }: RouteDeps) {
  app.post(
    "/v1/customers/:customerId/holds/:holdId/capture",
    {
      config: { access: { roles: ["operator"] } },
      preValidation: refuseBody,
      schema: {
        operationId: "captureHold",
        tags: ["holds"],
        summary: "R20: the order is paid; held points are spent. Capturing twice changes nothing",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: HoldParams,
        response: { 200: HoldSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { customerId, holdId } = request.params;
      return sendOutcome(reply, await ledger.capture(customerId, holdId, writeRequestOf(request)), 200);
    },
  );
}
