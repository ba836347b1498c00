import { isDatabaseUnavailable } from "../unavailable.js";
import type {
  ApplyEvents,
  ConsumerLog,
  DecodeEvent,
  MessageOutcome,
  OrderEventMessage,
  OrderEventSource,
  PartitionLeases,
} from "./ports.js";

export interface OrderEventsConsumerOptions {
  /** This instance, unique among those sharing the stream (host, pid and a random part). */
  owner: string;
  partitions: number;
  /** Most messages fetched and applied together, in one `handleEvents` call. */
  batchSize: number;
  /** How long a partition stays with an instance that stopped renewing, seconds. */
  leaseSeconds: number;
  /** How long a batch that could not be applied waits before it is delivered again, ms. */
  retryDelayMs: number;
}

/** ceil(partitions / alive): every partition has an owner, and no owner holds two more than another. */
export function fairShare(partitions: number, alive: number): number {
  return Math.ceil(partitions / Math.max(1, alive));
}

interface PartitionLoop {
  stopping: boolean;
  done: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Applies order events from a partitioned stream (README "Order events from JetStream"). Each
 * partition this instance holds a lease on is applied by one loop, in stream order: fetch a batch,
 * apply it through one `handleEvents` call, and only once that committed acknowledge each message;
 * a batch that fails is delivered again after `retryDelayMs`. Events are idempotent by event id, so a
 * redelivery (an ack lost, an instance killed between commit and ack) changes nothing.
 *
 * Every third of a lease the instance renews its leases and evens out the partitions between the
 * instances alive: it takes free or expired ones up to its fair share and releases those above it,
 * after their loops finished the batch in hand, so that a new instance gets its share.
 */
export class OrderEventsConsumer {
  private readonly loops = new Map<number, PartitionLoop>();
  /** performance.now() by which the leases this instance holds run out, unless renewed. */
  private leaseDeadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      source: OrderEventSource;
      leases: PartitionLeases;
      apply: ApplyEvents;
      decode: DecodeEvent;
      log: ConsumerLog;
      count: (outcome: MessageOutcome, messages: number) => void;
      newRequestId: () => string;
    },
    private readonly options: OrderEventsConsumerOptions,
  ) {}

  /** Takes this instance's first partitions (resolves after that round), then rebalances every third of a lease. */
  async start(): Promise<void> {
    this.timer = setInterval(() => this.rebalanceOnce(), (this.options.leaseSeconds * 1000) / 3);
    await this.rebalanceOnce();
  }

  /** The partitions this instance applies now, ascending. */
  owned(): number[] {
    return [...this.loops.keys()].sort((a, b) => a - b);
  }

  /**
   * Stops cleanly: the round in hand ends, each partition finishes its batch (committed and acked, or
   * nak'd and its delay waited out), the acks reach the broker, then the leases are given back so the
   * other instances take the partitions at their next round instead of after the lease.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    await Promise.all(this.owned().map((partition) => this.stopLoop(partition)));
    try {
      await this.deps.source.flush();
      await this.deps.leases.leave(this.options.owner);
    } catch (err) {
      this.deps.log.warn(
        { err, leaseSeconds: this.options.leaseSeconds },
        "order-event partitions not released: the other instances take them when the leases expire",
      );
    }
  }

  private rebalanceOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.rebalance()
      .catch((err: unknown) =>
        this.deps.log.warn({ err }, "order-event partition leases not renewed; the next round tries again"),
      )
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private async rebalance(): Promise<void> {
    const { leases, source, log } = this.deps;
    const { owner, partitions } = this.options;
    // The database sets each lease to its own now + the lease, which is no earlier than this.
    const began = performance.now();
    const alive = await leases.heartbeat(owner);
    let held = await leases.renew(owner);
    // A lease that ran out while this instance was away may have been taken: its loop stops at once.
    for (const partition of this.owned()) {
      if (!held.includes(partition)) {
        log.warn({ partition }, "order-event partition taken over by another instance");
        await this.stopLoop(partition);
      }
    }
    const share = fairShare(partitions, alive);
    if (held.length > share) {
      const extras = held.slice(share);
      held = held.slice(0, share);
      await Promise.all(extras.map((partition) => this.stopLoop(partition)));
      await source.flush();
      await leases.release(owner, extras);
      log.info({ released: extras, alive }, "order-event partitions released for the other instances");
    } else if (held.length < share) {
      const taken = await leases.take(owner, share - held.length);
      if (taken.length > 0) log.info({ taken, alive }, "order-event partitions taken");
      held = [...held, ...taken];
    }
    this.leaseDeadline = began + this.options.leaseSeconds * 1000;
    for (const partition of held) {
      if (!this.loops.has(partition) && !this.stopped) this.startLoop(partition);
    }
  }

  private startLoop(partition: number): void {
    const loop: PartitionLoop = { stopping: false, done: Promise.resolve() };
    loop.done = this.runPartition(partition, loop).finally(() => {
      if (this.loops.get(partition) === loop) this.loops.delete(partition);
    });
    this.loops.set(partition, loop);
  }

  private async stopLoop(partition: number): Promise<void> {
    const loop = this.loops.get(partition);
    if (!loop) return;
    loop.stopping = true;
    await loop.done;
  }

  private async runPartition(partition: number, loop: PartitionLoop): Promise<void> {
    const { source, log } = this.deps;
    while (!loop.stopping) {
      // A message fetched now must come up for redelivery before the lease can pass to another
      // instance: were this one to die, the next owner then gets it before any newer message.
      if (performance.now() + source.ackWaitMs >= this.leaseDeadline) {
        log.warn({ partition }, "order-event partition lease not renewed in time: its loop stops");
        return;
      }
      let messages: OrderEventMessage[];
      try {
        messages = await source.fetch(partition, this.options.batchSize);
      } catch (err) {
        log.warn({ err, partition }, "order-event messages not fetched; trying again");
        await sleep(this.options.retryDelayMs);
        continue;
      }
      if (messages.length > 0) await this.applyBatch(partition, messages);
    }
  }

  private async applyBatch(partition: number, messages: OrderEventMessage[]): Promise<void> {
    const { decode, apply, log, count } = this.deps;
    const events: { message: OrderEventMessage; incoming: Parameters<ApplyEvents>[0][number] }[] = [];
    for (const message of messages) {
      const decoded = decode(message.data);
      if (decoded.ok) {
        events.push({ message, incoming: decoded.incoming });
        continue;
      }
      // Never applicable, whatever is retried: dropped so that the partition goes on.
      message.term();
      count("malformed", 1);
      log.warn(
        { partition, streamSequence: message.streamSequence, problem: decoded.problem },
        "malformed order-event message terminated",
      );
    }
    if (events.length === 0) return;
    try {
      await apply(
        events.map((e) => e.incoming),
        this.deps.newRequestId(),
      );
    } catch (err) {
      for (const { message } of events) message.nak(this.options.retryDelayMs);
      count("retried", events.length);
      const details = {
        err,
        partition,
        firstStreamSequence: events[0]?.message.streamSequence,
        // A batch delivered many times over that still fails is a bug to look at, not an outage.
        deliveries: events[0]?.message.deliveryCount,
        messages: events.length,
        retryDelayMs: this.options.retryDelayMs,
      };
      if (isDatabaseUnavailable(err))
        log.warn(details, "order events not applied: the database is unavailable");
      else log.error(details, "order events not applied");
      // Fetching before the delay is over would bring newer messages ahead of these.
      await sleep(this.options.retryDelayMs);
      return;
    }
    for (const { message } of events) message.ack();
    count("applied", events.length);
  }
}
