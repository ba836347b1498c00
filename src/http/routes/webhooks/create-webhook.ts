import { Type } from "typebox";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { strictObject } from "../../schemas.js";
import { CreatedWebhookSchema, EventTypes, WebhookDescription, WebhookUrl } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.post(
    "/v1/webhooks",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "createWebhook",
        tags: ["webhooks"],
        summary: "R31: subscribe an endpoint to notifications; the answer shows its signing secret, once",
        description:
          "Every notification written from now on, of the types asked for, is POSTed to the URL (at least once, in order per customer, signed with the secret). The secret is in this answer only; a retry with the same Idempotency-Key by the same caller answers it again while the answer is kept (KOPILKA_IDEMPOTENCY_RETENTION_HOURS). Audited.",
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        body: strictObject({
          url: WebhookUrl,
          eventTypes: Type.Optional(EventTypes),
          description: Type.Optional(WebhookDescription),
        }),
        response: { 201: CreatedWebhookSchema, ...errorResponses(409) },
      },
    },
    async (request, reply) =>
      sendOutcome(reply, await webhooks.create(request.body, writeRequestOf(request)), 201),
  );
}
