import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ClaimedDelivery } from "../../app/notifications/ports.js";
import type { NotificationTransport } from "../../app/notifications/relay.js";
import { NOTIFICATION_TYPES, type NotificationMessage } from "../../domain/notifications/index.js";
import { ensureStream } from "./streams.js";

export interface NotificationStreamSettings {
  stream: string;
  subjectPrefix: string;
  maxAgeSeconds: number;
  duplicateWindowSeconds: number;
}

/** How long a publish waits for the stream's acknowledgement before it counts as failed. */
export const PUBLISH_TIMEOUT_MS = 5000;

/** A notification's subject: `<prefix>.<type>`, such as `kopilka.points.expired`. */
export function notificationSubject(prefix: string, type: string): string {
  return `${prefix}.${type}`;
}

/** The stream's subjects: one wildcard per family of types (`<prefix>.points.>`, `<prefix>.review.>` …). */
export function notificationStreamSubjects(prefix: string): string[] {
  const families = new Set(NOTIFICATION_TYPES.map((type) => type.slice(0, type.indexOf("."))));
  return [...families].map((family) => `${prefix}.${family}.>`);
}

/**
 * R31: publishes notifications to JetStream, the notification id as `Nats-Msg-Id`, so that the server
 * drops one published again within its duplicate window (a relay that died after publishing and
 * before recording it). A publish counts when the stream acknowledged it, a duplicate included.
 */
export class JetStreamNotificationTransport implements NotificationTransport {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly subjectPrefix: string,
  ) {}

  /** The stream created if missing, or brought up to date with the settings. */
  static async open(
    connection: NatsConnection,
    settings: NotificationStreamSettings,
  ): Promise<JetStreamNotificationTransport> {
    await ensureStream(await jetstreamManager(connection), {
      name: settings.stream,
      subjects: notificationStreamSubjects(settings.subjectPrefix),
      maxAgeSeconds: settings.maxAgeSeconds,
      duplicateWindowSeconds: settings.duplicateWindowSeconds,
    });
    return new JetStreamNotificationTransport(jetstream(connection), settings.subjectPrefix);
  }

  async send(_delivery: ClaimedDelivery, message: NotificationMessage, body: string): Promise<void> {
    await this.js.publish(notificationSubject(this.subjectPrefix, message.type), body, {
      msgID: message.id,
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }
}
