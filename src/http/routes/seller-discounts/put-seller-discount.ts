import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import {
  SELLER_DISCOUNT_WRITERS,
  SellerDiscountBody,
  SellerDiscountParams,
  SellerDiscountSchema,
} from "./schemas.js";

export function register(app: App, { sellerDiscounts }: RouteDeps) {
  app.put(
    "/v1/sellers/:sellerId/loyalty-discounts/:discountId",
    {
      config: { access: { roles: SELLER_DISCOUNT_WRITERS } },
      schema: {
        operationId: "putSellerLoyaltyDiscount",
        tags: ["sellers"],
        summary: "R27: create or replace a seller's loyalty discount: a new version, quoted from now on",
        description:
          "A seller key only for its own seller id (403 otherwise). The same definition again changes nothing; an ended discount put again is in force again. A seller has at most 20 in force (422 SELLER_DISCOUNTS_LIMIT_REACHED). Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: SellerDiscountParams,
        body: SellerDiscountBody,
        response: { 200: SellerDiscountSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await sellerDiscounts.put(
          request.params.sellerId,
          request.params.discountId,
          request.body,
          principalOf(request),
          writeRequestOf(request),
        ),
        200,
      ),
  );
}
