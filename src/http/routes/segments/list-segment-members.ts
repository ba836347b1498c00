import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendOutcome } from "../../context.js";
import { PageCursor, PageLimit } from "../../schemas.js";
import { CustomerStatsSchema, SEGMENT_READERS, SegmentParams } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.get(
    "/v1/segments/:segmentId/members",
    {
      config: { access: { roles: SEGMENT_READERS } },
      schema: {
        operationId: "listSegmentMembers",
        tags: ["segments"],
        summary: "R29: the segment's members now, by customer id, in pages",
        description:
          "Each page reads at most 20,000 customers: a page may hold fewer than `limit` members and still have a `next` to go on from.",
        security: [{ bearer: [] }],
        params: SegmentParams,
        querystring: Type.Object({ limit: PageLimit, after: PageCursor }),
        response: {
          200: Type.Object({
            segmentId: Type.String(),
            version: Type.Integer(),
            asOf: Type.String({ format: "date-time" }),
            members: Type.Array(Type.Object({ customerId: Type.String(), stats: CustomerStatsSchema })),
            next: Type.Union([Type.String(), Type.Null()], {
              description: "Go on after this customer; null: done",
            }),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await segments.members(request.params.segmentId, {
          after: request.query.after ?? null,
          limit: Number(request.query.limit ?? 100),
        }),
        200,
      ),
  );
}
