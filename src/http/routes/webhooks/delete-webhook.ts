import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  refuseBody,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { WebhookParams, WebhookSchema } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.delete(
    "/v1/webhooks/:webhookId",
    {
      config: { access: { roles: ["operator"] } },
      preValidation: refuseBody,
      schema: {
        operationId: "deleteWebhook",
        tags: ["webhooks"],
        summary: "R31: delete a webhook subscription; nothing more is delivered to it",
        description:
          "The subscription stays, with state deleted (its deliveries name it). Notifications written from now on get no delivery to it, its pending deliveries are never attempted, and the retention sweep (KOPILKA_NOTIFICATION_RETENTION_HOURS) removes them and its dead letters with their notifications. Deleted before: 404 WEBHOOK_NOT_FOUND. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: WebhookParams,
        response: { 200: WebhookSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await webhooks.delete(request.params.webhookId, writeRequestOf(request)), 200),
  );
}
