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

/** R22: moderation's two decisions, alike but for what they do to the pending points. */
const DECISIONS = [
  {
    decision: "approve",
    operationId: "approveReview",
    summary: "R22: moderation approves a review: its pending points become available",
  },
  {
    decision: "reject",
    operationId: "rejectReview",
    summary: "R22: moderation rejects a review: its pending points are cancelled",
  },
] as const;

export function register(app: App, { reviews }: RouteDeps) {
  for (const { decision, operationId, summary } of DECISIONS) {
    app.post(
      `/v1/reviews/:reviewId/${decision}`,
      {
        config: { access: { roles: ["operator", "support"] } },
        schema: {
          operationId,
          tags: ["reviews"],
          summary,
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
          decision,
          writeRequestOf(request),
        );
        return sendOutcome(reply, answer, 200);
      },
    );
  }
}
