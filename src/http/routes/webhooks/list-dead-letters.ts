import { Type } from "typebox";
import { type App, errorResponses, type RouteDeps, sendForeignCursor, sendOutcome } from "../../context.js";
import { ListQuery, NextCursor, NotificationTypeSchema, WebhookParams } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.get(
    "/v1/webhooks/:webhookId/dead-letters",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "listWebhookDeadLetters",
        tags: ["webhooks"],
        summary: "R31: the subscription's dead letters, oldest notification first, in pages",
        description:
          "A dead letter is a delivery that kept failing for longer than KOPILKA_WEBHOOK_MAX_AGE_SECONDS since its notification (or its last replay). Oldest first: the order the notifications were made in, and the order a replay delivers them in. Replay them with POST …/dead-letters/replay.",
        security: [{ bearer: [] }],
        params: WebhookParams,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                notificationId: Type.String(),
                customerId: Type.String(),
                type: NotificationTypeSchema,
                attempts: Type.Integer({ description: "Attempts made before it was dead-lettered" }),
                since: Type.String({
                  format: "date-time",
                  description: "Where its age counted from: the notification, or its last replay",
                }),
                lastError: Type.Union([Type.String(), Type.Null()], {
                  description: "What the last attempt got",
                }),
              }),
            ),
            next: NextCursor,
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const page = await webhooks.deadLetters(request.params.webhookId, {
        after: request.query.after,
        limit: Number(request.query.limit ?? 100),
      });
      return page ? sendOutcome(reply, page, 200) : sendForeignCursor(reply);
    },
  );
}
