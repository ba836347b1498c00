import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { Id, strictObject } from "../../schemas.js";
import { ReviewParams, ReviewSchema } from "./schemas.js";

export function register(app: App, { reviews }: RouteDeps) {
  app.post(
    "/v1/reviews/:reviewId/reject",
    {
      config: { access: { roles: ["operator", "support"] } },
      schema: {
        operationId: "rejectReview",
        tags: ["reviews"],
        summary: "R22: moderation rejects a review: its pending points are cancelled",
        description:
          "The API key that calls is recorded as the moderator. Deciding the same again answers the review as it stands and moves nothing; the other decision after this one is 409 REVIEW_ALREADY_MODERATED.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: ReviewParams,
        body: strictObject({ customerId: Id("The reviewing customer (as the unmoderated list gives it)") }),
        response: { 200: ReviewSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const answer = await reviews.moderate(
        request.body.customerId,
        request.params.reviewId,
        "reject",
        writeRequestOf(request),
      );
      return sendOutcome(reply, answer, 200);
    },
  );
}
