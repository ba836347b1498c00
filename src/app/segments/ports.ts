import type { SegmentRule } from "../../domain/segments/rule.js";
import type { OrderDay } from "../../domain/segments/stats.js";
import type { LocalizedText } from "../../domain/text.js";
import type { KeyedWriteRun } from "../ports.js";

/** R29: a segment as defined through the API. */
export interface SegmentDefinition {
  readonly name: LocalizedText;
  readonly rule: SegmentRule;
}

export interface StoredSegment {
  readonly segmentId: string;
  /** The current version (every change is a new one). */
  readonly version: number;
  readonly definition: SegmentDefinition;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly updatedAt: Date;
}

/** What one write transaction may do to the segments (src/infra/segment-store.ts). */
export interface SegmentWrites {
  /** The segment, locked until the transaction ends; undefined if none. */
  lock(segmentId: string): Promise<StoredSegment | undefined>;
  /** Appends `segment.version` and makes it current (creating the segment at version 1). */
  save(segment: StoredSegment): Promise<void>;
  audit(entry: { action: string; subject: string; before: unknown; after: unknown }): Promise<void>;
}

/** What the statistics of one customer are computed from (R29). */
export interface CustomerFacts {
  readonly customerId: string;
  readonly days: readonly OrderDay[];
  readonly balancePoints: number;
  readonly holdsSavings: boolean;
  readonly premium: boolean;
}

export interface SegmentStore {
  keyed: KeyedWriteRun<SegmentWrites>;
  find(segmentId: string): Promise<StoredSegment | undefined>;
  /** Every segment at its current version, by id. */
  all(): Promise<StoredSegment[]>;
  /**
   * Customers' facts at `at` with their order days from `fromDay`: the customers named, or a page
   * of every customer by id after `after`.
   */
  customerFacts(
    query: { fromDay: string; at: Date } & (
      | { customerIds: readonly string[] }
      | { after: string | null; limit: number }
    ),
  ): Promise<CustomerFacts[]>;
}
