import { isDeepStrictEqual } from "node:util";
import { checkNonEmptyString, type Problem } from "../../domain/checkout/problems.js";
import { matchesRule, type SegmentRule, validateSegmentRule } from "../../domain/segments/rule.js";
import {
  type CustomerStats,
  customerStats,
  dayOf,
  STATS_WINDOW_DAYS,
  windowStart,
} from "../../domain/segments/stats.js";
import type { LocalizedText } from "../../domain/text.js";
import { answerOfKeyedWrite, type Outcome, type WriteRequest } from "../ledger-service.js";
import type { Clock } from "../ports.js";
import { validationFailed } from "../validation-refusal.js";
import type { CustomerFacts, SegmentDefinition, SegmentStore, StoredSegment } from "./ports.js";

/**
 * R29, issue 12: segments — rules over the customer statistics (src/domain/segments/) — defined by
 * operators, each change a new audited version under the caller's Idempotency-Key (migration 14).
 * Membership is never stored: it is the rule applied to the customer's statistics as they are now,
 * and those are kept by the customer's own order events, so it is current as events arrive (and as
 * days pass: an order 31 days old no longer counts in `orders30`).
 */

export const SEGMENT_REFUSAL_CODES = ["SEGMENT_NOT_FOUND"] as const;

const SCOPE_PUT = "segments.put";
/** Segment definitions are cached this long (every placement with a segment campaign reads them). */
const CACHE_TTL_MS = 5_000;
/** Customers read per statement when listing or counting members. */
const PAGE = 2_000;
/** A members page scans at most this many customers (then it answers with a cursor to go on from). */
const MAX_SCANNED = 20_000;

export interface SegmentInput {
  name: LocalizedText;
  rule: unknown;
}

export interface SegmentView {
  segmentId: string;
  version: number;
  name: LocalizedText;
  rule: SegmentRule;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

function view(s: StoredSegment): SegmentView {
  return {
    segmentId: s.segmentId,
    version: s.version,
    name: s.definition.name,
    rule: s.definition.rule,
    createdAt: s.createdAt.toISOString(),
    createdBy: s.createdBy,
    updatedAt: s.updatedAt.toISOString(),
  };
}

function notFound(segmentId: string) {
  return {
    ok: false as const,
    code: "SEGMENT_NOT_FOUND",
    message: `there is no segment ${segmentId}`,
    details: { segmentId, field: "params.segmentId" },
  };
}

export class SegmentService {
  private cached: { at: number; segments: StoredSegment[] } | undefined;

  constructor(
    private readonly store: SegmentStore,
    private readonly clock: Clock,
    /** KOPILKA_TIME_ZONE: the statistics count days there. */
    private readonly timeZone: string,
  ) {}

  /** Creates the segment (version 1) or makes `input` its next version; the same definition changes nothing. */
  async put(segmentId: string, input: SegmentInput, request: WriteRequest) {
    const problems: Problem[] = [];
    checkNonEmptyString(problems, "name.ru", input.name?.ru);
    checkNonEmptyString(problems, "name.en", input.name?.en);
    problems.push(...validateSegmentRule(input.rule));
    if (problems.length > 0) return { ...validationFailed(problems, "body."), replayed: false };
    const definition: SegmentDefinition = { name: input.name, rule: input.rule as SegmentRule };
    const now = this.clock.now();
    const result = await this.store.keyed(SCOPE_PUT, `segment:${segmentId}`, request, now, async (tx) => {
      const before = await tx.lock(segmentId);
      // Deep equality, key order aside: jsonb does not keep the order the definition was sent in.
      if (before && isDeepStrictEqual(before.definition, definition))
        return { ok: true as const, value: view(before) };
      const after: StoredSegment = {
        segmentId,
        version: (before?.version ?? 0) + 1,
        definition,
        createdAt: before?.createdAt ?? now,
        createdBy: before?.createdBy ?? request.actor,
        updatedAt: now,
      };
      await tx.save(after);
      await tx.audit({
        action: SCOPE_PUT,
        subject: segmentId,
        before: before ? view(before) : null,
        after: view(after),
      });
      return { ok: true as const, value: view(after) };
    });
    if ("stored" in result) this.cached = undefined;
    return answerOfKeyedWrite(result, SCOPE_PUT, request);
  }

  async get(segmentId: string): Promise<Outcome<SegmentView>> {
    const s = await this.store.find(segmentId);
    return s ? { ok: true, value: view(s) } : notFound(segmentId);
  }

  async list(): Promise<SegmentView[]> {
    return (await this.store.all()).map(view);
  }

  /** Every segment, through a short cache (the order path reads them). */
  private async segments(): Promise<StoredSegment[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_TTL_MS)
      this.cached = { at: now, segments: await this.store.all() };
    return this.cached.segments;
  }

  private statsOf(facts: CustomerFacts, today: string): CustomerStats {
    return customerStats(facts.days, today, facts);
  }

  private window(now: Date) {
    const today = dayOf(now, this.timeZone);
    return { today, fromDay: windowStart(today, STATS_WINDOW_DAYS) };
  }

  /** R29: each customer's statistics now and the segments it belongs to (ids), for these customers. */
  async membership(customerIds: readonly string[], at = this.clock.now()) {
    const { today, fromDay } = this.window(at);
    const [segments, facts] = await Promise.all([
      this.segments(),
      customerIds.length > 0 ? this.store.customerFacts({ customerIds, fromDay, at }) : [],
    ]);
    const byCustomer = new Map<string, { stats: CustomerStats; segments: Set<string> }>();
    for (const id of customerIds) {
      const f = facts.find((x) => x.customerId === id) ?? {
        customerId: id,
        days: [],
        balancePoints: 0,
        holdsSavings: false,
        premium: false,
      };
      const stats = this.statsOf(f, today);
      byCustomer.set(id, {
        stats,
        segments: new Set(
          segments.filter((s) => matchesRule(s.definition.rule, stats)).map((s) => s.segmentId),
        ),
      });
    }
    return byCustomer;
  }

  /** A customer's statistics and segments, for support and the customer. */
  async ofCustomer(customerId: string) {
    const now = this.clock.now();
    const m = (await this.membership([customerId], now)).get(customerId) as {
      stats: CustomerStats;
      segments: Set<string>;
    };
    return { customerId, asOf: now.toISOString(), stats: m.stats, segments: [...m.segments].sort() };
  }

  /**
   * A page of the segment's members by customer id, after `after`: up to `limit` of them, from at
   * most MAX_SCANNED customers read; `next` continues (null: every customer was read).
   */
  async members(segmentId: string, query: { after: string | null; limit: number }) {
    const segment = await this.store.find(segmentId);
    if (!segment) return notFound(segmentId);
    const now = this.clock.now();
    const { today, fromDay } = this.window(now);
    const members: { customerId: string; stats: CustomerStats }[] = [];
    let after = query.after;
    let scanned = 0;
    for (;;) {
      const page = await this.store.customerFacts({ after, limit: PAGE, fromDay, at: now });
      for (const f of page) {
        scanned += 1;
        after = f.customerId;
        const stats = this.statsOf(f, today);
        if (matchesRule(segment.definition.rule, stats)) members.push({ customerId: f.customerId, stats });
        if (members.length === query.limit) break;
      }
      const done = page.length < PAGE && members.length < query.limit;
      if (done)
        return {
          ok: true as const,
          value: { segmentId, version: segment.version, asOf: now.toISOString(), members, next: null },
        };
      if (members.length === query.limit || scanned >= MAX_SCANNED)
        return {
          ok: true as const,
          value: { segmentId, version: segment.version, asOf: now.toISOString(), members, next: after },
        };
    }
  }

  /** How many customers the segment holds now, of how many (every customer read, in pages). */
  async size(segmentId: string) {
    const segment = await this.store.find(segmentId);
    if (!segment) return notFound(segmentId);
    const now = this.clock.now();
    const { today, fromDay } = this.window(now);
    let after: string | null = null;
    let members = 0;
    let customers = 0;
    for (;;) {
      const page: CustomerFacts[] = await this.store.customerFacts({ after, limit: PAGE, fromDay, at: now });
      for (const f of page) if (matchesRule(segment.definition.rule, this.statsOf(f, today))) members += 1;
      customers += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.customerId ?? null;
    }
    return {
      ok: true as const,
      value: { segmentId, version: segment.version, asOf: now.toISOString(), members, customers },
    };
  }
}
