import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps } from "../../context.js";
import { ListQuery, NextCursor, WebhookSchema } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.get(
    "/v1/webhooks",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "listWebhooks",
        tags: ["webhooks"],
        summary: "R31: the webhook subscriptions not deleted, oldest first, in pages",
        security: [{ bearer: [] }],
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(WebhookSchema), next: NextCursor }),
          ...errorResponses(),
        },
      },
    },
    async (request) =>
      webhooks.list({ after: request.query.after, limit: Number(request.query.limit ?? 100) }),
  );
}
