import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { SEGMENT_READERS, SegmentSchema } from "./schemas.js";

export function register(app: App, { segments }: RouteDeps) {
  app.get(
    "/v1/segments",
    {
      config: { access: { roles: SEGMENT_READERS } },
      schema: {
        operationId: "listSegments",
        tags: ["segments"],
        summary: "R29: every segment at its current version, by id",
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ items: Type.Array(SegmentSchema) }), ...errorResponses() },
      },
    },
    async () => ({ items: await segments.list() }),
  );
}
