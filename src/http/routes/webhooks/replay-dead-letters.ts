import { Type } from "typebox";
import { MAX_REPLAY_IDS } from "../../../app/notifications/webhook-subscriptions.js";
import {
  type App,
  errorResponses,
  IdempotencyKeyHeaders,
  type RouteDeps,
  sendOutcome,
  writeRequestOf,
} from "../../context.js";
import { WebhookParams } from "./schemas.js";

export function register(app: App, { webhooks }: RouteDeps) {
  app.post(
    "/v1/webhooks/:webhookId/dead-letters/replay",
    {
      config: { access: { roles: ["operator"] } },
      schema: {
        operationId: "replayWebhookDeadLetters",
        tags: ["webhooks"],
        summary: "R31: deliver dead letters again: those named, or all of them",
        description: `Each is pending again at once, with its attempts at 0 and its age counted from now (it is dead-lettered again after KOPILKA_WEBHOOK_MAX_AGE_SECONDS more of failures). Ids that are not a dead letter of this subscription (unknown, pending or delivered) are answered in notReplayed; the others are replayed. Without notificationIds, every dead letter is, a batch of 5,000 per statement. A replayed notification goes out before the customer's later pending ones, but after those already delivered. A disabled subscription's replays wait until it is enabled; a deleted one is 404 WEBHOOK_NOT_FOUND.`,
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeaders,
        params: WebhookParams,
        body: Type.Object(
          {
            notificationIds: Type.Optional(
              Type.Array(Type.String({ pattern: "^ntf_[0-9A-HJKMNP-TV-Z]{26}$", description: "ntf_…" }), {
                minItems: 1,
                maxItems: MAX_REPLAY_IDS,
                description: `1-${MAX_REPLAY_IDS} notification ids; omitted: every dead letter`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            webhookId: Type.String(),
            replayed: Type.Integer({ description: "How many dead letters are pending again" }),
            notReplayed: Type.Array(Type.String(), {
              description: "The ids named that are not a dead letter of this subscription",
            }),
          }),
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) =>
      sendOutcome(
        reply,
        await webhooks.replayDeadLetters(
          request.params.webhookId,
          request.body?.notificationIds,
          writeRequestOf(request),
        ),
        200,
      ),
  );
}
