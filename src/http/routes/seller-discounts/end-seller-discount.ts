import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  principalOf,
  type RouteDeps,
  refuseBody,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { SELLER_DISCOUNT_WRITERS, SellerDiscountParams, SellerDiscountSchema } from "./schemas.js";

export function register(app: App, { sellerDiscounts }: RouteDeps) {
  app.delete(
    "/v1/sellers/:sellerId/loyalty-discounts/:discountId",
    {
      config: { access: { roles: SELLER_DISCOUNT_WRITERS } },
      preValidation: refuseBody,
      schema: {
        operationId: "endSellerLoyaltyDiscount",
        tags: ["sellers"],
        summary: "R27: end a seller's loyalty discount now: a new version, ended; its history stays",
        description:
          "Quotes from now on leave it out. A seller key only for its own seller id (403 otherwise). Ended before: answered as it is; never defined: 404 SELLER_DISCOUNT_NOT_FOUND. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: SellerDiscountParams,
        response: { 200: SellerDiscountSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await sellerDiscounts.end(
          request.params.sellerId,
          request.params.discountId,
          principalOf(request),
          writeRequestOf(request),
        ),
        200,
      ),
  );
}
