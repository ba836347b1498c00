import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { EventTypes, WebhookDescription, WebhookParams, WebhookSchema, WebhookUrl } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.patch(
    "/v1/webhooks/:webhookId",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "updateWebhook",
        tags: ["webhooks"],
        summary: "R31: change a webhook subscription's URL, types or description, or enable or disable it",
        description:
          "Only what is given changes. `enabled: true` on a disabled subscription (by an operator, or because its endpoint kept failing) clears disabledReason and failingSince, and its waiting deliveries go out again; `enabled: false` keeps them waiting. A new URL starts with no failures. New types apply to notifications written from now on. A deleted subscription is 404 WEBHOOK_NOT_FOUND. Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: WebhookParams,
        body: Type.Object(
          {
            url: Type.Optional(WebhookUrl),
            eventTypes: Type.Optional(EventTypes),
            description: Type.Optional(WebhookDescription),
            enabled: Type.Optional(Type.Boolean({ description: "true: enable; false: disable" })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: WebhookSchema, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await webhooks.update(request.params.webhookId, request.body, writeRequestOf(request)),
        200,
      ),
  );
}
