import { Type } from "typebox";
import { actorOf } from "../../../app/access.js";
import {
  type App,
  errorResponses,
  fingerprintOf,
  principalOf,
  type RouteDeps,
  sendOutcome,
} from "../../context.js";
import { Id, Instant, strictObject } from "../../schemas.js";
import { ReviewSchema } from "./schemas.js";

export function register(app: App, { reviews }: RouteDeps) {
  app.post(
    "/v1/reviews",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "reportReview",
        tags: ["reviews"],
        summary: "R22: the marketplace reports a review; a detailed one earns points, pending until approved",
        description:
          "Idempotent by reviewId (per customer): a redelivery returns the stored answer, refusals too, and changes nothing; the same id with another body is 409 IDEMPOTENCY_CONFLICT. Eligible only if the customer bought the product from that seller in that order, it was delivered and not every unit came back; one reward per customer and product (409 REVIEW_ALREADY_REWARDED). By default 50 points with a photo, 10 for a text of 200 characters or more; a shorter text without a photo is recorded with 0 points and notRewardedReason.",
        security: [{ bearer: [] }],
        body: strictObject({
          reviewId: Id("The marketplace's review id"),
          customerId: Id("The reviewing customer"),
          sku: Id("The product reviewed"),
          sellerId: Id("The seller of the product"),
          orderId: Id("The order the customer bought it in"),
          textLength: Type.Integer({ minimum: 0, maximum: 1_000_000, description: "Characters of text" }),
          photoCount: Type.Integer({ minimum: 0, maximum: 1_000, description: "Photos attached" }),
          submittedAt: Instant(
            "When the customer submitted it; the programme version then decides the reward",
          ),
        }),
        response: { 201: ReviewSchema, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const result = await reviews.report(
        { ...body, submittedAt: new Date(body.submittedAt) },
        { fingerprint: fingerprintOf(body), requestId: request.id, actor: actorOf(principalOf(request)) },
      );
      return sendOutcome(reply, result, 201);
    },
  );
}
