import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { SEGMENT_WRITERS, SegmentBody, SegmentParams, SegmentSchema } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.put(
    "/v1/segments/:segmentId",
    {
      config: { access: { roles: SEGMENT_WRITERS } },
      schema: {
        operationId: "putSegment",
        tags: ["segments"],
        summary: "R29: create a segment, or make this definition its next version",
        description:
          "Membership is the rule applied to each customer's statistics as they are now: never stored, so it follows order events (and the passing days) at once. The same definition again changes nothing. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: SegmentParams,
        body: SegmentBody,
        response: { 200: SegmentSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await segments.put(request.params.segmentId, request.body, writeRequestOf(request)),
        200,
      ),
  );
}
