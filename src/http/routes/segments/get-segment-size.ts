import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../../context.js";
import { SEGMENT_READERS, SegmentParams } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.get(
    "/v1/segments/:segmentId/size",
    {
      config: { access: { roles: SEGMENT_READERS } },
      schema: {
        operationId: "getSegmentSize",
        tags: ["segments"],
        summary: "R29: how many customers the segment holds now, of how many",
        description: "Reads every customer's statistics (in pages): for dashboards, not for every request.",
        security: [{ bearer: [] }],
        params: SegmentParams,
        response: {
          200: Type.Object({
            segmentId: Type.String(),
            version: Type.Integer(),
            asOf: Type.String({ format: "date-time" }),
            members: Type.Integer(),
            customers: Type.Integer(),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => sendOutcome(reply, await segments.size(request.params.segmentId), 200),
  );
}
