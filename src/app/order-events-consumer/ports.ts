import type { IncomingEvent } from "../order-service.js";

/** One message of a partition, as the broker delivered it. */
export interface OrderEventMessage {
  /** The message's sequence in the stream: what logs name it by. */
  streamSequence: number;
  /** 1 on first delivery; more when it was redelivered. */
  deliveryCount: number;
  data: Uint8Array;
  /** Done with: never delivered again. */
  ack(): void;
  /** Not done: delivered again after `delayMs`. */
  nak(delayMs: number): void;
  /** Never deliverable (malformed): dropped. */
  term(): void;
}

/** The partitioned stream of order events (JetStream in production). */
export interface OrderEventSource {
  /**
   * The partition's next messages in stream order, redeliveries first: up to `max`, waiting a short
   * while for the first one (an empty answer when none came).
   */
  fetch(partition: number, max: number): Promise<OrderEventMessage[]>;
  /** Resolves once every ack, nak and term sent so far has reached the broker. */
  flush(): Promise<void>;
  /**
   * How long the broker leaves a delivered message unacknowledged before it delivers it again, ms: a
   * partition is fetched only while its lease outlives this, so that a message fetched by an owner
   * that died is up for redelivery (before newer ones) when the next owner takes over.
   */
  readonly ackWaitMs: number;
}

/**
 * Who applies which partition: leases in the database, on its clock. Every call is one set-based
 * statement, safe against other instances calling at the same time.
 */
export interface PartitionLeases {
  /** Says `owner` is alive for one lease; answers how many consumers are alive, `owner` included. */
  heartbeat(owner: string): Promise<number>;
  /** Extends the leases `owner` still holds; answers their partitions. */
  renew(owner: string): Promise<number[]>;
  /** Takes up to `count` partitions that are free or whose lease expired; answers the ones taken. */
  take(owner: string, count: number): Promise<number[]>;
  /** Gives partitions back, free for anyone to take at once. */
  release(owner: string, partitions: readonly number[]): Promise<void>;
  /** Gives every partition back and stops counting `owner` as alive. */
  leave(owner: string): Promise<void>;
}

/** Applies a batch of events, in order, and resolves once they are committed (`OrderService.handleEvents`). */
export type ApplyEvents = (incoming: IncomingEvent[], requestId: string) => Promise<unknown>;

/** A message's body as an event, or why it is malformed. */
export type DecodeEvent = (
  data: Uint8Array,
) => { ok: true; incoming: IncomingEvent } | { ok: false; problem: string };

export type MessageOutcome = "applied" | "malformed" | "retried";

/** Where the consumer reports (pino's logger fits). */
export interface ConsumerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
