import { actorOf } from "../../../app/access.js";
import { type App, errorResponses, principalOf, type RouteDeps, sendOutcome } from "../../context.js";
import { ApiError } from "../../errors.js";
import { Id, Points, strictObject } from "../../schemas.js";
import { ReviewBudgetSchema, SellerParams } from "./schemas.js";

export function register(app: App, { reviews }: RouteDeps) {
  app.post(
    "/v1/sellers/:sellerId/review-budget/fundings",
    {
      config: { access: { roles: ["operator", "seller"] } },
      schema: {
        operationId: "fundReviewBudget",
        tags: ["reviews"],
        summary: "R22: a seller funds review rewards on its own products with a points budget",
        description:
          "Idempotent by fundingId: the same funding again answers the budget and adds nothing; the same id with other points is 409 IDEMPOTENCY_CONFLICT. A seller key funds only its own seller id. A review reserves its reward from the budget when it is submitted (so a later shortfall never takes it back); when the budget cannot hold a reward, the marketplace funds it.",
        security: [{ bearer: [] }],
        params: SellerParams,
        body: strictObject({
          fundingId: Id("Your id for this funding"),
          points: Points("Points added to the budget"),
        }),
        response: { 201: ReviewBudgetSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { sellerId } = request.params;
      if (principal.type === "key" && principal.role === "seller" && principal.sellerId !== sellerId) {
        throw new ApiError("FORBIDDEN", `a seller key funds only seller ${principal.sellerId}'s budget`);
      }
      const result = await reviews.fundBudget({
        sellerId,
        fundingId: request.body.fundingId,
        points: request.body.points,
        actor: actorOf(principal),
      });
      return sendOutcome(reply, result, 201);
    },
  );

  app.get(
    "/v1/sellers/:sellerId/review-budget",
    {
      config: { access: { roles: ["operator", "support", "readonly", "seller"] } },
      schema: {
        operationId: "getReviewBudget",
        tags: ["reviews"],
        summary: "R22: a seller's review budget: funded, reserved by reviews, remaining",
        description: "A seller key reads only its own.",
        security: [{ bearer: [] }],
        params: SellerParams,
        response: { 200: ReviewBudgetSchema, ...errorResponses() },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { sellerId } = request.params;
      if (principal.type === "key" && principal.role === "seller" && principal.sellerId !== sellerId) {
        throw new ApiError("FORBIDDEN", `a seller key reads only seller ${principal.sellerId}'s budget`);
      }
      return reviews.budget(sellerId);
    },
  );
}
