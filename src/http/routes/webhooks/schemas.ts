import { type TSchema, Type } from "typebox";
import { MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH } from "../../../app/notifications/webhook-subscriptions.js";
import { NOTIFICATION_TYPES, type NotificationType } from "../../../domain/notifications/index.js";
import { literals, nullable, PageCursor, PageLimit, Text } from "../../schemas.js";

export const NotificationTypeSchema = literals(NOTIFICATION_TYPES, "R31: a notification type");

export const WebhookParams = Type.Object({
  webhookId: Type.String({
    pattern: "^whk_[0-9A-HJKMNP-TV-Z]{26}$",
    description: "The subscription's id (whk_ and 26 base-32 digits)",
  }),
});

export const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: MAX_URL_LENGTH,
  pattern: "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$",
  description: `Where deliveries are POSTed: an absolute http:// or https:// URL without a user name or password, at most ${MAX_URL_LENGTH} characters`,
});

export const EventTypes = nullable<NotificationType[]>(
  Type.Array(NotificationTypeSchema, { minItems: 1, uniqueItems: true }),
  "The notification types to deliver, each once; omitted or null: all of them (types added later too)",
);

export const WebhookDescription = nullable<string>(
  Text({ minLength: 1, maxLength: MAX_DESCRIPTION_LENGTH, description: "" }),
  `Yours, for people: at most ${MAX_DESCRIPTION_LENGTH} characters; null for none`,
);

const nullOr = (schema: TSchema) => Type.Union([schema, Type.Null()]);

export const WebhookSchema = Type.Object(
  {
    id: Type.String({ description: "whk_…" }),
    url: Type.String(),
    eventTypes: nullOr(Type.Array(NotificationTypeSchema)),
    description: nullOr(Type.String()),
    state: literals(
      ["enabled", "disabled", "deleted"] as const,
      "enabled: delivered to; disabled: deliveries wait (by an operator, or because the endpoint kept failing); deleted: nothing more is delivered",
    ),
    disabledReason: nullOr(Type.String({ description: "Why it is disabled" })),
    failingSince: nullOr(
      Type.String({ format: "date-time", description: "Since when every delivery attempt has failed" }),
    ),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "Webhook", description: "R31: a webhook subscription (never its secret)" },
);

export const CreatedWebhookSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({
      description:
        'The signing secret (whsec_…): shown in this answer only (and to the same caller\'s retry with the same Idempotency-Key while the answer is kept). Deliveries carry `kopilka-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`',
    }),
  },
  { description: "R31: a new webhook subscription, with its signing secret" },
);

export const WebhookDetailSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    deliveries: Type.Object({
      pending: Type.Integer({ description: "Waiting for their first attempt or a retry" }),
      dead: Type.Integer({
        description: "Dead letters: failed for longer than KOPILKA_WEBHOOK_MAX_AGE_SECONDS",
      }),
    }),
  },
  { description: "R31: a webhook subscription with its delivery backlog" },
);

export const ListQuery = Type.Object(
  { limit: PageLimit, after: PageCursor },
  { additionalProperties: false },
);

export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: "Cursor of the next page, or null",
});
