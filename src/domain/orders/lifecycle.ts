import {
  campaignPointsDue,
  giveBack as giveBackTakes,
  lineBases,
  type PlacementCampaigns,
  promiseCampaigns,
} from "../campaigns/order-parts.js";
import {
  allocateSpend,
  checkSpendRequest,
  computeAccrual,
  type KindPoints,
  type LineAccrual,
  type LocalizedText,
  pointsFromKop,
  proportionalReturnShare,
  validateCart,
} from "../checkout/index.js";
import { POINT_KINDS, type PointKind } from "../kinds.js";
import {
  addDays,
  applyChange,
  type CategoryNames,
  type CreditSource,
  type CustomerLedger,
  capture,
  clawback,
  combineChanges,
  credit,
  type ExplanationRef,
  explainCampaignPoints,
  explainOrderShipped,
  explainSavingsCashback,
  explainSellerPoints,
  hold,
  type LedgerChange,
  type LedgerResult,
  type LineAccrualParams,
  lineAccrualParams,
  type OperationContext,
  type ReturnedLine,
  refund,
  release,
  renderLineAccrual,
  settle,
} from "../ledger/index.js";
import {
  cashbackPoints,
  DEFAULT_SAVINGS_MECHANIC,
  expectedCashbackPoints,
  type SavingsMechanic,
  shippedMoneyKop,
} from "../savings/index.js";
import { type ConfigVersion, type LifecyclePolicy, savingsCashbackOf } from "./config.js";
import type {
  EventLineQuantity,
  ORDER_REFUSAL_CODES,
  Order,
  OrderCashback,
  OrderEvent,
  OrderLine,
  OrderState,
} from "./types.js";

export type OrderRefusalCode = (typeof ORDER_REFUSAL_CODES)[number];

export interface OrderRefusal {
  ok: false;
  /** An order refusal code, or the ledger's (INSUFFICIENT_POINTS, HOLD_EXPIRED…) passed through. */
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** What placing an order reads besides the event and the ledger. */
export interface PlacementFacts {
  /** R25: what the customer's savings account earns. */
  readonly savingsMechanic?: SavingsMechanic | undefined;
  /** R26: the campaigns in force and the budgets loaded for them; absent: none apply. */
  readonly campaigns?: PlacementCampaigns | undefined;
}

function refuse(
  code: OrderRefusalCode,
  message: string,
  details: Record<string, unknown> = {},
): OrderRefusal {
  return { ok: false, code, message, details };
}

/** What an applied event did, for the caller and for the stored outcome. */
export interface EventEffect {
  /** Points held (placed), captured (paid), released or refunded (cancelled/returned), per kind. */
  points?: Partial<Record<PointKind, number>>;
  /** Purchase accrual credited (shipped, pending until availableFrom) or taken back (returned). */
  accrualPoints?: number;
  sellerPoints?: number;
  availableFrom?: string;
  /** R14: points a return could not take back: withhold them from the money refund. */
  shortfall?: number;
  /** What the order would earn when it ships (placed: shown, not credited, R13). */
  expectedAccrualPoints?: number;
  /** R28: the part of expectedAccrualPoints that Premium adds (placed by a subscriber only). */
  expectedPremiumPoints?: number;
  /** R25: savings cashback credited (shipped, pending until availableFrom) or taken back (returned). */
  cashbackPoints?: number;
  /** R25: the cashback the order would earn when it ships (placed). */
  expectedCashbackPoints?: number;
  /** R26: campaign points credited (shipped) or taken back (returned), all campaigns together. */
  campaignPoints?: number;
  /** R26: what the campaigns promised the order when it ships (placed), all together. */
  expectedCampaignPoints?: number;
}

export interface AppliedEvent {
  ok: true;
  order: Order;
  change: LedgerChange<unknown> | null;
  effect: EventEffect;
}

export type EventResult = AppliedEvent | OrderRefusal;

/** The holds and redemptions of an order are named after it, one per kind (R20: idempotent by order). */
export function spendId(orderId: string, kind: PointKind): string {
  return `${orderId}:${kind}`;
}

/** Runs ledger operations one after another on one customer's ledger; any refusal stops the event. */
class LedgerSteps {
  change: LedgerChange<unknown> | null = null;

  constructor(
    public ledger: CustomerLedger,
    private readonly ctx: OperationContext,
  ) {}

  run<T>(operation: (ledger: CustomerLedger, ctx: OperationContext) => LedgerResult<T>): T | OrderRefusal {
    const result = operation(this.ledger, this.ctx);
    if (!result.ok) return { ok: false, code: result.code, message: result.message, details: result.details };
    this.ledger = applyChange(this.ledger, result);
    this.change = this.change ? combineChanges(this.change, result) : result;
    return result.value;
  }
}

function isRefusal(value: unknown): value is OrderRefusal {
  return typeof value === "object" && value !== null && (value as { ok?: unknown }).ok === false;
}

function conflict(order: Order, event: OrderEvent, expected: OrderState[]): OrderRefusal {
  return refuse(
    "ORDER_STATE_CONFLICT",
    `order ${order.orderId} is ${order.state}; ${event.type} needs it ${expected.join(" or ")}`,
    { orderId: order.orderId, currentState: order.state, expectedStates: expected, event: event.type },
  );
}

function cloneOrder(order: Order): Order {
  return {
    ...order,
    ...(order.cashback ? { cashback: { ...order.cashback, lotIds: [...order.cashback.lotIds] } } : {}),
    ...(order.campaigns
      ? {
          campaigns: order.campaigns.map((c) => ({
            ...c,
            budgetTakes: c.budgetTakes && [...c.budgetTakes],
            lotIds: [...c.lotIds],
          })),
        }
      : {}),
    lines: order.lines.map((l) => ({
      ...l,
      refunded: { ...l.refunded },
      accrualLotIds: [...l.accrualLotIds],
      sellerLotIds: [...l.sellerLotIds],
    })),
  };
}

function available(ledger: CustomerLedger): KindPoints {
  return {
    bonus: ledger.totals.bonus.available,
    savings: ledger.totals.savings.available,
    referral: ledger.totals.referral.available,
  };
}

/** R33: what a line's accrual is explained from: its numbers, or the text an older order stored. */
function lineAccrual(line: OrderLine): LineAccrualParams | LocalizedText {
  return (
    line.accrualExplanation ??
    lineAccrualParams(
      line.category,
      line.accrualBaseKop,
      line.accrualRateBp,
      line.accrualCardBp,
      line.accrualKop,
      line.accrualPremiumBp,
    )
  );
}

/** R33: «Заказ 7781, «Книги» 5% от 1 200 ₽ — 60 баллов», as the order view shows a line. */
export function explainOrderLine(order: Order, line: OrderLine, names: CategoryNames): LocalizedText {
  const accrual = lineAccrual(line);
  if (!Array.isArray(accrual)) return accrual;
  return renderLineAccrual(order.orderId, names(order.configVersion, line.category), accrual);
}

/** The purchase accrual in whole points is re-derived from the net kopecks after every event (R12). */
function netAccrualKop(order: Order): number {
  return order.lines.reduce((sum, l) => sum + l.earnedKop - l.removedKop, 0);
}

/** R28: a line's Premium extra and what it adds, as the order keeps them (nothing when there is none). */
function premiumPart(
  line: LineAccrual | undefined,
): Pick<OrderLine, "accrualPremiumBp" | "accrualPremiumKop"> {
  if (!line || line.premiumBp === 0) return {};
  return { accrualPremiumBp: line.premiumBp, accrualPremiumKop: line.premiumKop };
}

function place(
  event: Extract<OrderEvent, { type: "placed" }>,
  version: ConfigVersion,
  steps: LedgerSteps,
  ctx: OperationContext,
  facts: PlacementFacts,
): EventResult {
  const savingsMechanic = facts.savingsMechanic ?? DEFAULT_SAVINGS_MECHANIC;
  const problems = validateCart(event.lines);
  if (problems.length > 0) {
    const first = problems[0];
    return refuse("INVALID_ORDER", first ? `${first.field} ${first.message}` : "the order is not valid", {
      fields: problems,
    });
  }
  const { earning, lifecycle } = version.config;
  const settled = steps.run(settle);
  if (isRefusal(settled)) return settled;
  // R16-R19: the requested spend must fit the caps and the balance.
  const check = checkSpendRequest(
    { lines: event.lines, config: earning, balances: available(steps.ledger) },
    event.spend,
  );
  if (!check.ok) {
    return {
      ok: false,
      code: check.code,
      message: check.message.en,
      details: {
        ...check.details,
        field: `spend${check.field.slice("requested".length)}`,
        messageRu: check.message.ru,
      },
    };
  }
  const allocation = allocateSpend(event.lines, event.spend);
  const accrual = computeAccrual({
    orderId: event.orderId,
    lines: event.lines,
    paymentMethod: event.paymentMethod,
    config: earning,
    allocation,
    premium: event.premium,
  });
  for (const kind of POINT_KINDS) {
    if (event.spend[kind] === 0) continue;
    const held = steps.run((l, c) =>
      hold(
        l,
        {
          holdId: spendId(event.orderId, kind),
          kind,
          amount: event.spend[kind],
          timeoutSeconds: lifecycle.holdTimeoutSeconds,
        },
        c,
      ),
    );
    if (isRefusal(held)) return held;
  }
  const lines: OrderLine[] = event.lines.map((line, i) => ({
    ...line,
    spent: allocation[i]?.points ?? { bonus: 0, savings: 0, referral: 0 },
    accrualKop: accrual.lines[i]?.accrualKop ?? 0,
    accrualBaseKop: accrual.lines[i]?.baseKop ?? 0,
    accrualRateBp: accrual.lines[i]?.rateBp ?? 0,
    accrualCardBp: accrual.lines[i]?.cardBp ?? 0,
    // R28: kept only when there is an extra, so other lines are stored exactly as before.
    ...premiumPart(accrual.lines[i]),
    shippedQuantity: 0,
    returnedQuantity: 0,
    accrualLotIds: [],
    sellerLotIds: [],
    refunded: { bonus: 0, savings: 0, referral: 0 },
    earnedKop: 0,
    removedKop: 0,
    sellerPointsEarned: 0,
    sellerPointsRemoved: 0,
  }));
  // R25: money from the savings account of a cashback customer earns cashback as its units ship.
  const cashbackBp =
    event.paymentMethod === "savings_account" && savingsMechanic === "cashback"
      ? savingsCashbackOf(version.config)
      : 0;
  const cashback: OrderCashback | undefined =
    cashbackBp > 0 ? { rateBp: cashbackBp, points: 0, lotIds: [] } : undefined;
  // R26: the campaigns in force now, on the money-paid bases, within their budgets.
  const campaigns = facts.campaigns
    ? promiseCampaigns(facts.campaigns, {
        placedAt: event.occurredAt,
        paymentMethod: event.paymentMethod,
        premium: event.premium === true,
        lines: lineBases(event.lines, allocation, earning.baseRateBp),
      })
    : [];
  const order: Order = {
    customerId: event.customerId,
    orderId: event.orderId,
    state: "placed",
    paymentMethod: event.paymentMethod,
    configVersion: version.version,
    ...(event.premium ? { premium: true } : {}),
    placedAt: event.occurredAt,
    spend: event.spend,
    lines,
    lastSequence: 0,
    accrualPoints: 0,
    shortfall: 0,
    ...(cashback ? { cashback } : {}),
    ...(campaigns.length > 0 ? { campaigns } : {}),
    updatedAt: ctx.now,
  };
  return {
    ok: true,
    order,
    change: steps.change,
    effect: {
      points: { ...event.spend },
      expectedAccrualPoints: accrual.points,
      ...(event.premium ? { expectedPremiumPoints: accrual.premiumPoints } : {}),
      sellerPoints: accrual.sellerPoints,
      ...(cashback ? { expectedCashbackPoints: expectedCashbackPoints(lines, cashback.rateBp) } : {}),
      ...(campaigns.length > 0
        ? { expectedCampaignPoints: campaigns.reduce((s, c) => s + c.points, 0) }
        : {}),
    },
  };
}

/** Resolves the lines and quantities an event names; a refusal names the first one that does not fit. */
function pickLines(
  order: Order,
  requested: readonly EventLineQuantity[] | undefined,
  room: (line: OrderLine) => number,
  tooMany: "RETURN_EXCEEDS_SHIPPED" | "SHIPMENT_EXCEEDS_ORDERED",
): { line: OrderLine; quantity: number }[] | OrderRefusal {
  const picks = requested ?? order.lines.map((l) => ({ lineId: l.lineId, quantity: room(l) }));
  const result: { line: OrderLine; quantity: number }[] = [];
  const seen = new Set<string>();
  for (const [i, pick] of picks.entries()) {
    if (seen.has(pick.lineId)) {
      return refuse("INVALID_ORDER", `lines[${i}].lineId ${pick.lineId} is named twice`, {
        field: `lines[${i}].lineId`,
      });
    }
    seen.add(pick.lineId);
    const line = order.lines.find((l) => l.lineId === pick.lineId);
    if (!line)
      return refuse("LINE_NOT_FOUND", `order ${order.orderId} has no line ${pick.lineId}`, {
        field: `lines[${i}].lineId`,
      });
    const quantity = pick.quantity ?? room(line);
    if (quantity > room(line)) {
      return refuse(tooMany, `line ${line.lineId}: ${quantity} units asked, ${room(line)} can be`, {
        field: `lines[${i}].quantity`,
        lineId: line.lineId,
        requested: quantity,
        allowed: room(line),
      });
    }
    if (quantity > 0) result.push({ line, quantity });
  }
  return result;
}

function ship(
  order: Order,
  event: Extract<OrderEvent, { type: "shipped" }>,
  version: ConfigVersion,
  steps: LedgerSteps,
): EventResult {
  if (order.state !== "paid" && order.state !== "shipped") return conflict(order, event, ["paid", "shipped"]);
  const picks = pickLines(
    order,
    event.lines,
    (l) => l.quantity - l.shippedQuantity,
    "SHIPMENT_EXCEEDS_ORDERED",
  );
  if (isRefusal(picks)) return picks;
  if (picks.length === 0) return conflict(order, event, ["paid"]);
  const dates = shipmentLotDates(event.occurredAt, version.config.lifecycle);
  const netBefore = netAccrualKop(order);
  for (const { line, quantity } of picks) {
    line.earnedKop += proportionalReturnShare({
      amount: line.accrualKop,
      quantity: line.quantity,
      alreadyReturnedQuantity: line.shippedQuantity,
      returnedQuantity: quantity,
    });
    line.shippedQuantity += quantity;
  }
  // R12: whole points follow the order's net kopecks, rounded down.
  const points = pointsFromKop(netAccrualKop(order)) - pointsFromKop(netBefore);
  if (points > 0) {
    const lotId = creditShipped(steps, order, dates, {
      kind: "bonus",
      amount: points,
      source: "purchase",
      funder: "marketplace",
      explanation: explainOrderShipped(
        order.orderId,
        points,
        order.configVersion,
        picks.map((p) => lineAccrual(p.line)),
      ),
    });
    if (isRefusal(lotId)) return lotId;
    for (const { line } of picks) line.accrualLotIds.push(lotId);
    order.accrualPoints += points;
  }
  // R11: seller points, funded by each seller, as their own lots and explanation lines.
  let sellerPoints = 0;
  const bySeller = new Map<string, { line: OrderLine; quantity: number }[]>();
  for (const pick of picks) {
    if (!pick.line.sellerPointsPerUnit) continue;
    bySeller.set(pick.line.sellerId, [...(bySeller.get(pick.line.sellerId) ?? []), pick]);
  }
  for (const [sellerId, sellerPicks] of bySeller) {
    const amount = sellerPicks.reduce((s, p) => s + (p.line.sellerPointsPerUnit ?? 0) * p.quantity, 0);
    const lotId = creditShipped(steps, order, dates, {
      kind: "bonus",
      amount,
      source: "seller",
      funder: `seller:${sellerId}`,
      explanation: explainSellerPoints(
        order.orderId,
        amount,
        sellerId,
        sellerPicks.map((p) => [p.quantity, p.line.sellerPointsPerUnit ?? 0]),
      ),
    });
    if (isRefusal(lotId)) return lotId;
    for (const p of sellerPicks) {
      p.line.sellerLotIds.push(lotId);
      p.line.sellerPointsEarned += (p.line.sellerPointsPerUnit ?? 0) * p.quantity;
    }
    sellerPoints += amount;
  }
  order.state = "shipped";
  return {
    ok: true,
    order,
    change: steps.change,
    effect: { accrualPoints: points, sellerPoints, availableFrom: dates.availableFrom.toISOString() },
  };
}

/** R13: points a shipment (or a return's recount) earned, as a pending lot of the order: its id. */
function creditShipped(
  steps: LedgerSteps,
  order: Order,
  dates: { availableFrom: Date; expiresAt: Date },
  lot: { kind: PointKind; amount: number; source: CreditSource; funder: string; explanation: ExplanationRef },
): string | OrderRefusal {
  const credited = steps.run((l, c) => credit(l, { ...lot, ...dates, reference: order.orderId }, c));
  return isRefusal(credited) ? credited : credited.lotId;
}

/** R13: a shipment's lots are pending from the shipment, available pendingDelayHours later (R3 expiry after). */
function shipmentLotDates(shippedAt: Date, lifecycle: LifecyclePolicy) {
  const availableFrom = new Date(shippedAt.getTime() + lifecycle.pendingDelayHours * 3_600_000);
  return { availableFrom, expiresAt: addDays(availableFrom, lifecycle.expiryDays) };
}

/**
 * R25, the variant: after a shipment or a return, the order's savings cashback follows its units as the
 * purchase accrual does (R13) — the points the shipped and not returned units carry now, less those
 * credited so far: credited pending (available after the pending delay), or clawed back from the
 * order's cashback lots first, a shortfall reported and kept as debt (R14).
 */
function followCashback(
  before: Order,
  applied: AppliedEvent,
  event: OrderEvent,
  version: ConfigVersion,
  steps: LedgerSteps,
): EventResult {
  const order = applied.order;
  const cashback = order.cashback as OrderCashback;
  const points = cashbackPoints(order.lines, cashback.rateBp) - cashbackPoints(before.lines, cashback.rateBp);
  if (points === 0) return applied;
  let shortfall = 0;
  if (points > 0) {
    const money = shippedMoneyKop(order.lines) - shippedMoneyKop(before.lines);
    const lotId = creditShipped(steps, order, shipmentLotDates(event.occurredAt, version.config.lifecycle), {
      kind: "savings",
      amount: points,
      source: "savings_cashback",
      funder: "savings_cashback",
      explanation: explainSavingsCashback(order.orderId, money, cashback.rateBp, points),
    });
    if (isRefusal(lotId)) return lotId;
    cashback.lotIds.push(lotId);
  } else {
    const taken = clawBackReturned(steps, before, order, "savings", -points, cashback.lotIds);
    if (isRefusal(taken)) return taken;
    shortfall = taken;
    order.shortfall += shortfall;
  }
  cashback.points += points;
  return {
    ...applied,
    change: steps.change,
    effect: {
      ...applied.effect,
      cashbackPoints: Math.abs(points),
      ...(shortfall > 0 ? { shortfall: (applied.effect.shortfall ?? 0) + shortfall } : {}),
    },
  };
}

/**
 * R26: after a shipment or a return, each campaign's points follow the order's units — what the
 * shipped and not returned units carry now (campaignPointsDue), less what was credited so far:
 * credited pending as the campaign's own lot (its funder, its explanation line), or clawed back
 * from its lots, latest first (a shortfall is R14 debt) and given back to its budget.
 */
function followCampaigns(
  before: Order,
  applied: AppliedEvent,
  event: OrderEvent,
  version: ConfigVersion,
  steps: LedgerSteps,
): EventResult {
  const order = applied.order;
  let moved = 0;
  let shortfall = 0;
  for (const campaign of order.campaigns ?? []) {
    const points = campaignPointsDue(campaign, order.lines) - campaign.credited;
    if (points === 0) continue;
    if (points > 0) {
      const lotId = creditShipped(
        steps,
        order,
        shipmentLotDates(event.occurredAt, version.config.lifecycle),
        {
          kind: "bonus",
          amount: points,
          source: "campaign",
          funder: campaign.funder,
          explanation: explainCampaignPoints(order.orderId, points, campaign.campaignId, campaign.name),
        },
      );
      if (isRefusal(lotId)) return lotId;
      campaign.lotIds.push(lotId);
    } else {
      const taken = clawBackReturned(steps, before, order, "bonus", -points, campaign.lotIds);
      if (isRefusal(taken)) return taken;
      shortfall += taken;
      // The returned units' points go back to the budget, whatever the customer could repay.
      if (campaign.budgetTakes) campaign.budgetTakes = giveBackTakes(campaign.budgetTakes, -points);
    }
    campaign.credited += points;
    moved += Math.abs(points);
  }
  if (moved === 0) return applied;
  order.shortfall += shortfall;
  return {
    ...applied,
    change: steps.change,
    effect: {
      ...applied.effect,
      campaignPoints: moved,
      ...(shortfall > 0 ? { shortfall: (applied.effect.shortfall ?? 0) + shortfall } : {}),
    },
  };
}

/**
 * R13, R14: takes back what a return's units carried from the lots credited for them, the latest
 * first; the shortfall (what was spent already, kept as debt).
 */
function clawBackReturned(
  steps: LedgerSteps,
  before: Order,
  order: Order,
  kind: PointKind,
  amount: number,
  lotIds: readonly string[],
): number | OrderRefusal {
  const taken = steps.run((l, c) =>
    clawback(
      l,
      {
        kind,
        amount,
        lotIds: [...lotIds].reverse(),
        reference: order.orderId,
        returnedLines: returnedSince(before, order),
      },
      c,
    ),
  );
  return isRefusal(taken) ? taken : taken.shortfall;
}

/** The units a return took back, line by line, as the ledger's clawback records them. */
function returnedSince(before: Order, order: Order): ReturnedLine[] {
  return order.lines.flatMap((line, i) => {
    const quantity = line.returnedQuantity - (before.lines[i]?.returnedQuantity ?? 0);
    return quantity > 0 ? [[line.lineId, line.sku, quantity, line.quantity] as ReturnedLine] : [];
  });
}

function giveBack(
  order: Order,
  steps: LedgerSteps,
  amounts: Record<PointKind, number>,
  returnedLines: ReturnedLine[] | undefined,
) {
  for (const kind of POINT_KINDS) {
    if (amounts[kind] === 0) continue;
    const done = steps.run((l, c) =>
      refund(l, { redemptionId: spendId(order.orderId, kind), amount: amounts[kind], returnedLines }, c),
    );
    if (isRefusal(done)) return done;
  }
  return null;
}

function cancel(order: Order, event: OrderEvent, steps: LedgerSteps): EventResult {
  if (order.state !== "placed" && order.state !== "paid") return conflict(order, event, ["placed", "paid"]);
  // R20: an unpaid order's holds are released; R15: a paid order's points come back into their lots.
  if (order.state === "placed") {
    for (const kind of POINT_KINDS) {
      if (order.spend[kind] === 0) continue;
      const released = steps.run((l, c) => release(l, { holdId: spendId(order.orderId, kind) }, c));
      // A hold that timed out already gave its points back: nothing is left to release.
      if (isRefusal(released) && released.code !== "HOLD_EXPIRED") return released;
    }
  } else {
    const refused = giveBack(order, steps, { ...order.spend }, undefined);
    if (refused) return refused;
    for (const line of order.lines) line.refunded = { ...line.spent };
  }
  // R26: nothing shipped, so nothing was credited: the whole reservation goes back to the budgets.
  for (const c of order.campaigns ?? []) if (c.budgetTakes) c.budgetTakes = [];
  order.state = "cancelled";
  return { ok: true, order, change: steps.change, effect: { points: { ...order.spend } } };
}

function returnLines(
  order: Order,
  event: Extract<OrderEvent, { type: "returned" }>,
  steps: LedgerSteps,
): EventResult {
  if (order.state !== "shipped" && order.state !== "delivered")
    return conflict(order, event, ["shipped", "delivered"]);
  const picks = pickLines(
    order,
    event.lines,
    (l) => l.shippedQuantity - l.returnedQuantity,
    "RETURN_EXCEEDS_SHIPPED",
  );
  if (isRefusal(picks)) return picks;
  if (picks.length === 0) {
    return refuse("RETURN_EXCEEDS_SHIPPED", "the return names no units", { field: "lines" });
  }
  const netBefore = netAccrualKop(order);
  const refunds: Record<PointKind, number> = { bonus: 0, savings: 0, referral: 0 };
  const accrualLots = new Set<string>();
  const sellerClawbacks = new Map<string, { amount: number; lotIds: Set<string> }>();
  const returnedLines: ReturnedLine[] = [];
  for (const { line, quantity } of picks) {
    // R13: the returned units lose their share of the line's accrual. Shipping and returning both
    // take cumulative floors of the same line total, so a line returned in full keeps nothing.
    line.removedKop += proportionalReturnShare({
      amount: line.accrualKop,
      quantity: line.quantity,
      alreadyReturnedQuantity: line.returnedQuantity,
      returnedQuantity: quantity,
    });
    for (const lotId of [...line.accrualLotIds].reverse()) accrualLots.add(lotId);
    const sellerRemoved = (line.sellerPointsPerUnit ?? 0) * quantity;
    if (sellerRemoved > 0) {
      const entry = sellerClawbacks.get(line.sellerId) ?? { amount: 0, lotIds: new Set<string>() };
      entry.amount += sellerRemoved;
      for (const lotId of [...line.sellerLotIds].reverse()) entry.lotIds.add(lotId);
      sellerClawbacks.set(line.sellerId, entry);
      line.sellerPointsRemoved += sellerRemoved;
    }
    // R15: spent points come back in proportion to the returned units.
    for (const kind of POINT_KINDS) {
      const back = proportionalReturnShare({
        amount: line.spent[kind],
        quantity: line.quantity,
        alreadyReturnedQuantity: line.returnedQuantity,
        returnedQuantity: quantity,
      });
      line.refunded[kind] += back;
      refunds[kind] += back;
    }
    line.returnedQuantity += quantity;
    returnedLines.push([line.lineId, line.sku, quantity, line.quantity]);
  }
  // R12: whole points follow the order's net kopecks, rounded down.
  const points = pointsFromKop(netBefore) - pointsFromKop(netAccrualKop(order));
  let shortfall = 0;
  // The purchase accrual comes back from the returned lines' own lots first (R13), then from the
  // order's other accrual lots (the order's rounding may need a point from them), then R14.
  for (const line of order.lines)
    for (const lotId of [...line.accrualLotIds].reverse()) accrualLots.add(lotId);
  const clawbacks = [
    { amount: points, lotIds: [...accrualLots] },
    ...[...sellerClawbacks.values()].map((c) => ({ amount: c.amount, lotIds: [...c.lotIds] })),
  ];
  for (const { amount, lotIds } of clawbacks) {
    if (amount === 0) continue;
    const taken = steps.run((l, c) =>
      clawback(l, { kind: "bonus", amount, lotIds, reference: order.orderId, returnedLines }, c),
    );
    if (isRefusal(taken)) return taken;
    shortfall += taken.shortfall;
  }
  order.accrualPoints -= points;
  const refused = giveBack(order, steps, refunds, returnedLines);
  if (refused) return refused;
  order.shortfall += shortfall;
  if (order.lines.every((l) => l.returnedQuantity === l.quantity)) order.state = "returned";
  return {
    ok: true,
    order,
    change: steps.change,
    effect: {
      points: refunds,
      accrualPoints: points,
      sellerPoints: [...sellerClawbacks.values()].reduce((sum, c) => sum + c.amount, 0),
      shortfall,
    },
  };
}

/**
 * R13-R15, R20: applies one order event to the order and the customer's ledger, whole or not at all.
 * `version` is the programme version in force when the order was placed (for `placed`: now in force).
 */
export function applyOrderEvent(
  order: Order | undefined,
  event: OrderEvent,
  ledger: CustomerLedger,
  version: ConfigVersion,
  ctx: OperationContext,
  /** What only `placed` reads. */
  facts: PlacementFacts = {},
): EventResult {
  const steps = new LedgerSteps(ledger, {
    ...ctx,
    policy: {
      ...ctx.policy,
      expiryDays: version.config.lifecycle.expiryDays,
      refundGraceDays: version.config.lifecycle.refundGraceDays,
      holdTimeoutSeconds: version.config.lifecycle.holdTimeoutSeconds,
    },
  });
  let result: EventResult;
  if (event.type === "placed") {
    if (order)
      return refuse("ORDER_STATE_CONFLICT", `order ${order.orderId} was already placed`, {
        orderId: order.orderId,
        currentState: order.state,
        expectedStates: [],
        event: event.type,
      });
    result = place(event, version, steps, ctx, facts);
  } else {
    if (!order)
      return refuse("ORDER_NOT_FOUND", `no order ${event.orderId} for customer ${event.customerId}`, {
        orderId: event.orderId,
      });
    const draft = cloneOrder(order);
    switch (event.type) {
      case "paid": {
        if (draft.state !== "placed") return conflict(draft, event, ["placed"]);
        for (const kind of POINT_KINDS) {
          if (draft.spend[kind] === 0) continue;
          const captured = steps.run((l, c) => capture(l, { holdId: spendId(draft.orderId, kind) }, c));
          if (isRefusal(captured)) return captured;
        }
        draft.state = "paid";
        result = { ok: true, order: draft, change: steps.change, effect: { points: { ...draft.spend } } };
        break;
      }
      case "shipped":
        result = ship(draft, event, version, steps);
        break;
      case "delivered":
        if (draft.state !== "shipped") return conflict(draft, event, ["shipped"]);
        draft.state = "delivered";
        result = { ok: true, order: draft, change: steps.change, effect: {} };
        break;
      case "cancelled":
        result = cancel(draft, event, steps);
        break;
      case "returned":
        result = returnLines(draft, event, steps);
        break;
    }
    if (result.ok && result.order.cashback && (event.type === "shipped" || event.type === "returned"))
      result = followCashback(order, result, event, version, steps);
    if (result.ok && result.order.campaigns && (event.type === "shipped" || event.type === "returned"))
      result = followCampaigns(order, result, event, version, steps);
  }
  if (result.ok) {
    result.order.updatedAt = ctx.now;
    if (event.sequence !== undefined) result.order.lastSequence = event.sequence;
  }
  return result;
}

/**
 * Events may arrive out of order. One that carries a sequence number ahead of the order's next
 * waits ("parked") until the ones before it arrive; one behind it was already superseded.
 */
export function sequenceDecision(
  order: Order | undefined,
  event: OrderEvent,
): "apply" | "park" | OrderRefusal {
  if (event.sequence === undefined) return "apply";
  const next = (order?.lastSequence ?? 0) + 1;
  if (event.sequence === next) return "apply";
  if (event.sequence > next) return "park";
  return refuse(
    "ORDER_SEQUENCE_CONFLICT",
    `order ${event.orderId} has applied sequence ${next - 1}; this event has ${event.sequence}`,
    {
      orderId: event.orderId,
      lastSequence: next - 1,
      sequence: event.sequence,
    },
  );
}
