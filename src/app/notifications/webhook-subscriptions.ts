/**
 * R31, issue 10: webhook subscriptions, made and changed by operators through the API. A subscription
 * is a notification target (migration 12) of kind `webhook`: every notification written while it is
 * not deleted gets a delivery to it (of the types it takes), which the webhook relay POSTs, signed
 * with the subscription's secret. Writes are idempotent by the caller's Idempotency-Key and audited.
 */

import { NOTIFICATION_TYPES, type NotificationType } from "../../domain/notifications/index.js";
import { answerOfKeyedWrite, type Outcome, type WriteRequest } from "../ledger-service.js";
import type { Clock, IdGenerator, KeyedWriteRun } from "../ports.js";
import { sweepInBatches } from "../sweep.js";
import { type FieldProblem, validationFailed } from "../validation-refusal.js";
import type { DeadLetter, NotificationTarget } from "./ports.js";

export const WEBHOOK_REFUSAL_CODES = ["WEBHOOK_NOT_FOUND"] as const;

/** The most notification ids one replay names; without ids a replay takes every dead letter. */
export const MAX_REPLAY_IDS = 1_000;
export const MAX_URL_LENGTH = 2_048;
export const MAX_DESCRIPTION_LENGTH = 200;

/** Operations as their Idempotency-Keys are scoped (a key is for one of them). */
const SCOPES = {
  create: "webhooks.create",
  update: "webhooks.update",
  delete: "webhooks.delete",
  replay: "webhooks.replay_dead_letters",
} as const;

/** A webhook subscription as the API shows it: never its secret. */
export interface WebhookView {
  id: string;
  url: string;
  eventTypes: NotificationType[] | null;
  description: string | null;
  state: NotificationTarget["state"];
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeadLetterView {
  notificationId: string;
  customerId: string;
  type: NotificationType;
  attempts: number;
  since: string;
  lastError: string | null;
}

/** Where a dead-letter page ends: the keyset is (notificationId, customerId). */
export interface DeadLetterPosition {
  notificationId: string;
  customerId: string;
}

/** What one write transaction may do to the subscriptions (src/infra/notification-target-store.ts). */
export interface WebhookTargetWrites {
  /** The webhook (never a broker target), locked until the transaction ends; undefined if none. */
  lock(targetId: string): Promise<NotificationTarget | undefined>;
  insert(target: NotificationTarget, secret: string): Promise<void>;
  /** Writes url, eventTypes, description, state, disabledReason, failingSince and updatedAt. */
  update(target: NotificationTarget): Promise<void>;
  /**
   * Dead letters of the target made pending again (attempts 0, since and next attempt `at`): those
   * named, or up to `limit` of any when `notificationIds` is null. The notification ids replayed.
   */
  replayDeadLetters(
    targetId: string,
    notificationIds: string[] | null,
    at: Date,
    limit: number,
  ): Promise<string[]>;
  audit(entry: { action: string; subject: string; before: unknown; after: unknown }): Promise<void>;
}

/** The subscriptions' storage: the narrow port the use cases need. */
export interface WebhookTargetStore {
  /** Writes under the caller's Idempotency-Key for a subscription's id ("" for a new one). */
  keyed: KeyedWriteRun<WebhookTargetWrites>;
  /** Webhooks not deleted, by id (time-ordered), after `after`. */
  list(after: string | null, limit: number): Promise<NotificationTarget[]>;
  /** A webhook, deleted ones too; undefined if none. */
  find(targetId: string): Promise<NotificationTarget | undefined>;
  deliveryCounts(targetId: string): Promise<{ pending: number; dead: number }>;
  /** The target's dead letters, oldest notification first, after `after`. */
  deadLetters(targetId: string, after: DeadLetterPosition | null, limit: number): Promise<DeadLetter[]>;
  /** Removes up to `limit` stored answers made before `cutoff`, oldest first; how many. */
  sweepStoredAnswers(cutoff: Date, limit: number): Promise<number>;
}

export interface NewWebhook {
  url: string;
  eventTypes?: NotificationType[] | null | undefined;
  description?: string | null | undefined;
}

export interface WebhookChanges {
  url?: string | undefined;
  eventTypes?: NotificationType[] | null | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

type Refusal = { ok: false; code: string; message: string; details: Record<string, unknown> };

/** Replays of every dead letter go in statements of this many. */
const REPLAY_BATCH = 5_000;

export class WebhookSubscriptions {
  constructor(
    private readonly store: WebhookTargetStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    /** A new signing secret (random). */
    private readonly newSecret: () => string,
    /** KOPILKA_IDEMPOTENCY_RETENTION_HOURS: how long stored answers are kept. */
    private readonly answerRetentionHours: number,
  ) {}

  /** A new subscription, enabled; its secret is in this answer only (and in its replays). */
  async create(input: NewWebhook, request: WriteRequest) {
    const invalid = refusalOf([
      ...urlProblems(input.url),
      ...eventTypeProblems(input.eventTypes),
      ...descriptionProblems(input.description),
    ]);
    if (invalid) return invalid;
    return this.keyed(SCOPES.create, "", request, async (tx, now) => {
      const target: NotificationTarget = {
        targetId: this.ids.newId("whk"),
        kind: "webhook",
        url: input.url,
        eventTypes: input.eventTypes ?? null,
        description: input.description ?? null,
        state: "enabled",
        disabledReason: null,
        failingSince: null,
        createdAt: now,
        updatedAt: now,
      };
      const secret = this.newSecret();
      await tx.insert(target, secret);
      const view = viewOf(target);
      await tx.audit({ action: SCOPES.create, subject: target.targetId, before: null, after: view });
      return { ok: true as const, value: { ...view, secret } };
    });
  }

  /**
   * Changes what is given. Enabling a disabled subscription clears why it was disabled and since when
   * it failed; disabling one keeps its deliveries pending until it is enabled again; a new URL starts
   * with no failures. A deleted subscription is not found.
   */
  async update(targetId: string, changes: WebhookChanges, request: WriteRequest) {
    const invalid = refusalOf([
      ...(changes.url === undefined ? [] : urlProblems(changes.url)),
      ...eventTypeProblems(changes.eventTypes),
      ...descriptionProblems(changes.description),
    ]);
    if (invalid) return invalid;
    return this.keyed(SCOPES.update, targetId, request, async (tx, now) => {
      const before = await tx.lock(targetId);
      if (!before || before.state === "deleted") return notFound(targetId);
      const after: NotificationTarget = { ...before, updatedAt: now };
      if (changes.url !== undefined && changes.url !== before.url) {
        after.url = changes.url;
        after.failingSince = null;
      }
      if (changes.eventTypes !== undefined) after.eventTypes = changes.eventTypes;
      if (changes.description !== undefined) after.description = changes.description;
      if (changes.enabled === true && before.state === "disabled") {
        after.state = "enabled";
        after.disabledReason = null;
        after.failingSince = null;
      }
      if (changes.enabled === false && before.state === "enabled") {
        after.state = "disabled";
        after.disabledReason = `disabled through the API by ${request.actor}`;
      }
      await tx.update(after);
      const view = viewOf(after);
      await tx.audit({ action: SCOPES.update, subject: targetId, before: viewOf(before), after: view });
      return { ok: true as const, value: view };
    });
  }

  /**
   * Marks the subscription deleted (the row stays: its deliveries name it). Notifications written
   * from now on get no delivery to it, and its pending ones are never attempted (relays take enabled
   * targets only); the retention sweep removes them with their notifications.
   */
  async delete(targetId: string, request: WriteRequest) {
    return this.keyed(SCOPES.delete, targetId, request, async (tx, now) => {
      const before = await tx.lock(targetId);
      if (!before || before.state === "deleted") return notFound(targetId);
      const after: NotificationTarget = { ...before, state: "deleted", updatedAt: now };
      await tx.update(after);
      const view = viewOf(after);
      await tx.audit({ action: SCOPES.delete, subject: targetId, before: viewOf(before), after: view });
      return { ok: true as const, value: view };
    });
  }

  /**
   * Dead letters made pending again, due now, with their attempts at 0 and their age counted from
   * now: those named (ids that are not a dead letter of this webhook are answered in
   * `notReplayed`, the rest replayed), or every one, a batch per statement. A disabled subscription's
   * replayed deliveries wait until it is enabled. In order per customer: a customer's later pending
   * notifications wait for a replayed earlier one, but those delivered already stay delivered.
   */
  async replayDeadLetters(targetId: string, notificationIds: string[] | undefined, request: WriteRequest) {
    return this.keyed(SCOPES.replay, targetId, request, async (tx, now) => {
      const target = await tx.lock(targetId);
      if (!target || target.state === "deleted") return notFound(targetId);
      let replayed: string[];
      let notReplayed: string[] = [];
      if (notificationIds !== undefined) {
        const named = [...new Set(notificationIds)];
        replayed = await tx.replayDeadLetters(targetId, named, now, named.length);
        const done = new Set(replayed);
        notReplayed = named.filter((id) => !done.has(id));
      } else {
        replayed = [];
        for (;;) {
          const batch = await tx.replayDeadLetters(targetId, null, now, REPLAY_BATCH);
          replayed.push(...batch);
          if (batch.length < REPLAY_BATCH) break;
        }
      }
      const value = { webhookId: targetId, replayed: replayed.length, notReplayed };
      await tx.audit({ action: SCOPES.replay, subject: targetId, before: null, after: value });
      return { ok: true as const, value };
    });
  }

  async list(query: { after: string | undefined; limit: number }) {
    const rows = await this.store.list(query.after ?? null, query.limit + 1);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return { items: items.map(viewOf), next: rows.length > query.limit && last ? last.targetId : null };
  }

  /** A subscription with how many of its deliveries are pending and dead; deleted ones too. */
  async get(
    targetId: string,
  ): Promise<Outcome<WebhookView & { deliveries: { pending: number; dead: number } }>> {
    const target = await this.store.find(targetId);
    if (!target) return notFound(targetId);
    return { ok: true, value: { ...viewOf(target), deliveries: await this.store.deliveryCounts(targetId) } };
  }

  /** A page of the subscription's dead letters, oldest notification first; undefined: a foreign cursor. */
  async deadLetters(
    targetId: string,
    query: { after: string | undefined; limit: number },
  ): Promise<Outcome<{ items: DeadLetterView[]; next: string | null }> | undefined> {
    const after = query.after === undefined ? null : decodeDeadLetterCursor(query.after);
    if (after === undefined) return undefined;
    const target = await this.store.find(targetId);
    if (!target) return notFound(targetId);
    const rows = await this.store.deadLetters(targetId, after, query.limit + 1);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      ok: true,
      value: {
        items: items.map((d) => ({
          notificationId: d.notificationId,
          customerId: d.customerId,
          type: d.type,
          attempts: d.attempts,
          since: d.since.toISOString(),
          lastError: d.lastError,
        })),
        next: rows.length > query.limit && last ? encodeDeadLetterCursor(last) : null,
      },
    };
  }

  /** Stored answers older than the retention, swept set-based (every scheduler round). */
  async sweepStoredAnswers(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.answerRetentionHours * 3_600_000);
    return sweepInBatches((limit) => this.store.sweepStoredAnswers(cutoff, limit));
  }

  private async keyed<T>(
    scope: string,
    subject: string,
    request: WriteRequest,
    write: (tx: WebhookTargetWrites, now: Date) => Promise<Outcome<T>>,
  ) {
    const now = this.clock.now();
    const result = await this.store.keyed(scope, subject, request, now, (tx) => write(tx, now));
    return answerOfKeyedWrite(result, scope, request);
  }
}

export function viewOf(t: NotificationTarget): WebhookView {
  return {
    id: t.targetId,
    url: t.url ?? "",
    eventTypes: t.eventTypes,
    description: t.description,
    state: t.state,
    disabledReason: t.disabledReason,
    failingSince: t.failingSince?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

function notFound(targetId: string): Refusal {
  return {
    ok: false,
    code: "WEBHOOK_NOT_FOUND",
    message: `no webhook subscription ${targetId}`,
    details: { webhookId: targetId },
  };
}

function refusalOf(problems: FieldProblem[]): (Refusal & { replayed: false }) | undefined {
  return problems.length > 0 ? { ...validationFailed(problems), replayed: false } : undefined;
}

/**
 * An endpoint is an absolute http(s) URL without credentials in it: a receiver checks the signature,
 * and a user name or password in the URL would be logged and shown to every operator.
 */
export function urlProblems(url: string): FieldProblem[] {
  const problem = (message: string) => [{ field: "body.url", message }];
  if (url.length > MAX_URL_LENGTH) return problem(`must be at most ${MAX_URL_LENGTH} characters`);
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return problem("must be an absolute http:// or https:// URL");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem("is not a valid absolute URL");
  }
  if (parsed.hostname === "") return problem("must name a host");
  if (parsed.username !== "" || parsed.password !== "")
    return problem("must not carry a user name or password (receivers check the signature instead)");
  return [];
}

function eventTypeProblems(types: readonly string[] | null | undefined): FieldProblem[] {
  if (types === undefined || types === null) return [];
  if (types.length === 0)
    return [{ field: "body.eventTypes", message: "must name at least one type (null: all of them)" }];
  const known = new Set<string>(NOTIFICATION_TYPES);
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const [i, type] of types.entries()) {
    if (!known.has(type))
      problems.push({
        field: `body.eventTypes[${i}]`,
        message: `${JSON.stringify(type)} is not a notification type (${NOTIFICATION_TYPES.join(", ")})`,
      });
    else if (seen.has(type))
      problems.push({ field: `body.eventTypes[${i}]`, message: `${JSON.stringify(type)} is named twice` });
    seen.add(type);
  }
  return problems;
}

function descriptionProblems(description: string | null | undefined): FieldProblem[] {
  if (description === undefined || description === null || description.length <= MAX_DESCRIPTION_LENGTH)
    return [];
  return [{ field: "body.description", message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` }];
}

function encodeDeadLetterCursor(p: DeadLetterPosition): string {
  return Buffer.from(JSON.stringify([p.notificationId, p.customerId])).toString("base64url");
}

/** The position a cursor names; undefined when it is not one this listing gave. */
function decodeDeadLetterCursor(cursor: string): DeadLetterPosition | undefined {
  try {
    const [notificationId, customerId] = JSON.parse(
      Buffer.from(cursor, "base64url").toString("utf8"),
    ) as unknown[];
    if (typeof notificationId !== "string" || typeof customerId !== "string") return undefined;
    return { notificationId, customerId };
  } catch {
    return undefined;
  }
}
