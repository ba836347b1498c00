import type { ExplanationContext } from "../../domain/ledger/index.js";
import { type NotificationMessage, renderNotification } from "../../domain/notifications/index.js";
import type { Clock } from "../ports.js";
import type {
  ClaimedDelivery,
  DeliveryFailure,
  DeliveryKey,
  NotificationDeliveries,
  TargetKind,
} from "./ports.js";

/** How a relay hands one notification to one target: resolves when the target accepted it. */
export interface NotificationTransport {
  send(delivery: ClaimedDelivery, message: NotificationMessage, body: string): Promise<void>;
}

export interface RelayOptions {
  /** Chains (a customer's due deliveries to one target) taken per claim. */
  batchSize: number;
  /** How long a taken delivery is this relay's; another relay takes it after that (this one died). */
  leaseMs: number;
  /** The longest one attempt may take: a chain stops while its lease still covers one more. */
  attemptTimeoutMs: number;
  /** The first retry's delay; each next one doubles, up to `maxRetryDelayMs`. */
  retryBaseMs: number;
  maxRetryDelayMs: number;
  /** A delivery failing for longer than this is dead-lettered (replayable). */
  maxAgeMs: number;
  /** Webhooks: a target failing for longer than this is disabled; null: never (the broker). */
  disableAfterMs: number | null;
  /** Claims one round makes at most, so that a round ends while others wait to run. */
  maxBatchesPerRound: number;
}

export interface RelayRound {
  delivered: number;
  failed: number;
  dead: number;
  /** The round stopped at its batch limit with more to take. */
  more: boolean;
}

/**
 * Exponential back-off with jitter: the n-th retry waits between half and all of
 * min(max, base · 2^(n−1)). Hand-written: the schedule lives in the database (`next_attempt_at`), so
 * a retry library's in-process loop does not fit.
 */
export function retryDelayMs(
  attempt: number,
  options: RelayOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxRetryDelayMs, options.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * R31: delivers the outbox to every target of one kind, at least once and in order per customer.
 * Safe with several instances: deliveries are claimed with `for update skip locked` and leased; a
 * relay that dies mid-delivery leaves them to be taken again when the lease ends, so a receiver may
 * see a notification twice, by the same id (the broker drops such a duplicate by `Nats-Msg-Id`).
 * A customer's deliveries to one target go one after another; a failure stops that customer's chain
 * until the failed one is delivered or dead-lettered.
 */
export class NotificationRelay {
  constructor(
    private readonly kind: TargetKind,
    private readonly deliveries: NotificationDeliveries,
    private readonly transport: NotificationTransport,
    private readonly clock: Clock,
    private readonly explanationContext: () => Promise<ExplanationContext>,
    private readonly options: RelayOptions,
    /** Told of each attempt's outcome, for /metrics. */
    private readonly onOutcome: (
      kind: TargetKind,
      outcome: "delivered" | "failed" | "dead",
    ) => void = () => {},
    /** Told of a target this relay disabled. */
    private readonly onDisabled: (targetId: string, reason: string) => void = () => {},
  ) {}

  async deliverPending(): Promise<RelayRound> {
    const round: RelayRound = { delivered: 0, failed: 0, dead: 0, more: false };
    for (let batch = 0; batch < this.options.maxBatchesPerRound; batch++) {
      const now = this.clock.now();
      const leaseUntil = new Date(now.getTime() + this.options.leaseMs);
      const taken = await this.deliveries.claim(this.kind, now, leaseUntil, this.options.batchSize);
      if (taken.length === 0) return round;
      const context = await this.explanationContext();
      const chains = new Map<string, ClaimedDelivery[]>();
      for (const d of taken) {
        const chain = `${d.targetId}\u0000${d.customerId}`;
        chains.set(chain, [...(chains.get(chain) ?? []), d]);
      }
      const results = await Promise.all(
        [...chains.values()].map((chain) => this.deliverChain(chain, context, leaseUntil)),
      );
      const delivered = results.flatMap((r) => r.delivered);
      const failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
      const at = this.clock.now();
      await this.deliveries.delivered(delivered, at);
      await this.deliveries.failed(failures);
      // Behind a retried failure they wait as long as it does; behind a dead letter, not at all.
      await this.deliveries.release(
        results.flatMap((r) => r.untried.map((key) => ({ key, at: r.failure?.nextAttemptAt ?? at }))),
      );
      // A target that took any delivery is not failing; one that took none is, once per claim.
      const succeeded = new Set(delivered.map((k) => k.targetId));
      await this.deliveries.targetsSucceeded([...succeeded]);
      const lastFailures = new Map(failures.map((f) => [f.key.targetId, f]));
      for (const [targetId, failure] of lastFailures)
        if (!succeeded.has(targetId)) await this.noteTargetFailure(failure, at);
      round.delivered += delivered.length;
      for (const f of failures) {
        if (f.nextAttemptAt === null) round.dead += 1;
        else round.failed += 1;
        this.onOutcome(this.kind, f.nextAttemptAt === null ? "dead" : "failed");
      }
      for (const _ of delivered) this.onOutcome(this.kind, "delivered");
      if (chains.size < this.options.batchSize) return round;
    }
    return { ...round, more: true };
  }

  private async deliverChain(
    chain: ClaimedDelivery[],
    context: ExplanationContext,
    leaseUntil: Date,
  ): Promise<{ delivered: DeliveryKey[]; failure: DeliveryFailure | null; untried: DeliveryKey[] }> {
    const delivered: DeliveryKey[] = [];
    for (const [i, d] of chain.sort((a, b) => (a.notificationId < b.notificationId ? -1 : 1)).entries()) {
      // Past its lease another relay may take the rest, and send them out of order.
      if (this.clock.now().getTime() + this.options.attemptTimeoutMs > leaseUntil.getTime())
        return { delivered, failure: null, untried: chain.slice(i).map(keyOf) };
      const message = renderNotification(d.notification, context);
      try {
        await this.transport.send(d, message, JSON.stringify(message));
        delivered.push(keyOf(d));
      } catch (error) {
        const now = this.clock.now();
        const expired = now.getTime() - d.since.getTime() >= this.options.maxAgeMs;
        return {
          delivered,
          failure: {
            key: keyOf(d),
            nextAttemptAt: expired
              ? null
              : new Date(now.getTime() + retryDelayMs(d.attempts + 1, this.options)),
            error: error instanceof Error ? error.message : String(error),
          },
          untried: chain.slice(i + 1).map(keyOf),
        };
      }
    }
    return { delivered, failure: null, untried: [] };
  }

  private async noteTargetFailure(failure: DeliveryFailure, at: Date): Promise<void> {
    const { disableAfterMs } = this.options;
    const reason = `every delivery failed for longer than ${Math.round((disableAfterMs ?? 0) / 1000)} s; the last: ${failure.error}`;
    const disabled = await this.deliveries.targetFailed(
      failure.key.targetId,
      at,
      disableAfterMs === null ? null : new Date(at.getTime() - disableAfterMs),
      reason.slice(0, 1000),
    );
    if (disabled) this.onDisabled(failure.key.targetId, reason);
  }
}

function keyOf(d: DeliveryKey): DeliveryKey {
  return { customerId: d.customerId, notificationId: d.notificationId, targetId: d.targetId };
}
