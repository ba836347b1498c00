import { type App, errorResponses, type RouteDeps, sendOutcome } from "../../context.js";
import { WebhookDetailSchema, WebhookParams } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.get(
    "/v1/webhooks/:webhookId",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "getWebhook",
        tags: ["webhooks"],
        summary: "R31: a webhook subscription, its state and how many deliveries are pending and dead",
        description:
          "A deleted subscription is shown too (state deleted): its dead letters stay until the retention sweep. Never the secret.",
        security: [{ bearer: [] }],
        params: WebhookParams,
        response: { 200: WebhookDetailSchema, ...errorResponses(404) },
      },
    },
    async (request, reply) => sendOutcome(reply, await webhooks.get(request.params.webhookId), 200),
  );
}
