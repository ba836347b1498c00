import { BUDGET_SLICES, type BudgetSummary, campaignBudgetId } from "../domain/budget-slices.js";
import { type CampaignInForce, evaluateCampaigns } from "../domain/campaigns/evaluation.js";
import {
  budgetChanges,
  campaignNote,
  candidateCampaigns,
  lineBases,
  promiseCampaigns,
} from "../domain/campaigns/order-parts.js";
import {
  allocateSpend,
  type CartLine,
  computeAccrual,
  orderTotalKop,
  type PaymentMethod,
  premiumBonusOf,
  premiumFreeDeliveryThresholdOf,
  quoteSpend,
  validateCart,
} from "../domain/checkout/index.js";
import { POINT_KINDS, type PointKind } from "../domain/kinds.js";
import {
  applyChange,
  combineChanges,
  type LedgerChange,
  type OperationContext,
} from "../domain/ledger/index.js";
import { referralStatusText } from "../domain/managers/index.js";
import {
  applyOrderEvent,
  type ConfigVersion,
  DEFAULT_PROGRAMME_CONFIG as DEFAULTS,
  type Order,
  type OrderEvent,
  type ProgrammeConfig,
  refusedPredecessor,
  sequenceDecision,
  spendId,
  validateProgrammeConfig,
  versionInForce,
  waitingFor,
} from "../domain/orders/index.js";
import { deliveryFor } from "../domain/premium/index.js";
import { orderDayDelta } from "../domain/segments/stats.js";
import { sellerStatsDeltas } from "../domain/seller-discounts/stats.js";
import type { EffectKey } from "./effects/effect-relay.js";
import { type CustomerWork, type GroupCommitter, hashRangeOf, withReservations } from "./group-commit.js";
import { type AppliedShipment, invitationAfterOrderEvents } from "./invites/after-order-events.js";
import { type LedgerService, ledgerWrite } from "./ledger-service.js";
import { managersAfterOrderEvents } from "./managers/after-order-events.js";
import type { PromoCodeOwner } from "./managers/manager-service.js";
import { orderView } from "./order-views.js";
import { decodePageCursor, encodePageCursor } from "./page-cursor.js";
import type {
  BudgetReservation,
  Clock,
  ConfigVersionRecord,
  CustomerState,
  CustomerWrite,
  EventOutcome,
  OrderStore,
  StoredOrderEvent,
  WaitingEvent,
} from "./ports.js";
import type { ProgrammeRules } from "./programme-rules.js";
import type { SellerDiscountService } from "./seller-discounts/seller-discount-service.js";
import { validationFailed } from "./validation-refusal.js";

export interface IncomingEvent {
  event: OrderEvent;
  /** A hash of the event as sent: the same id with another body is a conflict. */
  fingerprint: string;
}

/** An event's answer and the request that decided it (a replayed refusal carries the first one's id). */
export interface EventAnswer {
  outcome: EventOutcome;
  requestId: string;
}

export type Refused = { ok: false; code: string; message: string; details: Record<string, unknown> };

/** A customer in no segment (and what is read when no campaign in force is limited to one). */
const NO_SEGMENTS: ReadonlySet<string> = new Set();

const limitedToSegments = (campaigns: readonly CampaignInForce[]) =>
  campaigns.some((c) => c.definition.conditions.segmentId !== null);

/**
 * R26: the campaigns in force that could give a placed order anything — matched on the order's
 * conditions and lines with nothing spent (points spent only lower a line's base), so a superset
 * of those the placement applies; the placement loads the budgets of these alone.
 */
function campaignCandidates(
  event: Extract<OrderEvent, { type: "placed" }>,
  inForce: readonly CampaignInForce[],
  baseRates: ProgrammeConfig["earning"]["baseRateBp"],
  segments: ReadonlySet<string>,
): CampaignInForce[] {
  if (inForce.length === 0 || validateCart(event.lines).length > 0) return [];
  return candidateCampaigns(inForce, {
    placedAt: event.occurredAt,
    paymentMethod: event.paymentMethod,
    premium: event.premium === true,
    segments,
    lines: lineBases(event.lines, [], baseRates),
  });
}

function withPoints(line: CartLine, points: Map<string, number>): CartLine {
  const perUnit = points.get(`${line.sellerId}\u0000${line.sku}`);
  return perUnit ? { ...line, sellerPointsPerUnit: perUnit } : line;
}

/** Orders: checkout quotes, the event lifecycle (R13-R15, R20) and the programme configuration. */
/** A cart to quote. */
export interface QuoteInput {
  customerId: string;
  orderId?: string | undefined;
  lines: CartLine[];
  paymentMethod: PaymentMethod;
}

export class OrderService {
  constructor(
    private readonly store: OrderStore,
    private readonly clock: Clock,
    private readonly rules: ProgrammeRules,
    private readonly ledger: LedgerService,
    private readonly committer: GroupCommitter,
    private readonly programmes: {
      /** R24: who owns these promo codes (codes nobody owns are absent). */
      promoCodeOwners: (codes: readonly string[]) => Promise<Map<string, PromoCodeOwner>>;
      /** Delivers cross-customer effects just committed (R23, R24); what it cannot waits for the scheduler. */
      deliver: (keys: EffectKey[]) => Promise<unknown>;
      /** The operator's IANA time zone: R24 months end at midnight there. */
      timeZone: string;
      /** Told of the events each request decided (not the stored answers it replayed), for /metrics. */
      countEvents?: (outcomes: readonly EventOutcome[]) => void;
      /** R28: for each (customer, instant), whether the customer was a Premium subscriber then. */
      premiumAt: (asked: readonly { customerId: string; at: Date }[]) => Promise<boolean[]>;
      /** R26: the campaigns in force at an instant (cached). */
      campaignsInForce: (at: Date) => Promise<CampaignInForce[]>;
      /** R29: the segments each customer belongs to now. */
      segmentsOf: (customerIds: readonly string[]) => Promise<Map<string, ReadonlySet<string>>>;
      /** R26: what is left of these campaigns' budgets, for quotes. */
      campaignBudgets: (campaignIds: readonly string[]) => Promise<Map<string, BudgetSummary>>;
      /** R27: the cart's sellers' loyalty discounts for the customer at an instant, and the cart after them. */
      sellerDiscounts: SellerDiscountService["forQuote"];
    },
  ) {}

  private currentVersions(): Promise<ConfigVersion[]> {
    return this.rules.versions();
  }

  /** R11: the seller's points per unit, looked up when the order is placed, never sent by the marketplace. */
  private async withSellerPoints(lines: readonly CartLine[]): Promise<CartLine[]> {
    const points = await this.store.sellerPoints(lines);
    return lines.map((l) => withPoints(l, points));
  }

  /**
   * R16-R19, R21, R7-R12: the most points the cart may use, the best combination, its split over the
   * lines and what the order would earn. Reads only: nothing is held or written.
   */
  async quote(input: QuoteInput, draft?: ProgrammeConfig) {
    const prepared = await this.prepareQuote(input, this.clock.now(), draft);
    if (!prepared.ok) return prepared;
    const { version, lines, premium, balances, quote, allocation, accrual, sellerDiscounts } = prepared.value;
    const campaigns = await this.campaignsForQuote(input, prepared.value);
    return {
      ok: true as const,
      value: {
        customerId: input.customerId,
        configVersion: version.version,
        available: balances,
        maxPerKind: quote.maxPerKind,
        combination: quote.combination,
        total: quote.total,
        moneyToPayKop: quote.moneyToPayKop,
        caps: {
          capPoints: quote.capPoints,
          spendablePoints: quote.spendablePoints,
          nestingOrder: quote.nestingOrder,
        },
        reasons: quote.reasons,
        lines: lines.map((line, i) => ({
          lineId: line.lineId,
          // R27: the price to charge, after the seller's loyalty discount.
          unitPriceKop: line.unitPriceKop,
          spend: allocation[i]?.points ?? { bonus: 0, savings: 0, referral: 0 },
          accrualKop: accrual.lines[i]?.accrualKop ?? 0,
          rateBp: accrual.lines[i]?.rateBp ?? 0,
          cardBp: accrual.lines[i]?.cardBp ?? 0,
          premiumBp: accrual.lines[i]?.premiumBp ?? 0,
          premiumKop: accrual.lines[i]?.premiumKop ?? 0,
          sellerPoints: accrual.lines[i]?.seller?.points ?? 0,
          explanation: accrual.lines[i]?.explanation ?? { ru: "", en: "" },
        })),
        accrual: {
          points: accrual.points,
          sellerPoints: accrual.sellerPoints,
          campaignPoints: campaigns.reduce((s, c) => s + c.points, 0),
          explanation: accrual.explanation,
        },
        campaigns,
        // R28: as of now; an order placed later is fixed at its own placement instant.
        premium: {
          active: premium,
          bonusBp: premiumBonusOf(version.config.earning),
          accrualKop: accrual.premiumKop,
          points: accrual.premiumPoints,
        },
        delivery: deliveryFor({
          premium,
          orderTotalKop: orderTotalKop(lines),
          thresholdKop: premiumFreeDeliveryThresholdOf(version.config.earning),
        }),
        sellerDiscounts: { sellers: sellerDiscounts.sellers, discountKop: sellerDiscounts.discountKop },
      },
    };
  }

  /**
   * R26: a quote's cart with one campaign applied as if it were in force at `at` (default now) — a
   * draft one too — and what it would add, line by line, on the same money-paid bases as the accrual
   * (after the best combination of points). Reads only; no budget is touched.
   */
  async dryRunCampaign(input: QuoteInput & { at?: Date | undefined }, campaign: CampaignInForce) {
    const at = input.at ?? this.clock.now();
    const prepared = await this.prepareQuote(input, at);
    if (!prepared.ok) return prepared;
    const { lines, premium, allocation, version } = prepared.value;
    const [part] = evaluateCampaigns([campaign], {
      placedAt: at,
      paymentMethod: input.paymentMethod,
      premium,
      segments: await this.segmentsOfCustomer(input.customerId, [campaign]),
      lines: lineBases(lines, allocation, version.config.earning.baseRateBp),
    });
    return {
      ok: true as const,
      value: {
        campaignId: campaign.campaignId,
        version: campaign.version,
        at: at.toISOString(),
        points: part?.points ?? 0,
        orderPoints: part?.orderPoints ?? 0,
        lines: lines.map((line) => ({
          lineId: line.lineId,
          kop: part?.lines.find((l) => l.lineId === line.lineId)?.kop ?? 0,
        })),
        budgetPoints: campaign.definition.budgetPoints,
      },
    };
  }

  /** R29: the customer's segments, read only when one of the campaigns is limited to a segment. */
  private async segmentsOfCustomer(customerId: string, campaigns: readonly CampaignInForce[]) {
    if (!limitedToSegments(campaigns)) return NO_SEGMENTS;
    return (await this.programmes.segmentsOf([customerId])).get(customerId) ?? NO_SEGMENTS;
  }

  /** What a quote (or a dry run) reads and computes, at an instant. */
  private async prepareQuote(input: QuoteInput, now: Date, draft?: ProgrammeConfig) {
    const problems = validateCart(input.lines);
    if (problems.length > 0) {
      const first = problems[0];
      return {
        ok: false,
        code: "INVALID_ORDER",
        message: first ? `${first.field} ${first.message}` : "the cart is not valid",
        details: { fields: problems },
      } satisfies Refused;
    }
    // A draft configuration is quoted as the version it would become (one after the latest).
    const versions = await this.currentVersions();
    const version: ConfigVersion = draft
      ? { version: Math.max(0, ...versions.map((v) => v.version)) + 1, effectiveFrom: now, config: draft }
      : versionInForce(versions, now);
    // R27: the sellers' loyalty discounts come off the prices first: the caps and accrual see what is paid.
    const sellerDiscounts = await this.programmes.sellerDiscounts(
      input.customerId,
      await this.withSellerPoints(input.lines),
      now,
    );
    const lines = sellerDiscounts.lines;
    const [premium = false] = await this.programmes.premiumAt([{ customerId: input.customerId, at: now }]);
    // From the balance cache, settled first when something fell due a moment ago.
    const { totals } = await this.ledger.currentBalance(input.customerId);
    const balances = {
      bonus: totals.bonus.available,
      savings: totals.savings.available,
      referral: totals.referral.available,
    };
    const quote = quoteSpend({ lines, config: version.config.earning, balances });
    const allocation = allocateSpend(lines, quote.combination);
    const accrual = computeAccrual({
      orderId: input.orderId ?? "—",
      lines,
      paymentMethod: input.paymentMethod,
      config: version.config.earning,
      allocation,
      premium,
    });
    return {
      ok: true as const,
      value: { version, lines, premium, balances, quote, allocation, accrual, sellerDiscounts, at: now },
    };
  }

  /**
   * R26: what the campaigns in force at `at` would give the cart, within what is left of their
   * budgets now (a placed order reserves at its own placement, so this may change by then).
   */
  private async campaignsForQuote(
    input: QuoteInput,
    prepared: Extract<Awaited<ReturnType<OrderService["prepareQuote"]>>, { ok: true }>["value"],
  ) {
    const inForce = await this.programmes.campaignsInForce(prepared.at);
    if (inForce.length === 0) return [];
    const order = {
      placedAt: prepared.at,
      paymentMethod: input.paymentMethod,
      premium: prepared.premium,
      lines: lineBases(prepared.lines, prepared.allocation, prepared.version.config.earning.baseRateBp),
    };
    const segments = await this.segmentsOfCustomer(input.customerId, inForce);
    const candidates = candidateCampaigns(inForce, { ...order, segments });
    const budgeted = candidates.filter((c) => c.definition.budgetPoints !== null).map((c) => c.campaignId);
    const left = budgeted.length > 0 ? await this.programmes.campaignBudgets(budgeted) : new Map();
    const promised = promiseCampaigns(
      {
        inForce: candidates,
        // What is left, as one slice: the quote reserves nothing, so the slices' split does not matter.
        budgets: (id) => [{ slice: 0, funded: left.get(id)?.remaining ?? 0, reserved: 0 }],
        ownSlice: 0,
        segments,
      },
      order,
    );
    return promised.map((c) => ({
      campaignId: c.campaignId,
      version: c.version,
      name: c.name,
      funder: c.funder,
      points: c.points,
      wantedPoints: c.wantedPoints,
      lines: c.lines.map((l) => ({ lineId: l.lineId, kop: l.kop })),
      budget:
        c.budgetTakes === null
          ? null
          : { remainingPoints: left.get(c.campaignId)?.remaining ?? 0, exhausted: c.points === 0 },
      explanation: campaignNote(c),
    }));
  }

  /**
   * Applies a batch of events, each whole or not at all and each once (by event id). Events of one
   * customer apply in the order given; up to `customersPerTransaction` customers share one
   * transaction (one statement loads them all, one writes them all), and transactions run side by side.
   */
  async handleEvents(incoming: IncomingEvent[], actor: string, requestId = ""): Promise<EventAnswer[]> {
    const byCustomer = new Map<string, number[]>();
    incoming.forEach((item, index) => {
      byCustomer.set(item.event.customerId, [...(byCustomer.get(item.event.customerId) ?? []), index]);
    });
    const versions = await this.currentVersions();
    const promoCodes = await this.programmes.promoCodeOwners([
      ...new Set(
        incoming.flatMap(({ event }) =>
          event.type === "placed" && event.promoCode ? [event.promoCode] : [],
        ),
      ),
    ]);
    const placed = incoming.flatMap(({ event }) => (event.type === "placed" ? [event] : []));
    const [sellerPoints, premiumAt] = await Promise.all([
      this.store.sellerPoints(placed.flatMap((event) => event.lines)),
      // R28: Premium at the instant each order was placed, fixed with the order from then on.
      this.programmes.premiumAt(placed.map((e) => ({ customerId: e.customerId, at: e.occurredAt }))),
    ]);
    const premium = new Map(placed.map((e, i) => [e, premiumAt[i] === true]));
    // R26: the campaigns in force when each order was placed (one cached read per instant).
    const instants = [...new Set(placed.map((e) => e.occurredAt.getTime()))];
    const inForceAt = new Map(
      await Promise.all(
        instants.map(async (t) => [t, await this.programmes.campaignsInForce(new Date(t))] as const),
      ),
    );
    const enrich = (item: IncomingEvent): IncomingEvent =>
      item.event.type === "placed"
        ? {
            ...item,
            event: {
              ...item.event,
              lines: item.event.lines.map((l) => withPoints(l, sellerPoints)),
              ...(premium.get(item.event) ? { premium: true } : {}),
            },
          }
        : item;
    // R29: the segments of the customers placing orders, when a campaign in force is limited to one.
    const segmented = placed.filter((e) => limitedToSegments(inForceAt.get(e.occurredAt.getTime()) ?? []));
    const segmentsOf =
      segmented.length > 0
        ? await this.programmes.segmentsOf([...new Set(segmented.map((e) => e.customerId))])
        : new Map<string, ReadonlySet<string>>();
    const answers: EventAnswer[] = new Array(incoming.length);
    const recorded: EffectKey[] = [];
    const campaigns = new Map<string, CampaignInForce[]>();
    const context = {
      versions,
      requestId,
      promoCodes,
      timeZone: this.programmes.timeZone,
      campaignsOf: (eventId: string) => campaigns.get(eventId) ?? [],
      segmentsOf: (customerId: string) => segmentsOf.get(customerId) ?? NO_SEGMENTS,
    };
    await Promise.all(
      [...byCustomer].map(async ([customerId, indexes]) => {
        const items = indexes.map((i) => enrich(incoming[i] as IncomingEvent));
        for (const { event } of items) {
          if (event.type !== "placed") continue;
          const version = versionInForce(versions, event.occurredAt);
          const inForce = inForceAt.get(event.occurredAt.getTime()) ?? [];
          const segments = segmentsOf.get(event.customerId) ?? NO_SEGMENTS;
          campaigns.set(
            event.eventId,
            campaignCandidates(event, inForce, version.config.earning.baseRateBp, segments),
          );
        }
        const budgetIds = items.flatMap(({ event }) =>
          context
            .campaignsOf(event.eventId)
            .filter((c) => c.definition.budgetPoints !== null)
            .map((c) => campaignBudgetId(c.campaignId)),
        );
        const done = await this.committer.submit<{ answers: EventAnswer[]; effects: string[] }>({
          customerId,
          load: { ...eventsLoad(items), ...(budgetIds.length > 0 ? { budgetIds } : {}) },
          run: (state, ctx) => {
            const { answers, write } = applyForCustomer(state, items, context, ctx);
            const effects = (write?.effects ?? []).map((e) => e.effectId);
            return { result: { answers, effects }, write: write && { ...write, actor } };
          },
        });
        indexes.forEach((index, k) => {
          answers[index] = done.answers[k] as EventAnswer;
        });
        for (const effectId of done.effects) recorded.push({ sourceCustomerId: customerId, effectId });
      }),
    );
    this.programmes.countEvents?.(answers.filter((a) => a.requestId === requestId).map((a) => a.outcome));
    // Committed: the other customers' sides (R23 inviters, R24 managers) apply now, in their own work.
    await this.programmes.deliver(recorded);
    return answers;
  }

  /** The order with the events that wait on it; undefined order: not placed (yet). */
  async getOrder(customerId: string, orderId: string) {
    const [order, waiting, referred] = await Promise.all([
      this.store.readOrder(customerId, orderId),
      this.store.waitingEventsOf(customerId, orderId),
      this.store.referredOrder(customerId, orderId),
    ]);
    const now = this.clock.now();
    return {
      order: order
        ? {
            ...orderView(order, await this.rules.categoryNames()),
            // R24: the promo code it was placed with and what it earns the manager, and why.
            referral: referred
              ? {
                  promoCode: referred.promoCode,
                  managerId: referred.managerId,
                  status: referred.status,
                  points: referred.points,
                  explanation: referralStatusText(referred),
                }
              : null,
          }
        : undefined,
      waitingEvents: waiting.map((w) => waitingEventView(w, now)),
    };
  }

  /**
   * Waiting events of every customer, oldest first, for operators: nothing may wait silently.
   * `olderThanSeconds` keeps those waiting at least that long; `after` continues a page.
   */
  async listWaitingEvents(query: { olderThanSeconds: number; limit: number; after?: string | undefined }) {
    const now = this.clock.now();
    const position = query.after === undefined ? undefined : decodePageCursor(query.after);
    if (query.after !== undefined && !position) return undefined;
    const after = position && {
      receivedAt: position.at,
      customerId: position.customerId,
      eventId: position.id,
    };
    const page = await this.store.waitingEvents({
      before: new Date(now.getTime() - query.olderThanSeconds * 1000),
      limit: query.limit + 1,
      after,
    });
    const events = page.slice(0, query.limit);
    const last = events[events.length - 1];
    return {
      events: events.map((w) => waitingEventView(w, now)),
      next:
        page.length > query.limit && last
          ? encodePageCursor({ at: last.receivedAt, customerId: last.customerId, id: last.eventId })
          : null,
    };
  }

  async listConfigVersions() {
    const versions = await this.rules.versions();
    const now = this.clock.now();
    return {
      current: versionInForce(versions, now).version,
      defaults: DEFAULTS,
      versions: versions.map(versionView),
    };
  }

  /**
   * A programme configuration dry-run before it takes effect: the cart quoted under the version in
   * force now and under the draft, side by side, with what changes. Reads only; nothing is stored.
   */
  async dryRunConfig(input: QuoteInput, config: ProgrammeConfig) {
    const problems = validateProgrammeConfig(config);
    if (problems.length > 0) return validationFailed(problems, "body.config.") satisfies Refused;
    const [current, draft] = await Promise.all([this.quote(input), this.quote(input, config)]);
    if (!current.ok) return current;
    if (!draft.ok) return draft;
    const c = current.value;
    const d = draft.value;
    return {
      ok: true as const,
      value: {
        current: c,
        draft: d,
        difference: {
          spendablePoints: d.caps.spendablePoints - c.caps.spendablePoints,
          combinationPoints: d.total - c.total,
          moneyToPayKop: d.moneyToPayKop - c.moneyToPayKop,
          accrualPoints: d.accrual.points - c.accrual.points,
          campaignPoints: d.accrual.campaignPoints - c.accrual.campaignPoints,
        },
      },
    };
  }

  /** A new programme version, in force from `effectiveFrom`; audited with who, when and old → new. */
  async addConfigVersion(input: {
    config: ProgrammeConfig;
    effectiveFrom: Date;
    reason: string;
    actor: string;
    idempotencyKey: string;
    fingerprint: string;
  }) {
    const problems = validateProgrammeConfig(input.config);
    if (problems.length > 0) return validationFailed(problems, "body.config.") satisfies Refused;
    const now = this.clock.now();
    if (input.effectiveFrom.getTime() < now.getTime() - 60_000) {
      return {
        ok: false,
        code: "INVALID_DATES",
        message: "effectiveFrom must not be in the past: orders already placed keep their version",
        details: { field: "body.effectiveFrom", now: now.toISOString() },
      } satisfies Refused;
    }
    const added = await this.store.addConfigVersion(input, (latest) => {
      if (latest && latest.effectiveFrom.getTime() > input.effectiveFrom.getTime()) {
        return `effectiveFrom must not be before version ${latest.version}'s (${latest.effectiveFrom.toISOString()})`;
      }
      return {
        effectiveFrom: input.effectiveFrom,
        config: input.config,
        previousConfig: latest?.config ?? DEFAULTS,
        reason: input.reason,
        createdBy: input.actor,
        createdAt: now,
      };
    });
    this.rules.invalidate();
    if ("refusal" in added) {
      return {
        ok: false,
        code: added.conflict ? "IDEMPOTENCY_CONFLICT" : "INVALID_DATES",
        message: added.refusal,
        details: added.conflict ? {} : { field: "body.effectiveFrom" },
      } satisfies Refused;
    }
    return { ok: true as const, value: versionView(added.record), replayed: added.replayed };
  }

  async setSellerPoints(input: { sellerId: string; sku: string; pointsPerUnit: number; actor: string }) {
    const { previous } = await this.store.setSellerPoints({ ...input, at: this.clock.now() });
    return { sellerId: input.sellerId, sku: input.sku, pointsPerUnit: input.pointsPerUnit, previous };
  }
}

/**
 * What a customer's events can touch: the orders with their lots, the orders' holds and redemptions
 * (R20: one per kind, named after the order), the events by id, and for orders being placed an R4
 * prefix covering the points they spend.
 */
function eventsLoad(items: IncomingEvent[]): CustomerWork<unknown>["load"] {
  // R25: an order paid from the savings account earns cashback if the account's mechanic says so.
  const fromSavings = items.some(
    (i) => i.event.type === "placed" && i.event.paymentMethod === "savings_account",
  );
  const orderIds = [...new Set(items.map((i) => i.event.orderId))];
  const spendIds = orderIds.flatMap((o) => POINT_KINDS.map((k) => spendId(o, k)));
  const spend: Partial<Record<PointKind, number>> = {};
  for (const { event } of items) {
    if (event.type !== "placed") continue;
    for (const kind of POINT_KINDS)
      if (event.spend[kind] > 0) spend[kind] = (spend[kind] ?? 0) + event.spend[kind];
  }
  return {
    refs: { holdIds: spendIds, redemptionIds: spendIds },
    spend,
    orderIds,
    eventIds: items.map((i) => i.event.eventId),
    // R23: the customer's invitation as a friend; R24: its orders placed with a code, its manager status.
    programmes: { invitation: true, referredOrderIds: orderIds, manager: true },
    ...(fromSavings ? { savings: {} } : {}),
  };
}

/**
 * Applies one customer's events to its loaded state; pure: returns the answers and what to write.
 * An event that cannot apply yet waits (parked): for its sequence number to come up, or — without a
 * sequence — for an event that could make it valid (`waitingFor`). Whenever an event of an order is
 * decided, the order's waiting events are tried again, until none moves.
 */
function applyForCustomer(
  state: CustomerState,
  items: IncomingEvent[],
  context: {
    versions: ConfigVersion[];
    requestId: string;
    promoCodes: ReadonlyMap<string, PromoCodeOwner>;
    timeZone: string;
    /** R26: the campaigns a placed event (by id) could get anything from. */
    campaignsOf: (eventId: string) => readonly CampaignInForce[];
    /** R29: the segments of a customer (read before the transaction, as R28's Premium is). */
    segmentsOf: (customerId: string) => ReadonlySet<string>;
  },
  ctx: OperationContext,
): { answers: EventAnswer[]; write: Omit<CustomerWrite, "customerId" | "actor"> | undefined } {
  const { versions, requestId, promoCodes } = context;
  // R26: campaign budgets as the events before this one left them, and what they reserved.
  let budgets = state.budgets;
  const budgetReservations: BudgetReservation[] = [];
  const { now } = ctx;
  const known = new Map(state.events.map((s) => [s.eventId, s]));
  const orders = new Map(state.orders.map((o) => [o.orderId, o]));
  const parked = new Map(state.parked.map((p) => [p.event.eventId, p]));
  const refusedInSequence = [...state.refusedInSequence];
  let ledger = state.ledger;
  let combined: LedgerChange<unknown> | undefined;
  const changedOrders = new Map<string, Order>();
  const newOrderIds = new Set<string>();
  const written = new Map<string, StoredOrderEvent>();
  const shipments: AppliedShipment[] = [];
  const shippedAt = new Map<string, Date>();
  const placedWithCode = new Map<string, { promoCode: string; owner: PromoCodeOwner }>();
  const versionOf = (order: Order) =>
    versions.find((v) => v.version === order.configVersion) ?? versionInForce([], now);

  const decide = (event: OrderEvent): EventOutcome => {
    const order = orders.get(event.orderId);
    const owner = event.type === "placed" && event.promoCode ? promoCodes.get(event.promoCode) : undefined;
    if (event.type === "placed" && event.promoCode && !owner) {
      return refusedOutcome(event, {
        code: "PROMO_CODE_NOT_FOUND",
        message: `there is no promo code ${event.promoCode}`,
        details: { field: "promoCode" },
      });
    }
    const predecessor = refusedPredecessor(order, event, refusedInSequence);
    if (predecessor) return refusedOutcome(event, predecessor);
    const decision = sequenceDecision(order, event);
    if (decision === "park") {
      const next = (order?.lastSequence ?? 0) + 1;
      return parkedOutcome(event, `sequence ${next} of order ${event.orderId}`, next);
    }
    if (decision !== "apply") return refusedOutcome(event, decision);
    const version =
      event.type === "placed" || !order
        ? versionInForce(versions, event.occurredAt)
        : (versions.find((v) => v.version === order.configVersion) ?? versionInForce([], now));
    const inForce = event.type === "placed" ? context.campaignsOf(event.eventId) : [];
    const result = applyOrderEvent(order, event, ledger, version, ctx, {
      savingsMechanic: state.savings?.mechanic,
      ...(inForce.length > 0
        ? {
            campaigns: {
              inForce,
              budgets: (id: string) => budgets.get(campaignBudgetId(id)),
              ownSlice: hashRangeOf(state.ledger.customerId, BUDGET_SLICES),
              segments: context.segmentsOf(event.customerId),
            },
          }
        : {}),
    });
    if (!result.ok) {
      const waiting = waitingFor(order, event, result);
      return waiting ? parkedOutcome(event, waiting.description) : refusedOutcome(event, result);
    }
    if (!order) newOrderIds.add(result.order.orderId);
    if (event.type === "placed" && event.promoCode && owner)
      placedWithCode.set(event.orderId, { promoCode: event.promoCode, owner });
    if (event.type === "shipped" && "availableFrom" in result.effect && result.effect.availableFrom) {
      shipments.push({ order: result.order, availableFrom: new Date(result.effect.availableFrom) });
      if (!shippedAt.has(event.orderId)) shippedAt.set(event.orderId, event.occurredAt);
    }
    const reserved = budgetChanges(order?.campaigns, result.order.campaigns).map((c) => ({
      budgetId: campaignBudgetId(c.campaignId),
      slice: c.slice,
      points: c.points,
    }));
    budgetReservations.push(...reserved);
    budgets = withReservations(budgets, reserved);
    orders.set(result.order.orderId, result.order);
    changedOrders.set(result.order.orderId, result.order);
    if (result.change) {
      ledger = applyChange(ledger, result.change);
      combined = combined ? combineChanges(combined, result.change) : result.change;
    }
    return {
      eventId: event.eventId,
      orderId: event.orderId,
      status: "applied",
      orderState: result.order.state,
      effect: result.effect,
    };
  };

  /** Records a decided event; a sequenced refusal blocks the events after it (PREDECESSOR_REFUSED). */
  const record = (stored: StoredOrderEvent) => {
    written.set(stored.event.eventId, stored);
    const { event, outcome } = stored;
    if (outcome.status === "parked") parked.set(event.eventId, stored);
    else parked.delete(event.eventId);
    if (
      outcome.status === "refused" &&
      event.sequence !== undefined &&
      blocksSuccessors(outcome.error.code)
    ) {
      refusedInSequence.push({
        eventId: event.eventId,
        orderId: event.orderId,
        sequence: event.sequence,
        code: outcome.error.code,
      });
    }
  };

  /** Tries the order's waiting events again (in the order they arrived) until none moves. */
  /** A sequenced event ahead of its turn, with no refused predecessor: deciding it again changes nothing. */
  const notItsTurn = (event: OrderEvent) =>
    event.sequence !== undefined &&
    event.sequence !== (orders.get(event.orderId)?.lastSequence ?? 0) + 1 &&
    !refusedPredecessor(orders.get(event.orderId), event, refusedInSequence);

  const retryWaiting = (orderId: string) => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const waiting of [...parked.values()].filter((p) => p.event.orderId === orderId)) {
        if (notItsTurn(waiting.event)) continue;
        const outcome = decide(waiting.event);
        if (outcome.status === "parked") {
          if (JSON.stringify(outcome) !== JSON.stringify(waiting.outcome))
            record({ ...waiting, outcome, requestId });
          continue;
        }
        record({ ...waiting, outcome, requestId });
        moved = true;
      }
    }
  };

  /** Each answer, and whether it is the stored event's (a later event may still move that one). */
  const answers: { answer: EventAnswer; stored: boolean }[] = [];
  for (const item of items) {
    const { event } = item;
    const prior = written.get(event.eventId) ?? known.get(event.eventId);
    if (prior) {
      const same = prior.fingerprint === item.fingerprint;
      const answer = same
        ? { outcome: prior.outcome, requestId: prior.requestId ?? requestId }
        : {
            outcome: refusedOutcome(event, {
              code: "IDEMPOTENCY_CONFLICT",
              message: `event ${event.eventId} was received before with a different body`,
              details: { eventId: event.eventId },
            }),
            requestId,
          };
      answers.push({ answer, stored: same });
      continue;
    }
    record({ event, fingerprint: item.fingerprint, outcome: decide(event), requestId });
    retryWaiting(event.orderId);
    answers.push({
      answer: { outcome: (written.get(event.eventId) as StoredOrderEvent).outcome, requestId },
      stored: true,
    });
  }
  const programmes = state.programmes;
  const changed = [...changedOrders.values()];
  const invites =
    programmes && changed.length > 0
      ? invitationAfterOrderEvents({
          invitation: programmes.invitation,
          shipments,
          orders: changed,
          versionOf,
        })
      : { effects: [] };
  const managers =
    programmes && changed.length > 0
      ? managersAfterOrderEvents({
          programmes,
          before: new Map(state.orders.map((o) => [o.orderId, o])),
          after: changed,
          placedWithCode,
          shippedAt,
          versionOf,
          timeZone: context.timeZone,
        })
      : { referredOrders: [], monthDeltas: [], effects: [] };
  // R27: what the events changed in the customer's statistics with the orders' sellers.
  const loaded = new Map(state.orders.map((o) => [o.orderId, o]));
  const sellerStats = changed.flatMap((o) => sellerStatsDeltas(loaded.get(o.orderId), o, context.timeZone));
  // R29: and in its orders by day.
  const orderDays = changed.flatMap((o) => orderDayDelta(loaded.get(o.orderId), o, context.timeZone) ?? []);
  const write =
    combined || changedOrders.size > 0 || written.size > 0
      ? {
          ledger: combined ? ledgerWrite(state.ledger, combined) : undefined,
          orders: changed,
          newOrderIds: [...newOrderIds],
          events: [...written.values()],
          // Only what changed: most events touch no programme row, and then nothing more is written.
          ...(invites.invitation ||
          (managers.referredOrders?.length ?? 0) + (managers.monthDeltas?.length ?? 0) > 0
            ? {
                programmes: {
                  ...(invites.invitation ? { invitation: invites.invitation } : {}),
                  referredOrders: managers.referredOrders,
                  monthDeltas: managers.monthDeltas,
                },
              }
            : {}),
          effects: [...invites.effects, ...managers.effects],
          ...(budgetReservations.length > 0 ? { budgetReservations } : {}),
          ...(sellerStats.length > 0 ? { sellerStats } : {}),
          ...(orderDays.length > 0 ? { orderDays } : {}),
        }
      : undefined;
  // Answers given earlier in this batch for events that a later event moved: report the latest
  // (a conflicting duplicate keeps its refusal: it is not the stored event).
  return {
    answers: answers.map(({ answer, stored }) => {
      const latest = stored ? written.get(answer.outcome.eventId) : undefined;
      return latest ? { outcome: latest.outcome, requestId: latest.requestId ?? requestId } : answer;
    }),
    write,
  };
}

/** Refusals that end an event's sequence number for good; a stale or duplicate number does not. */
function blocksSuccessors(code: string): boolean {
  return code !== "ORDER_SEQUENCE_CONFLICT" && code !== "IDEMPOTENCY_CONFLICT";
}

function parkedOutcome(event: OrderEvent, waitingFor: string, waitingForSequence?: number): EventOutcome {
  return {
    eventId: event.eventId,
    orderId: event.orderId,
    status: "parked",
    waitingFor,
    ...(waitingForSequence === undefined ? {} : { waitingForSequence }),
  };
}

function refusedOutcome(
  event: OrderEvent,
  refusal: { code: string; message: string; details: Record<string, unknown> },
): EventOutcome {
  return {
    eventId: event.eventId,
    orderId: event.orderId,
    status: "refused",
    error: { code: refusal.code, message: refusal.message, details: refusal.details },
  };
}

function waitingEventView(w: WaitingEvent, now: Date) {
  return {
    customerId: w.customerId,
    orderId: w.orderId,
    eventId: w.eventId,
    type: w.type,
    sequence: w.sequence,
    waitingFor: w.waitingFor,
    receivedAt: w.receivedAt.toISOString(),
    waitingSeconds: Math.max(0, Math.floor((now.getTime() - w.receivedAt.getTime()) / 1000)),
  };
}

function versionView(v: ConfigVersionRecord) {
  return { ...v, effectiveFrom: v.effectiveFrom.toISOString(), createdAt: v.createdAt.toISOString() };
}
