import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { SELLER_DISCOUNT_READERS, SellerDiscountListSchema, SellerParams } from "./schemas.js";

export function register(app: App, { sellerDiscounts }: RouteDeps) {
  app.get(
    "/v1/sellers/:sellerId/loyalty-discounts",
    {
      config: { access: { roles: SELLER_DISCOUNT_READERS } },
      schema: {
        operationId: "listSellerLoyaltyDiscounts",
        tags: ["sellers"],
        summary: "R27: a seller's loyalty discounts in force",
        description: "A seller key only for its own seller id (403 otherwise).",
        security: [{ bearer: [] }],
        params: SellerParams,
        response: { 200: SellerDiscountListSchema, ...errorResponses() },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await sellerDiscounts.list(request.params.sellerId, principalOf(request)), 200),
  );
}
