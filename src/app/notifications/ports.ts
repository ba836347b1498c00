import type { NotificationType, StoredNotification } from "../../domain/notifications/index.js";

export type TargetKind = "webhook" | "nats";

/** A place notifications go (migration 12 `notification_targets`). */
export interface NotificationTarget {
  targetId: string;
  kind: TargetKind;
  /** Webhooks: where deliveries are POSTed. */
  url: string | null;
  /** The types it receives; null: all. */
  eventTypes: NotificationType[] | null;
  description: string | null;
  state: "enabled" | "disabled" | "deleted";
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One notification to one target, as a relay took it. */
export interface DeliveryKey {
  customerId: string;
  notificationId: string;
  targetId: string;
}

export interface ClaimedDelivery extends DeliveryKey {
  attempts: number;
  /** Where the delivery's age counts from: its creation, or its last replay. */
  since: Date;
  notification: StoredNotification;
  /** Webhooks: the URL and the signing secret. */
  url: string | null;
  secret: string | null;
}

/** A delivery that failed: retried at `nextAttemptAt`, or dead-lettered when that is null. */
export interface DeliveryFailure {
  key: DeliveryKey;
  nextAttemptAt: Date | null;
  error: string;
}

export interface DeadLetter extends DeliveryKey {
  type: NotificationType;
  attempts: number;
  since: Date;
  lastError: string | null;
}

/** The relays' side of the outbox. */
export interface NotificationDeliveries {
  /**
   * `claim_due_deliveries`: up to `limit` chains of due pending deliveries to enabled targets of a
   * kind, leased until `leaseUntil`: each the earliest pending delivery of a customer and target and
   * the due ones after it, in order — so a customer's deliveries are taken in order, by one relay.
   */
  claim(kind: TargetKind, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  delivered(keys: DeliveryKey[], at: Date): Promise<void>;
  failed(failures: DeliveryFailure[]): Promise<void>;
  /**
   * Taken but not tried: each due again at its `at` — with the failed delivery before them when one failed
   * (so that they take no place in claims while it waits), now when the lease ran short.
   */
  release(untried: { key: DeliveryKey; at: Date }[]): Promise<void>;
  /**
   * Records that every attempt to a target failed since `at` (unless it was failing already) and
   * disables it, with `reason`, when it has been failing since before `disableIfFailingBefore`.
   * True when this disabled it.
   */
  targetFailed(
    targetId: string,
    at: Date,
    disableIfFailingBefore: Date | null,
    reason: string,
  ): Promise<boolean>;
  /** A target accepted a delivery: it is not failing. */
  targetsSucceeded(targetIds: string[]): Promise<void>;
  /** Pending deliveries per target kind, and since when the oldest waits. */
  backlog(): Promise<{ kind: TargetKind; count: number; oldest: Date | null }[]>;
}

export interface ExpiryCursor {
  expiresAt: Date;
  lotId: string;
}

export interface ExpiringLot extends ExpiryCursor {
  customerId: string;
}

/** The scheduler's side of the outbox: expiry notices and the retention sweep. */
export interface NotificationHousekeeping {
  /** Available lots that need an expiry notice at `now`, in (expiry, lot id) order after `after`. */
  lotsToNotifyOfExpiry(now: Date, after: ExpiryCursor | null, limit: number): Promise<ExpiringLot[]>;
  /** Writes those customers' expiry notices and their deliveries; how many notices. */
  writeExpiryNotices(customers: string[], now: Date, idBlock: string): Promise<number>;
  /** Removes up to `limit` notifications older than `cutoff`; how many. */
  sweep(cutoff: Date, now: Date, limit: number): Promise<number>;
}
