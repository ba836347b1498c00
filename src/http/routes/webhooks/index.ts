import type { App, RouteDeps } from "../../context.js";
import { register as createWebhook } from "./create-webhook.js";
import { register as deleteWebhook } from "./delete-webhook.js";
import { register as getWebhook } from "./get-webhook.js";
import { register as listDeadLetters } from "./list-dead-letters.js";
import { register as listWebhooks } from "./list-webhooks.js";
import { register as replayDeadLetters } from "./replay-dead-letters.js";
import { register as updateWebhook } from "./update-webhook.js";

/** R31's webhook subscriptions (issue 10), one file each; operators only. */
export const WEBHOOK_ROUTES: ((app: App, deps: RouteDeps) => void)[] = [
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  listDeadLetters,
  replayDeadLetters,
];
