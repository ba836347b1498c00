/**
 * R27, issue 11: sellers' loyalty discounts. A seller (its own discounts only) or an operator defines
 * them; every change is a new version, audited, under the caller's Idempotency-Key (migration 14, as
 * campaigns). The quote weighs each cart seller's discounts against the customer's statistics with
 * that seller and takes the applied one off the prices before the caps and the accrual.
 */

import type { CartLine } from "../../domain/checkout/cart.js";
import { monthContaining } from "../../domain/savings/index.js";
import {
  discountedLines,
  type LoyaltyCondition,
  MAX_DISCOUNTS_PER_SELLER,
  quoteSellerDiscounts,
  validateSellerDiscount,
} from "../../domain/seller-discounts/index.js";
import { sellerStatsIn } from "../../domain/seller-discounts/stats.js";
import type { LocalizedText } from "../../domain/text.js";
import type { Principal } from "../access.js";
import { answerOfKeyedWrite, type Outcome, type WriteRequest } from "../ledger-service.js";
import type { Clock } from "../ports.js";
import { validationFailed } from "../validation-refusal.js";
import type { SellerDiscountStore, SellerDiscountWrites, StoredSellerDiscount } from "./ports.js";

export const SELLER_DISCOUNT_REFUSAL_CODES = [
  "SELLER_DISCOUNT_NOT_FOUND",
  "SELLER_DISCOUNTS_LIMIT_REACHED",
] as const;

/** Operations as their Idempotency-Keys are scoped, and audit actions. */
const SCOPES = { put: "seller_discounts.put", end: "seller_discounts.end" } as const;

export interface SellerDiscountInput {
  percentBp: number;
  condition: LoyaltyCondition;
  name?: LocalizedText | null | undefined;
}

export interface SellerDiscountView {
  sellerId: string;
  discountId: string;
  version: number;
  percentBp: number;
  condition: LoyaltyCondition;
  name: LocalizedText | null;
  active: boolean;
  endedAt: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

type Refusal = { ok: false; code: string; message: string; details: Record<string, unknown> };

function view(d: StoredSellerDiscount): SellerDiscountView {
  return {
    sellerId: d.sellerId,
    discountId: d.discountId,
    version: d.version,
    percentBp: d.percentBp,
    condition: d.condition,
    name: d.name,
    active: d.endedAt === null,
    endedAt: d.endedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    createdBy: d.createdBy,
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** A seller key works on its own seller id only (as R11's product points); other keys on any. */
function forbidden(principal: Principal, sellerId: string): (Refusal & { replayed: false }) | undefined {
  if (principal.type !== "key" || principal.role !== "seller" || principal.sellerId === sellerId) return;
  return {
    ok: false,
    code: "FORBIDDEN",
    message: `a seller key manages loyalty discounts only for seller ${principal.sellerId}`,
    details: { field: "params.sellerId" },
    replayed: false,
  };
}

function notFound(sellerId: string, discountId: string): Refusal {
  return {
    ok: false,
    code: "SELLER_DISCOUNT_NOT_FOUND",
    message: `seller ${sellerId} has no loyalty discount ${discountId}`,
    details: { sellerId, discountId },
  };
}

const sameDefinition = (d: StoredSellerDiscount, input: SellerDiscountInput) =>
  JSON.stringify([d.percentBp, d.condition, d.name]) ===
  JSON.stringify([input.percentBp, input.condition, input.name ?? null]);

export class SellerDiscountService {
  constructor(
    private readonly store: SellerDiscountStore,
    private readonly clock: Clock,
    /** KOPILKA_TIME_ZONE: "this month" of the units condition is a calendar month there. */
    private readonly timeZone: string,
  ) {}

  /**
   * Creates the discount or replaces its definition (an ended one is in force again): a new version.
   * The same definition again changes nothing. A seller has at most MAX_DISCOUNTS_PER_SELLER in force.
   */
  async put(
    sellerId: string,
    discountId: string,
    input: SellerDiscountInput,
    principal: Principal,
    request: WriteRequest,
  ) {
    const refused = forbidden(principal, sellerId);
    if (refused) return refused;
    const problems = validateSellerDiscount({ percentBp: input.percentBp, condition: input.condition });
    if (problems.length > 0) return { ...validationFailed(problems, "body."), replayed: false };
    return this.keyed(SCOPES.put, sellerId, discountId, request, async (tx, now) => {
      await tx.lockSeller(sellerId);
      const before = await tx.find(sellerId, discountId);
      if (before && before.endedAt === null && sameDefinition(before, input))
        return { ok: true as const, value: view(before) };
      if (
        (!before || before.endedAt !== null) &&
        (await tx.countInForce(sellerId)) >= MAX_DISCOUNTS_PER_SELLER
      )
        return {
          ok: false,
          code: "SELLER_DISCOUNTS_LIMIT_REACHED",
          message: `seller ${sellerId} has ${MAX_DISCOUNTS_PER_SELLER} loyalty discounts in force, the most allowed: end one first`,
          details: { sellerId, limit: MAX_DISCOUNTS_PER_SELLER },
        } satisfies Refusal;
      const after: StoredSellerDiscount = {
        sellerId,
        discountId,
        percentBp: input.percentBp,
        condition: input.condition,
        name: input.name ?? null,
        version: (before?.version ?? 0) + 1,
        endedAt: null,
        createdAt: before?.createdAt ?? now,
        createdBy: before?.createdBy ?? request.actor,
        updatedAt: now,
      };
      return this.saved(tx, SCOPES.put, before, after);
    });
  }

  /** Ends it now: a new version, ended; its history stays. Ended before: answered as it is. */
  async end(sellerId: string, discountId: string, principal: Principal, request: WriteRequest) {
    const refused = forbidden(principal, sellerId);
    if (refused) return refused;
    return this.keyed(SCOPES.end, sellerId, discountId, request, async (tx, now) => {
      const before = await tx.find(sellerId, discountId);
      if (!before) return notFound(sellerId, discountId);
      if (before.endedAt !== null) return { ok: true as const, value: view(before) };
      const after = { ...before, version: before.version + 1, endedAt: now, updatedAt: now };
      return this.saved(tx, SCOPES.end, before, after);
    });
  }

  /** The seller's discounts in force, by id. */
  async list(sellerId: string, principal: Principal) {
    const refused = forbidden(principal, sellerId);
    if (refused) return refused;
    const discounts = await this.store.inForce([sellerId]);
    return { ok: true as const, value: { sellerId, discounts: discounts.map(view) } };
  }

  /**
   * R27 for a quote at `at`: every discount of the cart's sellers with whether it qualifies and is
   * applied, and why; and the cart at the prices the customer pays (each unit less its discount),
   * which the caps (R16-R19) and the accrual then see. One primary-key probe of the customer's
   * statistics per seller that has discounts.
   */
  async forQuote(customerId: string, lines: readonly CartLine[], at: Date) {
    const discounts = await this.store.inForce([...new Set(lines.map((l) => l.sellerId))]);
    const stats =
      discounts.length === 0
        ? new Map()
        : await this.store.statsOf(customerId, [...new Set(discounts.map((d) => d.sellerId))]);
    const month = monthContaining(at, this.timeZone).month;
    const statsOf = (sellerId: string) => sellerStatsIn(stats.get(sellerId), month);
    const quotes = quoteSellerDiscounts(discounts, statsOf, lines);
    const byId = new Map(discounts.map((d) => [`${d.sellerId}\u0000${d.discountId}`, d]));
    return {
      lines: discountedLines(lines, quotes),
      sellers: quotes.map((q) => ({
        sellerId: q.sellerId,
        stats: statsOf(q.sellerId),
        discounts: q.discounts.map((v) => {
          const d = byId.get(`${q.sellerId}\u0000${v.discountId}`);
          return { ...v, name: d?.name ?? null, condition: d?.condition };
        }),
        lines: q.lines,
        discountKop: q.discountKop,
      })),
      discountKop: quotes.reduce((sum, q) => sum + q.discountKop, 0),
    };
  }

  private async saved(
    tx: SellerDiscountWrites,
    action: string,
    before: StoredSellerDiscount | undefined,
    after: StoredSellerDiscount,
  ) {
    await tx.save(after);
    const shown = view(after);
    await tx.audit({
      action,
      subject: `${after.sellerId}/${after.discountId}`,
      before: before ? view(before) : null,
      after: shown,
    });
    return { ok: true as const, value: shown };
  }

  private async keyed<T>(
    scope: string,
    sellerId: string,
    discountId: string,
    request: WriteRequest,
    write: (tx: SellerDiscountWrites, now: Date) => Promise<Outcome<T>>,
  ) {
    const now = this.clock.now();
    const subject = `seller:${sellerId}/${discountId}`;
    const result = await this.store.keyed(scope, subject, request, now, (tx) => write(tx, now));
    // This process quotes with the change at once; other instances within the cache's time to live.
    if ("stored" in result && result.stored.ok) this.store.invalidate(sellerId);
    return answerOfKeyedWrite(result, scope, request);
  }
}
