import { Type } from "typebox";
import { actorOf } from "../../app/access.js";
import { type App, errorResponses, principalOf, type RouteDeps } from "../context.js";
import { ApiError } from "../errors.js";
import { Id, strictObject } from "../schemas.js";

export function register(app: App, { orders }: RouteDeps) {
  app.put(
    "/v1/sellers/:sellerId/products/:sku/points",
    {
      config: { access: { roles: ["operator", "seller"] } },
      schema: {
        operationId: "setSellerProductPoints",
        tags: ["sellers"],
        summary: "R11: fixed points per unit a seller funds on its own product (0 stops them)",
        description:
          "A seller key may set points only for its own seller id. Orders placed afterwards use the new value; PUT is idempotent by nature (the same body leaves the same state).",
        security: [{ bearer: [] }],
        params: Type.Object({ sellerId: Id("The seller"), sku: Id("The product") }),
        body: strictObject({
          pointsPerUnit: Type.Integer({ minimum: 0, maximum: 100_000, description: "Whole points per unit" }),
        }),
        response: {
          200: Type.Object({
            sellerId: Type.String(),
            sku: Type.String(),
            pointsPerUnit: Type.Integer(),
            previous: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (
        principal.type === "key" &&
        principal.role === "seller" &&
        principal.sellerId !== request.params.sellerId
      ) {
        throw new ApiError("FORBIDDEN", `a seller key sets points only for seller ${principal.sellerId}`);
      }
      return orders.setSellerPoints({
        sellerId: request.params.sellerId,
        sku: request.params.sku,
        pointsPerUnit: request.body.pointsPerUnit,
        actor: actorOf(principal),
      });
    },
  );
}
