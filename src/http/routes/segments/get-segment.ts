import { type App, errorResponses, type RouteDeps, sendOutcome } from "../../context.js";
import { SEGMENT_READERS, SegmentParams, SegmentSchema } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.get(
    "/v1/segments/:segmentId",
    {
      config: { access: { roles: SEGMENT_READERS } },
      schema: {
        operationId: "getSegment",
        tags: ["segments"],
        summary: "R29: a segment at its current version",
        security: [{ bearer: [] }],
        params: SegmentParams,
        response: { 200: SegmentSchema, ...errorResponses(404) },
      },
    },
    async (request, reply) => sendOutcome(reply, await segments.get(request.params.segmentId), 200),
  );
}
