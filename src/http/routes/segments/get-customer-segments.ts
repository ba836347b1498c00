import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { CustomerParams } from "../../schemas.js";
import { CustomerStatsSchema } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.get(
    "/v1/customers/:customerId/segments",
    {
      config: { access: { roles: ["operator", "support", "readonly"], customerSelf: true } },
      schema: {
        operationId: "getCustomerSegments",
        tags: ["segments"],
        summary: "R29: a customer's statistics now and the segments it belongs to",
        security: [{ bearer: [] }],
        params: CustomerParams,
        response: {
          200: Type.Object({
            customerId: Type.String(),
            asOf: Type.String({ format: "date-time" }),
            stats: CustomerStatsSchema,
            segments: Type.Array(Type.String(), { description: "Segment ids, sorted" }),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) => segments.ofCustomer(request.params.customerId),
  );
}
